// The connection's lifecycle (our control stream, GOAWAY, connection and stream errors, the abuse
// budgets), the output it queues for the QUIC connection, and the public API, which forwards to
// Impl.
#include <algorithm>

#include "http3/connection_impl.hpp"

namespace ruvicorn::http3 {

Connection::Impl::Impl(const Limits& limits, const ResponseConfig& response,
                       std::vector<Output>& out)
    : limits_(limits),
      config_(response),
      defaults_(response),
      out_(out),
      decoder_(limits.h3_max_field_section_size),
      reset_budget_(limits.h2_reset_burst, limits.h2_reset_rate),
      glitch_budget_(limits.h2_glitch_burst, limits.h2_glitch_rate) {}

void Connection::Impl::start(std::uint64_t control_stream) {
  if (started_) return;
  started_ = true;
  control_out_ = control_stream;
  // 6.2.1: the stream type, then SETTINGS first. A table capacity and blocked streams of 0 tell
  // the client never to use a dynamic table with us (RFC 9204 3.2.3, 2.1.2); they are the
  // defaults, sent anyway so that no client has to know that.
  std::string payload;
  write_varint(payload, setting::kQpackMaxTableCapacity);
  write_varint(payload, 0);
  write_varint(payload, setting::kQpackBlockedStreams);
  write_varint(payload, 0);
  write_varint(payload, setting::kMaxFieldSectionSize);
  write_varint(payload, limits_.h3_max_field_section_size);
  std::string& o = stream_out(control_out_);
  write_varint(o, stream_type::kControl);
  write_frame_header(o, frame::kSettings, payload.size());
  o += payload;
}

void Connection::Impl::goaway() {
  if (goaway_sent_ || failed_) return;
  goaway_sent_ = true;
  // 5.2: the first request stream id not processed; lower ones that are still to come are.
  goaway_id_ = next_request_ * 4;
  if (!started_) return;  // no control stream yet: the owner closes without it
  std::string& o = stream_out(control_out_);
  write_frame_header(o, frame::kGoaway, varint_size(goaway_id_));
  write_varint(o, goaway_id_);
}

void Connection::Impl::fail(const Error& error) {
  if (failed_) return;
  failed_ = true;
  error_ = error;
  error_.connection = true;
  for (auto& [id, s] : streams_) {
    s.reset = true;
    notify_reset(s);
  }
  if (handler_ != nullptr) handler_->on_error(error_);
}

bool Connection::Impl::glitch() {
  if (glitch_budget_.take(now_)) return true;
  fail({ErrorCode::kExcessiveLoad, 0, true, "too many stream errors"});
  return false;
}

void Connection::Impl::stream_error(Stream& s, ErrorCode code) {
  ++stats_.stream_errors;
  const std::uint64_t id = s.id;
  s.read = Stream::Read::kDiscard;
  s.collecting = false;
  s.block.clear();
  reset_stream(s, code);
  notify_reset(s);
  maybe_retire(id);
  glitch();
}

void Connection::Impl::expire_heads(double now, double timeout) {
  now_ = now;
  std::vector<std::uint64_t> late;
  for (const auto& [id, s] : streams_) {
    if (s.read == Stream::Read::kHead && now - s.opened >= timeout) late.push_back(id);
  }
  for (std::uint64_t id : late) {
    Stream* s = find(id);
    if (s == nullptr) continue;
    s->read = Stream::Read::kDiscard;  // our deadline, not the client's error: no glitch
    s->collecting = false;
    s->block.clear();
    reset_stream(*s, ErrorCode::kRequestIncomplete);
    maybe_retire(id);
  }
}

bool Connection::Impl::done() const {
  return failed_ || ((goaway_sent_ || goaway_received_) && slots_ == 0);
}

// --- bytes in ------------------------------------------------------------------------------------

void Connection::Impl::feed(std::uint64_t id, std::string_view data, bool fin, Handler& handler,
                            double now) {
  if (failed_) return;
  handler_ = &handler;
  now_ = now;
  // RFC 9000 2.1: bit 0x1 is set on server-initiated streams, bit 0x2 on unidirectional ones.
  if ((id & 0x1) == 0) {
    if ((id & 0x2) == 0) feed_request(id, data, fin);
    else feed_uni(id, data, fin);
  }
  handler_ = nullptr;
}

void Connection::Impl::stream_reset(std::uint64_t id, Handler& handler, double now) {
  if (failed_) return;
  handler_ = &handler;
  now_ = now;
  if ((id & 0x3) == 0x2) {
    auto it = uni_.find(id);
    if (it != uni_.end() && it->second.type != UniStream::Type::kUntyped) {
      critical_stream_closed();
    } else if (it != uni_.end()) {
      uni_.erase(it);
    }
  } else if (Stream* s = find(id)) {
    client_abort(*s, false);
  } else if (request_seen_.insert(id)) {
    // Reset before any of it arrived (the QUIC library may drop the bytes a reset overtakes):
    // our side of the stream ends too, so that QUIC can let the client open another.
    next_request_ = std::max(next_request_, id / 4 + 1);
    signal(Output::Kind::kReset, id, ErrorCode::kRequestCancelled);
    ++stats_.client_resets;
    if (!reset_budget_.take(now_)) {
      fail({ErrorCode::kExcessiveLoad, id, true, "too many streams reset"});
    }
  }
  handler_ = nullptr;
}

void Connection::Impl::stop_sending(std::uint64_t id, Handler& handler, double now) {
  if (failed_) return;
  handler_ = &handler;
  now_ = now;
  if (id == control_out_ && started_) {
    // 6.2.1: our control stream is critical for the client too; it must not stop it.
    fail({ErrorCode::kClosedCriticalStream, id, true, "STOP_SENDING on the control stream"});
  } else if (Stream* s = find(id)) {
    client_abort(*s, true);
  }
  handler_ = nullptr;
}

// --- output --------------------------------------------------------------------------------------

Stream* Connection::Impl::find(std::uint64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

const Stream* Connection::Impl::find(std::uint64_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

std::string& Connection::Impl::stream_out(std::uint64_t id) {
  // Bytes for the stream written last are appended to its entry: one entry per response and
  // read, usually.
  if (out_.empty() || out_.back().kind != Output::Kind::kData || out_.back().stream != id ||
      out_.back().fin) {
    out_.emplace_back();
    out_.back().stream = id;
  }
  return out_.back().data;
}

void Connection::Impl::end_stream_out(Stream& s) {
  stream_out(s.id);
  out_.back().fin = true;
  s.local_done = true;
}

void Connection::Impl::signal(Output::Kind kind, std::uint64_t id, ErrorCode code) {
  Output o;
  o.kind = kind;
  o.stream = id;
  o.code = static_cast<std::uint64_t>(code);
  out_.push_back(std::move(o));
}

void Connection::Impl::reset_stream(Stream& s, ErrorCode code) {
  // RFC 9114 4.1.1 / RFC 9000 3: a stream error aborts both directions.
  if (!s.local_done) signal(Output::Kind::kReset, s.id, code);
  if (!s.remote_done) signal(Output::Kind::kStopSending, s.id, code);
  s.local_done = s.remote_done = s.reset = true;
  forget_unconsumed(s);
}

void Connection::Impl::notify_reset(Stream& s) {
  if (!s.delivered || s.released || s.reset_notified) return;
  s.reset_notified = true;
  if (handler_ != nullptr) handler_->on_reset(s.id);
}

void Connection::Impl::forget_unconsumed(Stream& s) {
  unconsumed_ -= s.unconsumed;
  s.unconsumed = 0;
}

void Connection::Impl::maybe_retire(std::uint64_t id) {
  Stream* s = find(id);
  if (s == nullptr) return;
  if ((s->delivered && !s->released) || !s->local_done) return;
  if (!s->remote_done) {
    // 4.1: the response is complete and nothing more of the request is needed.
    signal(Output::Kind::kStopSending, id, ErrorCode::kNoError);
  }
  forget_unconsumed(*s);
  if (!s->delivered) --slots_;  // a delivered stream gave its slot back at release()
  streams_.erase(id);  // late bytes for it are dropped (request_seen_)
  ++erased_;
}

// --- the public API ------------------------------------------------------------------------------

Connection::Connection(const Limits& limits, const ResponseConfig& response)
    : impl_(std::make_unique<Impl>(limits, response, out_)) {}
Connection::~Connection() = default;

void Connection::start(std::uint64_t control_stream) { impl_->start(control_stream); }
void Connection::feed(std::uint64_t stream, std::string_view data, bool fin, Handler& handler,
                      double now) {
  impl_->feed(stream, data, fin, handler, now);
}
void Connection::stream_reset(std::uint64_t stream, Handler& handler, double now) {
  impl_->stream_reset(stream, handler, now);
}
void Connection::stop_sending(std::uint64_t stream, Handler& handler, double now) {
  impl_->stop_sending(stream, handler, now);
}
HttpError Connection::begin_response(std::uint64_t stream, int status, bool head_request) {
  return impl_->begin_response(stream, status, head_request);
}
HttpError Connection::response_field(std::string_view name, std::string_view value) {
  return impl_->response_field(name, value);
}
HttpError Connection::end_response(bool end_stream) { return impl_->end_response(end_stream); }
HttpError Connection::informational(
    std::uint64_t stream, int status,
    const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  return impl_->informational(stream, status, fields);
}
HttpError Connection::data(std::uint64_t stream, std::string_view bytes, bool end_stream) {
  return impl_->data(stream, bytes, end_stream);
}
HttpError Connection::trailers(
    std::uint64_t stream, const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  return impl_->trailers(stream, fields);
}
void Connection::error_response(std::uint64_t stream, const HttpError& error) {
  impl_->error_response(stream, error);
}
void Connection::reset(std::uint64_t stream, ErrorCode code) { impl_->reset(stream, code); }
void Connection::consume(std::uint64_t stream, std::size_t n) { impl_->consume(stream, n); }
void Connection::release(std::uint64_t stream) { impl_->release(stream); }
bool Connection::writable(std::uint64_t stream) const { return impl_->writable(stream); }
void Connection::goaway() { impl_->goaway(); }
void Connection::expire_heads(double now, double timeout) { impl_->expire_heads(now, timeout); }
bool Connection::failed() const { return impl_->failed(); }
const Error& Connection::error() const { return impl_->error(); }
bool Connection::done() const { return impl_->done(); }
std::size_t Connection::active_streams() const { return impl_->active_streams(); }
std::size_t Connection::unconsumed() const { return impl_->unconsumed(); }
const Stats& Connection::stats() const { return impl_->stats(); }

}  // namespace ruvicorn::http3
