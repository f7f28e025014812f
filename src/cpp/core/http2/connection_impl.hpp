// Connection::Impl, the HTTP/2 server connection behind the pimpl of ruvicorn/http2.hpp. Its
// member functions are spread over files by concern:
//   connection.cpp  lifecycle: preface, settings we announce, GOAWAY, PING, errors, the public API
//   reader.cpp      feed(): the frame reader state machine and one handler per frame type
//   response.cpp    response heads, informational responses, trailers, error responses
//   sender.cpp      DATA: framing, queues, windows, round-robin scheduling; body credit
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/budget.hpp"
#include "util/field_section.hpp"
#include "util/request_fields.hpp"
#include "http2/frame.hpp"
#include "http2/stream_table.hpp"
#include "http2/window.hpp"
#include "ruvicorn/buffer_pool.hpp"
#include "ruvicorn/hpack.hpp"
#include "ruvicorn/http2.hpp"

namespace ruvicorn::http2 {

// How many closed stream ids are remembered to answer late frames exactly (RFC 9113 5.1): those
// we reset (late frames ignored) and those that closed normally (STREAM_CLOSED rather than
// PROTOCOL_ERROR). Older ids get the generic answer; nothing else is kept for closed streams.
inline constexpr std::size_t kRememberedClosed = 32;

using IdPool = BufferPool<std::vector<std::uint32_t>>;

// Appends to a list of stream ids that takes its memory from the thread's pool when it has none.
inline void push_id(std::vector<std::uint32_t>& ids, std::uint32_t id) {
  if (ids.capacity() == 0) IdPool::take(ids);
  ids.push_back(id);
}

// Stream ids collected during one rare call (a connection error): a list from the thread's pool
// once one is pushed, given back at the call's end.
struct IdList {
  IdList() = default;
  ~IdList() {
    ids.clear();
    IdPool::give(ids, kBufferPoolBytes);
  }
  void push(std::uint32_t id) { push_id(ids, id); }
  IdList(const IdList&) = delete;
  IdList& operator=(const IdList&) = delete;
  std::vector<std::uint32_t> ids;
};

// What a connection reuses from one request to the next: a header block's fields and the
// request made from them, and the lists of flush_ready()'s passes. Taken from the thread's pools
// with the first header block (or window) after an idle spell, kept while the connection is
// busy, given back by trim(): an idle connection holds none of it, and a busy one visits no
// pool per request.
struct Scratch {
  std::vector<Header> fields;           // a header block's, as decoded
  std::vector<Header> request_headers;  // the request's regular fields
  std::string request_arena;            // their joined cookie crumbs
  std::vector<std::uint32_t> retire, ready_next, blocked;  // flush_ready(): an id per stream
  // Each list's memory back to its pool (freed above `max_bytes`), then this to its own.
  static void give_back(std::unique_ptr<Scratch> scratch, std::size_t max_bytes);
};

class Connection::Impl {
 public:
  Impl(const Limits& limits, const ResponseConfig& response, bool connect_protocol,
       std::string& out);

  // --- connection.cpp ---
  void start();
  Error start_upgraded(std::string_view settings);
  void goaway();
  void ping();
  void fail(const Error& error);          // connection error: GOAWAY, on_reset*, on_error
  void stream_error(std::uint32_t id, ErrorCode code);  // RST_STREAM because of the client
  bool glitch();                          // false: the budget ran out and the connection failed
  void timeout_header_block();
  bool done() const;
  void trim();

  // --- reader.cpp ---
  void feed(std::string_view data, Handler& handler, double now);

