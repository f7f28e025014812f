// The connection's lifecycle (our preface, GOAWAY, PING, connection and stream errors, the abuse
// budgets) and the public Connection API, which forwards to Impl.
#include <algorithm>

#include "http2/connection_impl.hpp"
#include "ruvicorn/buffer_pool.hpp"
#include "util/free_memory.hpp"

namespace ruvicorn::http2 {

Connection::Impl::Impl(const Limits& limits, const ResponseConfig& response, bool connect_protocol,
                       std::string& out)
    : limits_(limits),
      config_(response),
      connect_protocol_(connect_protocol),
      out_(out),
      decoder_(limits.h2_header_table_size, limits.h2_max_header_list_size),
      encoder_(kDefaultHeaderTableSize),
      reset_budget_(limits.h2_reset_burst, limits.h2_reset_rate),
      glitch_budget_(limits.h2_glitch_burst, limits.h2_glitch_rate),
      control_budget_(limits.h2_control_burst, limits.h2_control_rate),
      defaults_(response) {}

void Connection::Impl::start() {
  if (started_) return;
  started_ = true;
  // RFC 9113 3.4: the server preface is a SETTINGS frame; values equal to the defaults are left
  // out, and push is turned off explicitly (we never push).
  Setting settings[8];
  std::size_t n = 0;
  if (limits_.h2_header_table_size != kDefaultHeaderTableSize)
    settings[n++] = {setting::kHeaderTableSize, limits_.h2_header_table_size};
  settings[n++] = {setting::kEnablePush, 0};
  settings[n++] = {setting::kMaxConcurrentStreams, limits_.h2_max_concurrent_streams};
  if (our_initial_window() != kDefaultWindow)
    settings[n++] = {setting::kInitialWindowSize, static_cast<std::uint32_t>(our_initial_window())};
  if (our_max_frame() != kDefaultMaxFrameSize)
    settings[n++] = {setting::kMaxFrameSize, our_max_frame()};
  settings[n++] = {setting::kMaxHeaderListSize, limits_.h2_max_header_list_size};
  if (connect_protocol_) settings[n++] = {setting::kEnableConnectProtocol, 1};
  write_settings(out_, settings, n);
  ++settings_unacked_;
  // The connection window has no setting: it grows with a WINDOW_UPDATE (6.9.2).
  const std::int64_t window = connection_window();
  if (window > kDefaultWindow) {
    write_window_update(out_, 0, static_cast<std::uint32_t>(window - kDefaultWindow));
    recv_window_.value = window;
  }
}

Error Connection::Impl::start_upgraded(std::string_view settings) {
  // RFC 7540 3.2.1: HTTP2-Settings is a SETTINGS payload, acknowledged implicitly by the 101.
  if (settings.size() % kSettingSize != 0)
    return Error{ErrorCode::kFrameSizeError, 0, true, "HTTP2-Settings length not a multiple of 6"};
  SettingsFrame frame;
  frame.entries = settings;
  if (Error e = check_settings(frame)) return e;
  apply_settings(frame);
  // Stream 1 is the upgraded request: half-closed (remote), its head and body already delivered.
  Stream* s = streams_.insert(1);
  s->send_window.value = peer_initial_window_;
  s->recv_window.value = recv_initial_window_;
  s->remote_closed = true;
  s->delivered = true;
  highest_stream_ = 1;
  ++stats_.streams;
  start();
  return {};
}

void Connection::Impl::goaway() {
  if (goaway_sent_ || closed()) return;
  goaway_sent_ = true;
  if (!started_) start();
  write_goaway(out_, highest_stream_, ErrorCode::kNoError, {});
}

void Connection::Impl::ping() {
  if (ping_outstanding_ || closed()) return;
  if (!started_) start();
  std::uint64_t v = ++ping_counter_;
  for (char& c : ping_opaque_) {
    c = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  write_ping(out_, std::string_view(ping_opaque_, kPingSize), false);
  ping_outstanding_ = true;
}

void Connection::Impl::fail(const Error& error) {
  if (closed()) return;
  read_state_ = ReadState::kClosed;
  block_stream_ = 0;
  write_goaway(out_, highest_stream_, error.code, error.reason);
  // Every stream the owner still runs learns that it is over before on_error.
  IdList open;
  streams_.for_each([&open](Stream& s) {
    if (!s.reset_notified && !(s.local_closed && s.remote_closed)) open.push(s.id);
  });
  for (std::uint32_t id : open.ids) {
    Stream* s = streams_.find(id);
    if (s == nullptr) continue;
    mark_reset(*s, true);
    notify_reset(*s, error.code);
  }
  if (handler_) handler_->on_error(error);
}

void Connection::Impl::stream_error(std::uint32_t id, ErrorCode code) {
  ++stats_.stream_errors;
  const std::size_t before = out_.size();
  write_rst_stream(out_, id, code);
  write_control_done(before);
  if (Stream* s = streams_.find(id)) {
    mark_reset(*s, true);
    notify_reset(*s, code);  // may release (and retire) the stream: `s` is not used after
    maybe_retire(id);
  } else {
    remember_closed(id, true);
  }
  // MadeYouReset (CVE-2025-8671): resets the client provokes are glitches.
  glitch();
}

bool Connection::Impl::glitch() {
  if (closed()) return false;
  if (glitch_budget_.take(now_)) return true;
  fail(Error{ErrorCode::kEnhanceYourCalm, 0, true, "too many protocol errors"});
  return false;
}

void Connection::Impl::write_control_done(std::size_t before) {
  // A peer that keeps sending while not reading would make us queue ACKs without bound.
  if (!paused_ || !in_feed_) return;
  control_backlog_ += out_.size() - before;
  if (control_backlog_ > limits_.h2_max_control_backlog)
    fail(Error{ErrorCode::kEnhanceYourCalm, 0, true, "control frames pile up unread"});
}

void Connection::Impl::remember_closed(std::uint32_t id, bool reset_by_us) {
  closed_[closed_next_] = id << 1 | (reset_by_us ? 1u : 0u);  // ids are 31 bits (RFC 9113 5.1.1)
  closed_next_ = (closed_next_ + 1) % kRememberedClosed;
}

Connection::Impl::Closed Connection::Impl::recently_closed(std::uint32_t id) const {
  for (const std::uint32_t entry : closed_)
    if (entry >> 1 == id) return (entry & 1) != 0 ? Closed::kResetByUs : Closed::kNormally;
  return Closed::kNotRemembered;
}

void Connection::Impl::notify_reset(Stream& s, ErrorCode code) {
  // Once per delivered stream, never after release(), never after on_error.
  if (!s.delivered || s.released || s.reset_notified || handler_ == nullptr) return;
  s.reset_notified = true;
  handler_->on_reset(s.id, code);
}

void Connection::Impl::timeout_header_block() {
  if (!header_block_open() || closed()) return;
  // GOAWAY's last stream id is below the unfinished block's: the client knows that stream was not
  // processed and may retry it elsewhere.
  read_state_ = ReadState::kClosed;
  block_stream_ = 0;
  write_goaway(out_, highest_stream_, ErrorCode::kEnhanceYourCalm,
               "header block not completed in time");
}

bool Connection::Impl::done() const {
  if (closed()) return true;
  return (goaway_sent_ || goaway_received_) && streams_.size() == 0 && !header_block_open();
}

Scratch& Connection::Impl::scratch() {
  if (!scratch_) {
    scratch_ = ObjectPool<Scratch>::take();
    // Every request needs these; flush_ready()'s lists take theirs when first pushed to.
    BufferPool<std::vector<Header>>::take(scratch_->fields);
    BufferPool<std::vector<Header>>::take(scratch_->request_headers);
    reuse(scratch_->request_arena);
  }
  return *scratch_;
}

void Scratch::give_back(std::unique_ptr<Scratch> scratch, std::size_t max_bytes) {
  if (!scratch) return;
  Scratch& s = *scratch;
  s.fields.clear();
  s.request_headers.clear();
  BufferPool<std::vector<Header>>::give(s.fields, max_bytes);
  BufferPool<std::vector<Header>>::give(s.request_headers, max_bytes);
  recycle(s.request_arena, max_bytes);
  for (std::vector<std::uint32_t>* ids : {&s.retire, &s.ready_next, &s.blocked}) {
    ids->clear();
    IdPool::give(*ids, max_bytes);
  }
  ObjectPool<Scratch>::give(std::move(scratch));
}

void Connection::Impl::trim() {
  if (in_feed_) return;
  streams_.trim();
  decoder_.release();
  // Scratch of one call (views into them are dead between calls).
  Scratch::give_back(std::move(scratch_), limits_.high_water);
  free_memory(writable_);
  if (ready_.empty()) IdPool::give(ready_, kBufferPoolBytes);
  if (!head_.active) head_.section.release_memory();
  if (out_.empty()) recycle(out_, kBufferPoolBytes);
}

// --- the public API ---------------------------------------------------------------------------

Connection::Connection(const Limits& limits, const ResponseConfig& response, bool connect_protocol)
    : impl_(std::make_unique<Impl>(limits, response, connect_protocol, out_)) {}
Connection::~Connection() = default;

Connection::Impl& Connection::writing() {
  reuse(out_);
  return *impl_;
}

void Connection::start() { writing().start(); }
Error Connection::start_upgraded(std::string_view settings) {
  return writing().start_upgraded(settings);
}
void Connection::feed(std::string_view data, Handler& handler, double now) {
  writing().feed(data, handler, now);
}
HttpError Connection::begin_response(std::uint32_t stream, int status, bool head_request) {
  return impl_->begin_response(stream, status, head_request);
}
HttpError Connection::response_field(std::string_view name, std::string_view value) {
  return impl_->response_field(name, value);
}
HttpError Connection::end_response(bool end_stream) { return writing().end_response(end_stream); }
HttpError Connection::informational(
    std::uint32_t stream, int status,
    const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  return writing().informational(stream, status, fields);
}
HttpError Connection::data(std::uint32_t stream, std::string_view bytes, bool end_stream) {
  return writing().data(stream, bytes, end_stream, nullptr);
}
HttpError Connection::data(std::uint32_t stream, std::string_view bytes, bool end_stream,
                           OutputBuffer& buffer) {
  return writing().data(stream, bytes, end_stream, &buffer);
}
HttpError Connection::trailers(
    std::uint32_t stream,
    const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  return writing().trailers(stream, fields);
}
void Connection::error_response(std::uint32_t stream, const HttpError& error) {
  writing().error_response(stream, error);
}
void Connection::reset(std::uint32_t stream, ErrorCode code) { writing().reset(stream, code); }
void Connection::consume(std::uint32_t stream, std::size_t n) { writing().consume(stream, n); }
void Connection::release(std::uint32_t stream) { writing().release(stream); }
std::size_t Connection::pending(std::uint32_t stream) const { return impl_->pending(stream); }
bool Connection::writable(std::uint32_t stream) const { return impl_->writable(stream); }
void Connection::goaway() { writing().goaway(); }
void Connection::ping() { writing().ping(); }
bool Connection::ping_outstanding() const { return impl_->ping_outstanding(); }
void Connection::pause_output() { impl_->pause_output(); }
void Connection::resume_output() { writing().resume_output(); }
std::size_t Connection::active_streams() const { return impl_->active_streams(); }
bool Connection::done() const { return impl_->done(); }
bool Connection::header_block_open() const { return impl_->header_block_open(); }
void Connection::timeout_header_block() { writing().timeout_header_block(); }
void Connection::trim() { impl_->trim(); }
const Stats& Connection::stats() const { return impl_->stats(); }

}  // namespace ruvicorn::http2
