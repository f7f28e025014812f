// Connection::Impl, the HTTP/3 server connection behind the pimpl of ruvicorn/http3.hpp. Its
// member functions are spread over files by concern:
//   connection.cpp  lifecycle: our control stream, GOAWAY, errors, budgets, the public API
//   control.cpp     the client's unidirectional streams: control, QPACK encoder and decoder
//   request.cpp     request streams: frames, HEADERS -> Request, body, trailers, FIN
//   response.cpp    response heads, bodies, trailers, error responses, resets
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "http3/frame.hpp"
#include "http3/frame_reader.hpp"
#include "ruvicorn/http3.hpp"
#include "ruvicorn/qpack.hpp"
#include "util/budget.hpp"
#include "util/field_section.hpp"

namespace ruvicorn::http3 {

// Control frames (SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH) longer than this are refused
// (H3_EXCESSIVE_LOAD) rather than buffered: real ones take a few dozen bytes.
inline constexpr std::size_t kMaxControlFrame = 16 * 1024;

// Which stream ids of one kind (client bidirectional, client unidirectional) have been seen:
// every id below `floor` has, and those above it are listed. QUIC opens ids in order, so the list
// holds only those opened out of order, at most the stream limit's worth.
class SeenIds {
 public:
  // Marks `id` seen; false when it already was.
  bool insert(std::uint64_t id) {
    const std::uint64_t n = id / 4;
    if (n < floor_ || !above_.insert(n).second) return false;
    while (above_.erase(floor_) != 0) ++floor_;
    return true;
  }

 private:
  std::uint64_t floor_ = 0;
  std::unordered_set<std::uint64_t> above_;
};

struct Stream {
  enum class Read : std::uint8_t {
    kHead,      // waiting for the request's HEADERS
    kBody,      // DATA, or trailers
    kTrailers,  // trailers read: only the FIN (or unknown frames) may follow
    kDiscard,   // refused or reset: what still comes is dropped
  };
  enum class Response : std::uint8_t { kNone, kBody, kEnded };

  std::uint64_t id = 0;
  Read read = Read::kHead;
  FrameReader frames;
  std::string block;      // the HEADERS payload being collected
  bool collecting = false;
  double opened = 0;      // when its first bytes came (--timeout-request-header)

  bool delivered = false;       // on_request was called: holds a slot until release()
  bool released = false;
  bool reset_notified = false;  // on_reset was called
  bool remote_done = false;     // FIN received, or reading stopped (reset, STOP_SENDING sent)
  bool local_done = false;      // FIN written, or RESET_STREAM sent
  bool reset = false;           // reset by either side: nothing more goes out

  bool has_content_length = false;
  std::uint64_t content_length = 0;
  std::uint64_t received = 0;    // DATA payload bytes so far
  std::uint64_t unconsumed = 0;  // delivered by on_data, not yet consume()d

  Response response = Response::kNone;
  bool no_body = false;  // HEAD, 204, 304: the FIN went with the HEADERS
  bool has_length = false;
  std::uint64_t length = 0;
  std::uint64_t submitted = 0;
};

struct UniStream {
  enum class Type : std::uint8_t { kUntyped, kControl, kEncoder, kDecoder };
  Type type = Type::kUntyped;
  std::string type_bytes;  // a stream type varint split across reads
  FrameReader frames;      // control stream
  std::string payload;     // the control frame being collected
  bool collecting = false;
};

class Connection::Impl {
 public:
  Impl(const Limits& limits, const ResponseConfig& response, std::vector<Output>& out);

  // --- connection.cpp ---
  void start(std::uint64_t control_stream);
  void goaway();
  void fail(const Error& error);                  // connection error
  void stream_error(Stream& s, ErrorCode code);   // the client's bad input on one stream
  bool glitch();                                  // false: the budget ran out, connection failed
  void expire_heads(double now, double timeout);
  bool failed() const { return failed_; }
  const Error& error() const { return error_; }
  bool done() const;
  std::size_t active_streams() const { return slots_; }
  std::size_t unconsumed() const { return unconsumed_; }
  const Stats& stats() const { return stats_; }

  void feed(std::uint64_t id, std::string_view data, bool fin, Handler& handler, double now);
  void stream_reset(std::uint64_t id, Handler& handler, double now);
  void stop_sending(std::uint64_t id, Handler& handler, double now);

