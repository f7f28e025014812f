// Response DATA under flow control (RFC 9113 6.9): bytes are framed straight into the output while
// both windows allow, the rest waits in the stream's queue; when a window opens, the streams with
// something sendable take turns, one frame each (round-robin). Also the request-body credit
// (WINDOW_UPDATEs we send), stream resets and the end of a stream's life.
#include <cstring>

#include "http2/connection_impl.hpp"
#include "util/free_memory.hpp"

namespace ruvicorn::http2 {

namespace {
HttpError app_error(std::string_view why) { return HttpError{500, why, false}; }
}  // namespace

HttpError Connection::Impl::data(std::uint32_t id, std::string_view bytes, bool end_stream,
                                 OutputBuffer* buffer) {
  Stream* s = streams_.find(id);
  if (s == nullptr) return app_error("response body on an unknown or released stream");
  if (closed() || s->reset || s->rejected) return {};  // the owner has been told (on_reset)
  if (s->response == Stream::Response::kNone)
    return app_error("response body before the response head");
  if (s->response == Stream::Response::kEnded)
    return app_error("response body after the response was complete");
  if (s->no_body) {
    if (end_stream) s->response = Stream::Response::kEnded;
    return {};
  }
  if (s->has_length) {
    if (bytes.size() > s->length - s->submitted)
      return app_error("response body longer than its content-length");
    if (end_stream && s->submitted + bytes.size() != s->length)
      return app_error("response body shorter than its content-length");
  }
  if (end_stream) s->response = Stream::Response::kEnded;
  s->submitted += bytes.size();
  send_body(*s, bytes, end_stream, buffer);
  maybe_retire(id);
  return {};
}

void Connection::Impl::send_body(Stream& s, std::string_view bytes, bool end_stream,
                                 OutputBuffer* buffer) {
  // Nothing queued ahead and the transport takes more: no intermediate copy.
  if (s.pending() == 0 && !s.end_queued && !paused_) {
    if (buffer != nullptr && frame_into(s, bytes, end_stream, *buffer)) return;
    if (frame_from(s, bytes, end_stream)) return;
  }
  if (!bytes.empty()) s.enqueue(bytes);
  if (end_stream) s.end_queued = true;
  if (s.sendable() && !paused_) make_ready(s);
}

std::size_t Connection::Impl::sendable_now(const Stream& s, std::size_t n) const {
  return std::min({n, s.send_window.available(), send_window_.available()});
}

bool Connection::Impl::frame_from(Stream& s, std::string_view& bytes, bool end_stream) {
  const std::size_t total = sendable_now(s, bytes.size());
  // One growth of the output for all the frames, not one per frame.
  const std::size_t frames = (total + peer_max_frame_ - 1) / peer_max_frame_;
  out_.reserve(out_.size() + total + frames * kFrameHeaderSize);
  while (true) {
    const std::size_t n = std::min({bytes.size(), static_cast<std::size_t>(peer_max_frame_),
                                    s.send_window.available(), send_window_.available()});
    const bool last = end_stream && n == bytes.size();
    if (n == 0 && !last) return false;  // a window is closed (or nothing to send)
    write_data_frame(s, bytes.substr(0, n), last);
    bytes.remove_prefix(n);
    if (last) {
      on_local_end(s);
      return true;
    }
    if (bytes.empty()) return false;
  }
}

bool Connection::Impl::frame_into(Stream& s, std::string_view& bytes, bool end_stream,
                                  OutputBuffer& buffer) {
  const std::size_t total = sendable_now(s, bytes.size());
  if (total == 0) return false;
  const std::size_t frame = peer_max_frame_;
  const std::size_t frames = (total + frame - 1) / frame;
  const std::size_t size = out_.size() + total + frames * kFrameHeaderSize;
  char* p = buffer.allocate(size);
  if (p == nullptr) return false;  // frame_from() writes into out_ instead
  // What output() holds goes first: frames keep their order.
  if (!out_.empty()) std::memcpy(p, out_.data(), out_.size());
  p += out_.size();
  out_.clear();
  const bool ends = end_stream && total == bytes.size();
  for (std::size_t left = total; left != 0;) {
    const std::size_t n = std::min(left, frame);
    left -= n;
    encode_frame_header(p, n, FrameType::kData, ends && left == 0 ? flag::kEndStream : 0, s.id);
    std::memcpy(p + kFrameHeaderSize, bytes.data(), n);
    p += kFrameHeaderSize + n;
    bytes.remove_prefix(n);
    sent_data(s, n);
  }
  if (ends) on_local_end(s);  // any RST_STREAM it writes goes to output(), after the buffer
  return ends;
}

void Connection::Impl::write_data_frame(Stream& s, std::string_view chunk, bool end_stream) {
  write_data(out_, s.id, chunk, end_stream);
  sent_data(s, chunk.size());
}

void Connection::Impl::sent_data(Stream& s, std::size_t n) {
  s.send_window.consume(n);
  send_window_.consume(n);
  if (n != 0 && window_update_allowance_ < limits_.h2_glitch_burst)
    window_update_allowance_ += 2;
}

void Connection::Impl::make_ready(Stream& s) {
  if (s.in_ready) return;
  s.in_ready = true;
  push_id(ready_, s.id);
}

void Connection::Impl::flush_ready() {
  if (paused_ || closed() || ready_.empty()) return;
  // Passes over the ready streams, one frame per stream per pass. Streams that wait for the
  // connection window go first next time, so a trickling window is shared in turn.
  Scratch& sc = scratch();
  std::vector<std::uint32_t>& retire = sc.retire;  // streams to retire after the passes
  std::vector<std::uint32_t>& ready_next = sc.ready_next;
  std::vector<std::uint32_t>& blocked = sc.blocked;
  retire.clear();
  bool progress = true;
  while (progress && !ready_.empty()) {
    progress = false;
    ready_next.clear();
    blocked.clear();
    for (const std::uint32_t id : ready_) {
      Stream* s = streams_.find(id);
      if (s == nullptr || !s->in_ready) continue;
      if (!s->sendable()) {
        s->in_ready = false;
        continue;
      }
      const std::size_t n = std::min({s->pending(), static_cast<std::size_t>(peer_max_frame_),
                                      s->send_window.available(), send_window_.available()});
      if (s->pending() > 0 && n == 0) {
        push_id(blocked, id);  // only the connection window can be closed here
        continue;
      }
      const bool ends = s->end_queued && n == s->pending();
      const bool last = ends && !s->trailers_queued;
      if (n != 0 || last)
        write_data_frame(*s, std::string_view(s->queue).substr(s->queue_pos, n), last);
      s->dequeued(n);
      progress = true;
      if (in_feed_ && !s->writable_note && s->delivered && !s->released && !s->reset_notified) {
        s->writable_note = true;
        writable_.push_back(id);
      }
      if (ends) {
        if (s->trailers_queued) write_trailers_now(*s);
        on_local_end(*s);
        s->in_ready = false;
        push_id(retire, id);
        continue;
      }
      if (s->sendable()) push_id(ready_next, id);
      else s->in_ready = false;
    }
    if (blocked.empty()) blocked.swap(ready_next);  // no copy, no allocation
    else blocked.insert(blocked.end(), ready_next.begin(), ready_next.end());
    ready_.swap(blocked);
  }
  // (The lists hold at most one id per live stream: kept as they are until the next call.)
  for (std::size_t i = 0; i < retire.size(); ++i) maybe_retire(retire[i]);
}

void Connection::Impl::on_local_end(Stream& s) {
  s.local_closed = true;
  s.end_queued = false;
  // 8.1: a complete response lets us stop a request body nobody will read (NO_ERROR).
  if (!s.remote_closed && (s.released || s.rejected)) {
    write_rst_stream(out_, s.id, ErrorCode::kNoError);
    s.remote_closed = true;
    s.reset_by_us = true;
    forget_unconsumed(s);
  }
}

void Connection::Impl::drop_queue(Stream& s) {
  s.drop_queue();
  s.end_queued = false;
  s.trailers_queued = false;
  free_memory(s.trailers);
}

void Connection::Impl::mark_reset(Stream& s, bool by_us) {
  s.reset = true;
  s.reset_by_us = by_us;
  s.remote_closed = true;
  s.local_closed = true;
  s.credit = 0;
  drop_queue(s);
  forget_unconsumed(s);
}

void Connection::Impl::maybe_retire(std::uint32_t id) {
  Stream* s = streams_.find(id);
  if (s == nullptr) return;
  // Closed on the wire, and the owner is done with it (MadeYouReset: not before release()).
  if (!(s->remote_closed && s->local_closed) || (s->delivered && !s->released)) return;
  forget_unconsumed(*s);
  remember_closed(id, s->reset_by_us);
  streams_.erase(id);
}

void Connection::Impl::reset(std::uint32_t id, ErrorCode code) {
  Stream* s = streams_.find(id);
  if (s == nullptr) return;
  if (!closed() && !s->reset && !(s->local_closed && s->remote_closed)) {
    write_rst_stream(out_, id, code);
    mark_reset(*s, true);
  }
  maybe_retire(id);
}

void Connection::Impl::release(std::uint32_t id) {
  Stream* s = streams_.find(id);
  if (s == nullptr || s->released) return;
  s->released = true;
  forget_unconsumed(*s);
  s->credit = 0;
  if (!closed() && !s->reset) {
    if (s->response != Stream::Response::kEnded) {
      // The owner gave up before ending its response: the client must not wait for more.
      write_rst_stream(out_, id, ErrorCode::kInternalError);
      mark_reset(*s, true);
    } else if (s->local_closed && !s->remote_closed) {
      write_rst_stream(out_, id, ErrorCode::kNoError);  // 8.1: stop an unread request body
      s->remote_closed = true;
      s->reset_by_us = true;
    }
    // else END_STREAM still waits for window: on_local_end finishes the stream.
  }
  maybe_retire(id);
}

void Connection::Impl::resume_output() {
  paused_ = false;
  control_backlog_ = 0;
  // Streams whose data was queued while paused become ready now.
  streams_.for_each([this](Stream& s) {
    if (s.sendable()) make_ready(s);
  });
  flush_ready();
}

std::size_t Connection::Impl::pending(std::uint32_t id) const {
  const Stream* s = streams_.find(id);
  return s == nullptr ? 0 : s->pending();
}

bool Connection::Impl::writable(std::uint32_t id) const {
  const Stream* s = streams_.find(id);
  return s != nullptr && !closed() && !s->reset && !s->rejected &&
         s->response != Stream::Response::kEnded;
}

// --- request body credit --------------------------------------------------------------------

void Connection::Impl::deliver_body_accounting(Stream& s, std::size_t n) {
  s.unconsumed += n;
  unconsumed_ += n;
  // Connection credit goes back as bytes arrive, so that one stream whose app is not reading
  // does not stall the others; except beyond one connection window of unread bytes over all
  // streams: that much is withheld until the apps read (the connection's buffering bound).
  const auto window = static_cast<std::uint64_t>(connection_window());
  if (unconsumed_ <= window) return add_connection_credit(n);
  const std::uint64_t over = unconsumed_ - window;
  const std::size_t give = n > over ? n - static_cast<std::size_t>(over) : 0;
  withheld_ += n - give;
  if (give != 0) add_connection_credit(give);
}

void Connection::Impl::forget_unconsumed(Stream& s) {
  const std::uint64_t n = s.unconsumed;
  if (n == 0) return;
  s.unconsumed = 0;
  unconsumed_ -= n;
  const std::uint64_t release = std::min(withheld_, n);
  withheld_ -= release;
  if (release != 0) add_connection_credit(static_cast<std::size_t>(release));
}

void Connection::Impl::consume(std::uint32_t id, std::size_t n) {
  Stream* s = streams_.find(id);
  if (s == nullptr || closed()) return;
  const std::size_t taken = static_cast<std::size_t>(std::min<std::uint64_t>(n, s->unconsumed));
  if (taken == 0) return;
  s->unconsumed -= taken;
  unconsumed_ -= taken;
  const std::uint64_t release = std::min<std::uint64_t>(withheld_, taken);
  withheld_ -= release;
  if (release != 0) add_connection_credit(static_cast<std::size_t>(release));
  add_credit(*s, taken);
}

void Connection::Impl::add_connection_credit(std::size_t n) {
  if (closed()) return;
  connection_credit_ += static_cast<std::uint32_t>(n);
  // Batched: half a window at a time, or sooner when the client is running short (withheld
  // credit coming back must not wait for a half window that may never accumulate).
  const std::int64_t half = connection_window() / 2;
  if (connection_credit_ == 0) return;
  if (connection_credit_ < half && recv_window_.value >= half) return;
  write_window_update(out_, 0, connection_credit_);
  recv_window_.adjust(connection_credit_);
  connection_credit_ = 0;
}

void Connection::Impl::add_credit(Stream& s, std::size_t n) {
  if (s.remote_closed || closed()) return;  // 6.9: nothing more comes on this stream
  s.credit += static_cast<std::uint32_t>(n);
  if (s.credit < recv_initial_window_ / 2) return;  // batched: half a window at a time
  write_window_update(out_, s.id, s.credit);
  s.recv_window.adjust(s.credit);
  s.credit = 0;
}

}  // namespace ruvicorn::http2