  // --- response.cpp ---
  HttpError begin_response(std::uint32_t id, int status, bool head_request);
  HttpError response_field(std::string_view name, std::string_view value);
  HttpError end_response(bool end_stream);
  HttpError informational(std::uint32_t id, int status,
                          const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  HttpError trailers(std::uint32_t id,
                     const std::vector<std::pair<std::string_view, std::string_view>>& fields);
  void error_response(std::uint32_t id, const HttpError& error);

  // --- sender.cpp ---
  HttpError data(std::uint32_t id, std::string_view bytes, bool end_stream,
                 OutputBuffer* buffer);
  void reset(std::uint32_t id, ErrorCode code);
  void consume(std::uint32_t id, std::size_t n);
  void release(std::uint32_t id);
  std::size_t pending(std::uint32_t id) const;
  bool writable(std::uint32_t id) const;
  void pause_output() { paused_ = true; }
  void resume_output();

  std::size_t active_streams() const { return streams_.size(); }
  bool ping_outstanding() const { return ping_outstanding_; }
  bool header_block_open() const { return block_stream_ != 0; }
  const Stats& stats() const { return stats_; }

 private:
  enum class ReadState { kPreface, kFirstSettings, kFrames, kClosed };
  using FrameHandler = void (Impl::*)(const FrameHeader&, std::string_view);

  // reader.cpp
  void read_frames(std::string_view& data);
  void process_frame(const FrameHeader& h, std::string_view payload);
  void on_data_frame(const FrameHeader& h, std::string_view payload);
  void on_headers_frame(const FrameHeader& h, std::string_view payload);
  void on_priority_frame(const FrameHeader& h, std::string_view payload);
  void on_rst_stream_frame(const FrameHeader& h, std::string_view payload);
  void on_settings_frame(const FrameHeader& h, std::string_view payload);
  void on_push_promise_frame(const FrameHeader& h, std::string_view payload);
  void on_ping_frame(const FrameHeader& h, std::string_view payload);
  void on_goaway_frame(const FrameHeader& h, std::string_view payload);
  void on_window_update_frame(const FrameHeader& h, std::string_view payload);
  void on_continuation_frame(const FrameHeader& h, std::string_view payload);
  void on_header_block(std::uint32_t id, std::string_view block, bool end_stream,
                       const Error& priority_error);
  void read_header_block(std::uint32_t id, std::string_view block, bool end_stream,
                         const Error& priority_error, Scratch& b);
  void open_stream(std::uint32_t id, bool end_stream, bool oversize, Scratch& b);
  Stream* new_stream(std::uint32_t id);
  void on_trailer_block(Stream& s, bool end_stream, bool oversize,
                        const std::vector<Header>& fields);
  void body_too_large(Stream& s);
  void end_request_body(std::uint32_t id);
  void apply_settings(const SettingsFrame& settings);
  void deliver_writable();
  bool closed() const { return read_state_ == ReadState::kClosed; }
  bool idle(std::uint32_t id) const {  // RFC 9113 5.1: never opened (we open no even streams)
    return (id % 2 == 0 || id > highest_stream_) && streams_.find(id) == nullptr;
  }
  // Our settings, clamped to what the protocol can express.
  std::int64_t our_initial_window() const {
    return std::min<std::int64_t>(limits_.h2_initial_stream_window, Window::kMax);
  }
  std::uint32_t our_max_frame() const {
    return std::clamp(limits_.h2_max_frame_size, kDefaultMaxFrameSize, kLargestMaxFrameSize);
  }
  std::int64_t connection_window() const {
    return std::clamp<std::int64_t>(limits_.h2_initial_connection_window, kDefaultWindow,
                                    Window::kMax);
  }

  // connection.cpp
  Scratch& scratch();  // taken from the pools when the connection first needs it
  void write_control_done(std::size_t before);  // accounts control output while paused
  void remember_closed(std::uint32_t id, bool reset_by_us);
  enum class Closed { kNotRemembered, kNormally, kResetByUs };
  Closed recently_closed(std::uint32_t id) const;
  void notify_reset(Stream& s, ErrorCode code);  // on_reset, once, for a delivered stream

  // response.cpp
  HttpError add_field(std::string_view name, std::string_view value, bool response_head);
  void encode_block(Stream& s, int status, bool builtins, bool end_stream);
  void send_head(Stream& s, int status, bool head_request, bool end_stream);
  void write_trailers_now(Stream& s);
  void write_error_response(Stream& s, const HttpError& error);

  // sender.cpp
  void send_body(Stream& s, std::string_view bytes, bool end_stream, OutputBuffer* buffer);
  // Frames what the windows allow now (true: the stream ended), into output() or `buffer`.
  bool frame_from(Stream& s, std::string_view& bytes, bool end_stream);
  bool frame_into(Stream& s, std::string_view& bytes, bool end_stream, OutputBuffer& buffer);
  std::size_t sendable_now(const Stream& s, std::size_t n) const;  // body bytes the windows allow
  void write_data_frame(Stream& s, std::string_view chunk, bool end_stream);
  void sent_data(Stream& s, std::size_t n);  // window and WINDOW_UPDATE-allowance accounting
  void flush_ready();
  void make_ready(Stream& s);
  void on_local_end(Stream& s);
  void drop_queue(Stream& s);
  void mark_reset(Stream& s, bool by_us);
  void maybe_retire(std::uint32_t id);
  void add_credit(Stream& s, std::size_t n);   // stream credit (padding, consumption)
  void add_connection_credit(std::size_t n);
  void forget_unconsumed(Stream& s);           // its body bytes will never be consumed
  void deliver_body_accounting(Stream& s, std::size_t payload);

  const Limits& limits_;
  const ResponseConfig& config_;
  const bool connect_protocol_;
  std::string& out_;
  hpack::Decoder decoder_;
  hpack::Encoder encoder_;

  // Reader. (Members are grouped so that little is lost to padding: an idle connection is
  // mostly this object.)
  ReadState read_state_ = ReadState::kPreface;
  bool started_ = false;
  bool in_feed_ = false;
  std::uint32_t preface_seen_ = 0;  // bytes of the client preface (24)
  std::string partial_;            // an incomplete frame (at most one)
  Handler* handler_ = nullptr;     // during feed() only
  double now_ = 0;

  // The header block being assembled from HEADERS + CONTINUATION (RFC 9113 6.10).
  std::uint32_t block_stream_ = 0;  // 0: none open
  bool block_end_stream_ = false;
  ErrorCode block_priority_error_ = ErrorCode::kNoError;  // a stream error found in its HEADERS
  std::uint32_t block_continuations_ = 0;
  std::string block_;

  // Settings.
  std::uint32_t peer_max_frame_ = kDefaultMaxFrameSize;
  std::int64_t peer_initial_window_ = kDefaultWindow;   // for our sending
  std::int64_t recv_initial_window_ = kDefaultWindow;   // what the client assumes for new streams

  // Connection windows and body credit.
  Window send_window_{kDefaultWindow};
  Window recv_window_{kDefaultWindow};
  std::uint64_t unconsumed_ = 0;   // over all streams
  std::uint64_t withheld_ = 0;     // connection credit held back while unconsumed_ > window
  std::uint32_t connection_credit_ = 0;
  std::uint32_t settings_unacked_ = 0;

  // Streams.
  StreamTable streams_;
  std::uint32_t highest_stream_ = 0;  // highest client stream id seen
  std::uint32_t closed_next_ = 0;
  std::array<std::uint32_t, kRememberedClosed> closed_{};  // id << 1 | reset by us; 0: none
  std::vector<std::uint32_t> ready_;     // streams with something sendable (pooled; trim())
  std::vector<std::uint32_t> writable_;  // on_writable owed at the end of feed()
  std::unique_ptr<Scratch> scratch_;     // while busy (trim())

  // Connection state.
  bool goaway_sent_ = false;
  bool goaway_received_ = false;
  bool paused_ = false;
  bool ping_outstanding_ = false;
  std::size_t control_backlog_ = 0;
  std::uint64_t ping_counter_ = 0;
  char ping_opaque_[kPingSize] = {};
  Budget reset_budget_;
  Budget glitch_budget_;
  Budget control_budget_;
  std::uint64_t window_update_allowance_ = 0;  // WINDOW_UPDATEs the DATA we sent may earn
  Stats stats_;

  // Configured default headers, names lower-cased once.
  LowerCaseDefaults defaults_;

  // The response head being built (begin_response .. end_response).
  struct Head {
    bool active = false;
    bool noop = false;           // the stream was reset: accept and drop
    std::uint32_t stream = 0;
    int status = 0;
    bool head_request = false;
    FieldSection section;
  } head_;

};

}  // namespace ruvicorn::http2