  // --- response.cpp ---
  HttpError begin_response(std::uint64_t id, int status, bool head_request);
  HttpError response_field(std::string_view name, std::string_view value);
  HttpError end_response(bool end_stream);
  HttpError informational(std::uint64_t id, int status,
                          const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  HttpError data(std::uint64_t id, std::string_view bytes, bool end_stream);
  HttpError trailers(std::uint64_t id,
                     const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  void error_response(std::uint64_t id, const HttpError& error);
  void reset(std::uint64_t id, ErrorCode code);
  void consume(std::uint64_t id, std::size_t n);
  void release(std::uint64_t id);
  bool writable(std::uint64_t id) const;

 private:
  // control.cpp
  void feed_uni(std::uint64_t id, std::string_view data, bool fin);
  void control_frames(UniStream& u, std::string_view data);
  void control_frame_start(UniStream& u, const FrameHeader& h);
  void control_frame_end(const FrameHeader& h, std::string_view payload);
  void critical_stream_closed();

  // request.cpp
  void feed_request(std::uint64_t id, std::string_view data, bool fin);
  Stream* open_stream(std::uint64_t id);
  void request_frames(Stream& s, std::string_view data);
  void request_frame_start(Stream& s, const FrameHeader& h);
  void request_payload(Stream& s, std::string_view chunk);
  void request_frame_end(Stream& s);
  void on_head(Stream& s);
  void on_trailers(Stream& s);
  void end_of_request(Stream& s);
  void body_too_large(Stream& s);
  void refuse(Stream& s, const HttpError& error);  // answered by the core, never delivered
  void client_abort(Stream& s, bool stop_sending);

  // response.cpp
  void write_section(Stream& s, int status, bool builtins, bool fin);
  void send_head(Stream& s, int status, bool head_request, bool end_stream);
  void write_error_response(Stream& s, const HttpError& error);

  // connection.cpp
  Stream* find(std::uint64_t id);
  const Stream* find(std::uint64_t id) const;
  std::string& stream_out(std::uint64_t id);  // the output entry to append `id`'s bytes to
  void end_stream_out(Stream& s);               // FIN after what was written
  void signal(Output::Kind kind, std::uint64_t id, ErrorCode code);
  void reset_stream(Stream& s, ErrorCode code);  // RESET_STREAM, and STOP_SENDING if reading
  void notify_reset(Stream& s);
  void forget_unconsumed(Stream& s);
  void maybe_retire(std::uint64_t id);

  const Limits& limits_;
  const ResponseConfig& config_;
  LowerCaseDefaults defaults_;
  std::vector<Output>& out_;
  qpack::Decoder decoder_;
  qpack::EncoderStreamReader encoder_stream_;
  qpack::DecoderStreamReader decoder_stream_;

  Handler* handler_ = nullptr;  // during feed() only
  double now_ = 0;
  bool started_ = false;
  bool failed_ = false;
  Error error_;
  std::uint64_t control_out_ = 0;  // our control stream

  // The client's unidirectional streams still being typed or critical; the ids of those
  // ignored are only remembered as seen.
  std::unordered_map<std::uint64_t, UniStream> uni_;
  SeenIds uni_seen_;
  bool control_seen_ = false, encoder_seen_ = false, decoder_seen_ = false;
  bool settings_received_ = false;
  Settings peer_settings_;
  bool max_push_id_received_ = false;
  std::uint64_t max_push_id_ = 0;
  std::uint64_t peer_goaway_ = UINT64_MAX;

  // Request streams.
  std::unordered_map<std::uint64_t, Stream> streams_;
  SeenIds request_seen_;
  std::uint64_t next_request_ = 0;  // one past the highest request stream id seen (in ids / 4)
  std::size_t slots_ = 0;
  std::uint64_t unconsumed_ = 0;
  std::uint64_t erased_ = 0;  // streams erased so far: a cached Stream* is still valid if equal

  bool goaway_sent_ = false;
  std::uint64_t goaway_id_ = 0;  // request streams from this id on are refused
  bool goaway_received_ = false;
  Budget reset_budget_;
  Budget glitch_budget_;
  Stats stats_;

  // Request decoding scratch (views into it live until the next section).
  std::vector<Header> fields_;
  std::vector<Header> request_headers_;
  std::string request_arena_;
  std::string section_;     // response section scratch
  std::string error_body_;  // the core's error responses

  // The response head being built (begin_response .. end_response).
  struct Head {
    bool active = false;
    bool noop = false;  // the stream was reset: accept and drop
    std::uint64_t stream = 0;
    int status = 0;
    bool head_request = false;
    FieldSection section;
  } head_;
};

}  // namespace ruvicorn::http3
