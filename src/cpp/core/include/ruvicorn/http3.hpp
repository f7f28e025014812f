// The HTTP/3 server connection (RFC 9114) over streams a QUIC library carries: stream bytes in,
// request events out; responses in, stream bytes and stream signals out. Like http2::Connection it
// owns no socket, no QUIC state, no thread and no Python: the owner runs QUIC (handshake, loss
// recovery, flow control), feeds each stream's bytes, implements Handler, submits responses and
// hands output() to its QUIC connection.
//
// Inside (src/cpp/core/http3/): a frame codec (QUIC variable-length integers, frame headers,
// SETTINGS), a reader per stream (request streams; the client's control, QPACK encoder and decoder
// streams; unknown stream types ignored), QPACK without a dynamic table (ruvicorn/qpack.hpp), and
// the request validation HTTP/2 uses (util/request_fields). Every protocol error is a value: a
// stream error resets one stream (RESET_STREAM and STOP_SENDING), a connection error closes the
// connection with the RFC 9114 8.1 / RFC 9204 6 code; neither reaches the application as a request.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruvicorn/error.hpp"
#include "ruvicorn/field_request.hpp"
#include "ruvicorn/header.hpp"
#include "ruvicorn/limits.hpp"
#include "ruvicorn/response.hpp"

namespace ruvicorn::http3 {

// Error codes (RFC 9114 8.1; RFC 9204 6 for the QPACK ones).
enum class ErrorCode : std::uint64_t {
  kNoError = 0x100,
  kGeneralProtocolError = 0x101,
  kInternalError = 0x102,
  kStreamCreationError = 0x103,
  kClosedCriticalStream = 0x104,
  kFrameUnexpected = 0x105,
  kFrameError = 0x106,
  kExcessiveLoad = 0x107,
  kIdError = 0x108,
  kSettingsError = 0x109,
  kMissingSettings = 0x10a,
  kRequestRejected = 0x10b,
  kRequestCancelled = 0x10c,
  kRequestIncomplete = 0x10d,
  kMessageError = 0x10e,
  kConnectError = 0x10f,
  kVersionFallback = 0x110,
  kQpackDecompressionFailed = 0x200,
  kQpackEncoderStreamError = 0x201,
  kQpackDecoderStreamError = 0x202,
};
std::string_view error_code_name(ErrorCode code);  // "H3_FRAME_UNEXPECTED", ...

struct Error {
  ErrorCode code = ErrorCode::kNoError;
  std::uint64_t stream = 0;  // the stream concerned
  bool connection = false;   // true: close the connection with `code`; false: a stream error
  std::string_view reason;   // static text: the CONNECTION_CLOSE reason phrase, logs
  constexpr explicit operator bool() const { return connection || code != ErrorCode::kNoError; }
};

// A complete, valid request head (RFC 9114 4.3.1; the fields in ruvicorn/field_request.hpp). All
// views are valid only during Handler::on_request.
struct Request : FieldRequest {
  std::uint64_t stream = 0;
  bool end_stream = false;  // the stream ended with its HEADERS: no body follows
};

class Handler {
 public:
  virtual ~Handler() = default;
  // A request's HEADERS is complete and valid. The body follows in on_data/on_end.
  virtual void on_request(const Request& request) = 0;
  // Body bytes (DATA payload), valid only during the call. The owner calls consume() as its
  // application reads them (unconsumed() is what the connection holds).
  virtual void on_data(std::uint64_t stream, std::string_view data) = 0;
  // The request body is complete (the stream's FIN; trailers are validated and dropped).
  virtual void on_end(std::uint64_t stream) = 0;
  // The stream ended before its response did: the client reset it or asked us to stop sending,
  // or the server reset it because of the client's bad input on it. Nothing more is delivered for
  // it; the application should see a disconnect. Its slot stays counted until release().
  virtual void on_reset(std::uint64_t stream) = 0;
  // The client sent GOAWAY: it will open no new request streams.
  virtual void on_goaway() = 0;
  // A connection error: the owner closes the QUIC connection with error().code (an application
  // CONNECTION_CLOSE). Every delivered stream has had on_reset.
  virtual void on_error(const Error& error) = 0;
};

// What the owner hands to its QUIC connection, in order: bytes for a stream (with its FIN), or a
// stream signal (RESET_STREAM: we stop sending; STOP_SENDING: we stop reading).
struct Output {
  enum class Kind : std::uint8_t { kData, kReset, kStopSending };
  Kind kind = Kind::kData;
  std::uint64_t stream = 0;
  std::string data;  // kData
  bool fin = false;  // kData: the stream ends after `data`
  std::uint64_t code = 0;  // kReset, kStopSending: an ErrorCode
};

struct Stats {
  std::uint64_t streams = 0;        // requests delivered to on_request
  std::uint64_t refused = 0;        // streams refused (over the concurrency limit, after GOAWAY)
  std::uint64_t stream_errors = 0;  // streams reset because of the client's input
  std::uint64_t client_resets = 0;  // RESET_STREAM or STOP_SENDING received on request streams
};

class Connection {
 public:
  // `limits` (h3_* fields, max_body_size, max_header_count and the HTTP/2 abuse budgets, which
  // bound HTTP/3 too) and `response` (Server, Date, default headers) must outlive the connection.
  Connection(const Limits& limits, const ResponseConfig& response);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues our control stream's type and SETTINGS (RFC 9114 6.2.1, 7.2.4) on `control_stream`, a
  // unidirectional stream the owner opened. Call once, after the handshake.
  void start(std::uint64_t control_stream);

