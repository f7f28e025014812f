// The HTTP/2 server connection (RFC 9113): bytes in, request events out; responses in, frames
// out. Like http1::Connection it owns no socket, thread or Python: the owner feeds what the
// socket read, implements Handler, submits responses and writes output() to the socket.
//
// Inside (src/cpp/core/http2/): a pure frame codec, a reader that dispatches each frame through a
// handler table per frame type, stream states (RFC 9113 5.1), flow-control windows shared by
// connection and streams, HPACK (ruvicorn/hpack.hpp), and request validation (RFC 9113 8.1-8.3).
// Every protocol error is a value: a stream error resets one stream (RST_STREAM), a connection
// error ends the connection (GOAWAY); neither ever reaches the application as a request.
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

namespace ruvicorn::http2 {

// The client connection preface (RFC 9113 3.4).
inline constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Error codes (RFC 9113 7).
enum class ErrorCode : std::uint32_t {
  kNoError = 0x0,
  kProtocolError = 0x1,
  kInternalError = 0x2,
  kFlowControlError = 0x3,
  kSettingsTimeout = 0x4,
  kStreamClosed = 0x5,
  kFrameSizeError = 0x6,
  kRefusedStream = 0x7,
  kCancel = 0x8,
  kCompressionError = 0x9,
  kConnectError = 0xa,
  kEnhanceYourCalm = 0xb,
  kInadequateSecurity = 0xc,
  kHttp11Required = 0xd,
};
std::string_view error_code_name(ErrorCode code);  // "PROTOCOL_ERROR", ...

struct Error {
  ErrorCode code = ErrorCode::kNoError;
  std::uint32_t stream = 0;  // the stream concerned (0: none)
  bool connection = false;   // true: connection error (GOAWAY and close); false: stream error
  std::string_view reason;   // static text: GOAWAY debug data, logs
  constexpr explicit operator bool() const { return connection || code != ErrorCode::kNoError; }
};

// A complete, valid request head (RFC 9113 8.3.1; the fields in ruvicorn/field_request.hpp).
// All views are valid only during Handler::on_request.
struct Request : FieldRequest {
  std::uint32_t stream = 0;
  bool end_stream = false;  // no body follows
};

class Handler {
 public:
  virtual ~Handler() = default;
  // A request's header block is complete and valid. The body follows in on_data/on_end.
  virtual void on_request(const Request& request) = 0;
  // Body bytes (DATA payload without padding). Valid only during the call. The peer gets
  // flow-control credit for them only when the owner calls consume().
  virtual void on_data(std::uint32_t stream, std::string_view data) = 0;
  // The request body is complete (END_STREAM, possibly on a trailing HEADERS block, whose fields
  // are validated and dropped: ASGI has no request trailers).
  virtual void on_end(std::uint32_t stream) = 0;
  // The stream ended before its response did: the client reset it (RST_STREAM), or the server
  // reset it because of the client's bad input on it. Nothing more is delivered for it; the
  // application should see a disconnect. Its slot stays counted until release().
  virtual void on_reset(std::uint32_t stream, ErrorCode code) = 0;
  // Data queued on the stream was framed because its window or the connection's opened: the
  // owner compares pending(stream) to its high-water mark to wake a waiting sender.
  virtual void on_writable(std::uint32_t stream) = 0;
  // The client sent GOAWAY: no new streams will come; in-flight streams may finish.
  virtual void on_goaway(ErrorCode code, std::uint32_t last_stream) = 0;
  // A connection error: GOAWAY is already in output(). The owner writes output() and closes;
  // every open stream has had on_reset.
  virtual void on_error(const Error& error) = 0;
};

// Memory an owner provides for output (Connection::data with a buffer): a large body's frames
// are written once, straight into the object the owner hands to its socket.
class OutputBuffer {
 public:
  virtual ~OutputBuffer() = default;
  // `n` writable bytes, valid until the owner has written them out; nullptr when there is no
  // memory to be had (the core then writes into output() as usual).
  virtual char* allocate(std::size_t n) = 0;
};

// Per-connection statistics an owner may log or export.
struct Stats {
  std::uint64_t streams = 0;        // requests delivered to on_request
  std::uint64_t refused = 0;        // streams refused (over the concurrency limit, shutting down)
  std::uint64_t stream_errors = 0;  // RST_STREAM sent because of the client's input
  std::uint64_t client_resets = 0;  // RST_STREAM received
};

class Connection {
 public:
  // `limits` (h2_* fields, max_body_size, high_water) and `response` (Server, Date, default
  // headers) must outlive the connection. `connect_protocol`: announce
  // SETTINGS_ENABLE_CONNECT_PROTOCOL and accept extended CONNECT (RFC 8441) for "websocket".
  Connection(const Limits& limits, const ResponseConfig& response, bool connect_protocol);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues the server preface (SETTINGS, then a connection WINDOW_UPDATE when our connection
  // window is larger than the default). Call once, before the first feed().
  void start();
  // h2c upgrade (RFC 7540 3.2, still how HTTP/1.1 upgrades): `settings` is the decoded
  // HTTP2-Settings payload. Stream 1 is the upgraded request, half-closed (remote); its head and
  // body were delivered by HTTP/1.1. The client preface is still expected on feed(). Queues the
  // server preface like start(). An error: answer the HTTP/1.1 request with 400 instead.
  Error start_upgraded(std::string_view settings);

  // Consumes received bytes (the client preface first) and calls `handler` for what they
  // complete. `now`: monotonic seconds, for the rate budgets. Bytes of an incomplete frame are
  // kept (at most one frame). After a connection error nothing more is read.
  void feed(std::string_view data, Handler& handler, double now);

  // --- responses (the owner calls these from its application's send()) ---------------------
  // A response head is built field by field, so that each of the app's fields is validated as
  // it is read: begin_response(), response_field()*, end_response(). Field names are lower-cased;
  // connection-specific fields (connection, keep-alive, proxy-connection, transfer-encoding,
  // upgrade) are dropped (RFC 9113 8.2.2); Server, Date and the default headers of
  // ResponseConfig are added unless the app sent its own. content-length is recorded: sending more
  // or fewer DATA bytes than it says is an error. HEAD, 1xx, 204 and 304 responses carry no DATA
  // (a HEAD response keeps the app's content-length). Errors are app errors (status 500-class):
  // the owner raises in the app; nothing was queued. After an error from response_field() the
  // unfinished head is discarded (no end_response() follows); begin_response() always starts
  // afresh, discarding any unfinished head.
  HttpError begin_response(std::uint32_t stream, int status, bool head_request);
  HttpError response_field(std::string_view name, std::string_view value);
  HttpError end_response(bool end_stream);
  // An informational response (1xx, e.g. 103 Early Hints or 100 Continue) before the final one.
  HttpError informational(std::uint32_t stream, int status,
                          const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  // Body bytes: copied, then framed as the peer's stream and connection windows allow; the rest
  // waits in the stream's queue (pending()) and goes out as WINDOW_UPDATEs arrive. The owner
  // makes its app wait while pending() is above its high-water mark (Handler::on_writable).
  HttpError data(std::uint32_t stream, std::string_view bytes, bool end_stream);
  // The same without copying a large body into output(): the DATA frames the windows allow now
  // are written, after everything output() holds, into memory from `buffer`, whose allocate() is
  // called at most once, with the exact size. output() is then empty: the owner writes the
  // buffer's bytes before anything output() collects later. What the windows do not allow is
  // queued as by data(). Nothing is allocated when no frame can go now (a closed window,
  // pause_output(), data queued ahead).
  HttpError data(std::uint32_t stream, std::string_view bytes, bool end_stream,
                 OutputBuffer& buffer);
  // Trailers (a HEADERS frame with END_STREAM) after the body; pseudo-fields are refused.
  HttpError trailers(std::uint32_t stream,
                     const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  // An error response generated by the server itself (400, 413, 500, 503, ...): a complete
  // response with a short text body, like http1::ResponseWriter::error_response.
  void error_response(std::uint32_t stream, const HttpError& error);

  // Resets a stream (RST_STREAM), e.g. when its app failed after starting the response. Queued
  // response bytes are dropped. No on_reset follows for it.
  void reset(std::uint32_t stream, ErrorCode code);
  // The app read `n` body bytes of the stream: returns flow-control credit to the client
  // (WINDOW_UPDATE, batched: sent once enough credit has accumulated).
  void consume(std::uint32_t stream, std::size_t n);
  // The owner is done with the stream (its application task ended): the stream stops counting
  // toward max concurrent streams once it is also closed on the wire. Until then a reset or
  // finished stream still holds its slot (CVE-2025-8671, MadeYouReset).
  void release(std::uint32_t stream);

  // Bytes queued on a stream that could not be framed yet (window exhausted, output paused).
  std::size_t pending(std::uint32_t stream) const;
  // Is the stream still able to carry a response (not reset, not closed, not unknown)?
  bool writable(std::uint32_t stream) const;

  // Graceful shutdown: GOAWAY(NO_ERROR) with the last stream id processed; later streams are
  // refused. Streams in flight may finish. Calling it again does nothing.
  void goaway();
  // A keep-alive PING (RFC 9113 6.7); ping_outstanding() until its ACK arrives.
  void ping();
  bool ping_outstanding() const;
  // The owner's transport cannot take more (pause_writing): data stays queued in streams rather
  // than being framed into output(). resume_output() frames what the windows allow.
  void pause_output();
  void resume_output();

  // Bytes to write to the socket. The owner writes them and clears the buffer (keeping its
  // memory for the next frames while the connection is busy), or gives it back to the thread's
  // pool once written (ruvicorn/buffer_pool.hpp: recycle): every call that may write takes a
  // pooled one again, so an idle connection need hold no output buffer.
  std::string& output() { return out_; }
  // The connection keeps what its requests use (spare streams and their slots, the HPACK
  // decoder's arena, field lists, the response head's buffers), each within a byte bound, from
  // one request to the next: a busy connection then makes no allocation or pool visit per
  // request. trim() gives all of it (and the emptied output buffer) back to the thread's pools:
  // call it when the connection has no stream open and is not expected to be busy soon (after
  // a lone request, or a while without one), so that an idle connection costs little more than
  // its HPACK tables. Not during feed().
  void trim();

  // Streams that hold a slot (open, half-closed, or closed but not released).
  std::size_t active_streams() const;
  // Nothing more will be read (GOAWAY sent because of an error, or the client's GOAWAY with no
  // active stream left): the owner closes after writing output().
  bool done() const;
  // A header block has started but not ended (CONTINUATION pending); the owner enforces
  // --timeout-request-header with it and calls timeout_header_block() when it expires.
  bool header_block_open() const;
  void timeout_header_block();
  const Stats& stats() const;

 private:
  class Impl;
  Impl& writing();  // the Impl, for a call that may write: output() taken from the pool first
  std::unique_ptr<Impl> impl_;
  std::string out_;
};

}  // namespace ruvicorn::http2