  // Bytes received on a stream the client opened: bidirectional (a request stream) or
  // unidirectional (control, QPACK encoder or decoder stream, or an unknown type, ignored).
  // `fin`: the stream ended there. `now`: monotonic seconds, for the abuse budgets and the
  // head deadline. After a connection error nothing more is read.
  void feed(std::uint64_t stream, std::string_view data, bool fin, Handler& handler, double now);
  // The client reset its sending side of a stream (RESET_STREAM) or asked us to stop sending on
  // it (STOP_SENDING): a request in progress ends (on_reset); a critical stream ends the
  // connection.
  void stream_reset(std::uint64_t stream, Handler& handler, double now);
  void stop_sending(std::uint64_t stream, Handler& handler, double now);

  // --- responses (the owner calls these from its application's send()) ---------------------
  // As http2::Connection: a head is built field by field (begin_response, response_field*,
  // end_response); names are lower-cased, connection-specific fields dropped (RFC 9114 4.2),
  // Server, Date and the default headers added unless the app sent its own; content-length is
  // recorded and enforced; HEAD, 1xx, 204 and 304 carry no DATA. Errors are app errors (500):
  // nothing was queued.
  HttpError begin_response(std::uint64_t stream, int status, bool head_request);
  HttpError response_field(std::string_view name, std::string_view value);
  HttpError end_response(bool end_stream);
  HttpError informational(std::uint64_t stream, int status,
                          const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  // Body bytes, framed as one DATA frame (flow control is the QUIC library's).
  HttpError data(std::uint64_t stream, std::string_view bytes, bool end_stream);
  // Trailers: a trailing HEADERS frame, then the stream's end.
  HttpError trailers(std::uint64_t stream,
                     const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  // A complete error response of the server itself (400, 413, 500, 503, ...).
  void error_response(std::uint64_t stream, const HttpError& error);
  // Resets a stream (e.g. its app failed after starting the response): RESET_STREAM, and
  // STOP_SENDING while the request is still coming. No on_reset follows for it.
  void reset(std::uint64_t stream, ErrorCode code);
  // The app read `n` body bytes of the stream.
  void consume(std::uint64_t stream, std::size_t n);
  // The owner is done with the stream (its application task ended): its slot is free.
  void release(std::uint64_t stream);
  // Is the stream still able to carry a response (not reset, not ended, not unknown)?
  bool writable(std::uint64_t stream) const;

  // Graceful shutdown: GOAWAY with the first request stream not processed; later streams are
  // rejected (H3_REQUEST_REJECTED). Streams in flight may finish. Calling it again does nothing.
  void goaway();
  // Resets request streams whose HEADERS has been arriving for `timeout` seconds or more
  // (--timeout-request-header): a trickled head does not hold a stream.
  void expire_heads(double now, double timeout);

  // What to hand to the QUIC connection; the owner takes the entries and clears the vector.
  std::vector<Output>& output() { return out_; }

  // A connection error happened (error() says which); nothing more is read or written.
  bool failed() const;
  const Error& error() const;
  // Our GOAWAY was sent, or the client's received, and no stream holds a slot.
  bool done() const;
  // Request streams that hold a slot: from their first byte until the core is done with them
  // (refused, answered by the core, reset) or, once delivered, until release().
  std::size_t active_streams() const;
  // Request body bytes delivered by on_data and not yet consume()d, over all streams.
  std::size_t unconsumed() const;
  const Stats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<Output> out_;
};

}  // namespace ruvicorn::http3
