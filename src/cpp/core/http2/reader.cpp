// feed(): the reader state machine (preface, first SETTINGS, frames) and one handler per frame
// type, dispatched through a table. Frames are read in place from the caller's bytes; only an
// incomplete frame is copied (partial_). RFC 9113 sections are named at each rule.
#include "http2/connection_impl.hpp"
#include "ruvicorn/buffer_pool.hpp"
#include "util/free_memory.hpp"

namespace ruvicorn::http2 {

namespace {

constexpr Error connection_error(ErrorCode code, std::string_view reason) {
  return Error{code, 0, true, reason};
}

}  // namespace

void Connection::Impl::feed(std::string_view data, Handler& handler, double now) {
  if (in_feed_) return;  // a handler calling feed() again: not supported, ignored
  if (!started_) start();
  if (closed()) return;
  in_feed_ = true;
  handler_ = &handler;
  now_ = now;
  if (read_state_ == ReadState::kPreface) {
    // 3.4: the client preface, possibly split over reads.
    const std::size_t n = std::min(data.size(), kPreface.size() - preface_seen_);
    if (data.substr(0, n) != kPreface.substr(preface_seen_, n)) {
      fail(connection_error(ErrorCode::kProtocolError, "invalid connection preface"));
    } else {
      preface_seen_ += n;
      data.remove_prefix(n);
      if (preface_seen_ == kPreface.size()) read_state_ = ReadState::kFirstSettings;
    }
  }
  if (!closed() && read_state_ != ReadState::kPreface) read_frames(data);
  deliver_writable();
  handler_ = nullptr;
  in_feed_ = false;
}

void Connection::Impl::read_frames(std::string_view& data) {
  auto too_large = [this](const FrameHeader& h) {
    // 4.2: beyond our SETTINGS_MAX_FRAME_SIZE. Treated as a connection error for every type:
    // the frame cannot be buffered, and the peer ignored what we announced.
    if (h.length <= our_max_frame()) return false;
    fail(connection_error(ErrorCode::kFrameSizeError, "frame larger than SETTINGS_MAX_FRAME_SIZE"));
    return true;
  };
  if (!partial_.empty()) {
    if (partial_.size() < kFrameHeaderSize) {
      const std::size_t take = std::min(kFrameHeaderSize - partial_.size(), data.size());
      partial_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (partial_.size() < kFrameHeaderSize) return;
    }
    const FrameHeader h = decode_frame_header(partial_.data());
    if (too_large(h)) return;
    const std::size_t total = kFrameHeaderSize + h.length;
    partial_.reserve(total);
    const std::size_t take = std::min(total - partial_.size(), data.size());
    partial_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (partial_.size() < total) return;
    process_frame(h, std::string_view(partial_).substr(kFrameHeaderSize));
    free_memory(partial_);  // the buffer lives only while a frame is split across reads
  }
  while (!closed() && data.size() >= kFrameHeaderSize) {
    const FrameHeader h = decode_frame_header(data.data());
    if (too_large(h)) return;
    if (data.size() < kFrameHeaderSize + h.length) break;
    process_frame(h, data.substr(kFrameHeaderSize, h.length));
    data.remove_prefix(kFrameHeaderSize + h.length);
  }
  if (closed() || data.empty()) return;
  if (data.size() >= kFrameHeaderSize) {
    const FrameHeader h = decode_frame_header(data.data());
    if (too_large(h)) return;
    partial_.reserve(kFrameHeaderSize + h.length);  // the frame's exact size
  }
  partial_.assign(data.data(), data.size());
  data = {};
}

void Connection::Impl::process_frame(const FrameHeader& h, std::string_view payload) {
  static constexpr FrameHandler kHandlers[kFrameTypeCount] = {
      &Impl::on_data_frame,         &Impl::on_headers_frame,   &Impl::on_priority_frame,
      &Impl::on_rst_stream_frame,   &Impl::on_settings_frame,  &Impl::on_push_promise_frame,
      &Impl::on_ping_frame,         &Impl::on_goaway_frame,    &Impl::on_window_update_frame,
      &Impl::on_continuation_frame,
  };
  if (read_state_ == ReadState::kFirstSettings) {
    // 3.4: the client preface ends with a SETTINGS frame.
    if (h.type != static_cast<std::uint8_t>(FrameType::kSettings) || h.has(flag::kAck))
      return fail(connection_error(ErrorCode::kProtocolError, "preface not followed by SETTINGS"));
    read_state_ = ReadState::kFrames;
  }
  // 6.10: a header block is a contiguous sequence of frames on one stream.
  if (block_stream_ != 0 &&
      (h.type != static_cast<std::uint8_t>(FrameType::kContinuation) || h.stream != block_stream_))
    return fail(connection_error(ErrorCode::kProtocolError, "frame inside a header block"));
  if (h.type >= kFrameTypeCount) return;  // 5.5: unknown frame types are ignored
  (this->*kHandlers[h.type])(h, payload);
}

void Connection::Impl::on_data_frame(const FrameHeader& h, std::string_view payload) {
  DataFrame d;
  if (Error e = decode_data(h, payload, d)) return fail(e);
  // 6.9.1: the whole frame, padding included, counts against the connection window.
  if (!recv_window_.fits(h.length))
    return fail(
        connection_error(ErrorCode::kFlowControlError, "DATA beyond the connection window"));
  recv_window_.consume(h.length);
  const std::uint32_t id = h.stream;
  Stream* s = streams_.find(id);
  if (s == nullptr || s->remote_closed || s->rejected || s->released) {
    add_connection_credit(h.length);  // nobody will consume these bytes
    if (s == nullptr) {
      if (idle(id))
        return fail(connection_error(ErrorCode::kProtocolError, "DATA on an idle stream"));
      const Closed how = recently_closed(id);
      if (how == Closed::kNotRemembered) return stream_error(id, ErrorCode::kStreamClosed);
      if (how == Closed::kResetByUs) return;  // late frames are expected (5.1)
      // 5.1: a frame after END_STREAM (or the client's own RST_STREAM) on a closed stream.
      return fail(connection_error(ErrorCode::kStreamClosed, "DATA on a closed stream"));
    }
    if (!s->remote_closed) {
      // Answered by the core or given up by the owner: the body is read and dropped.
      if (d.end_stream) {
        s->remote_closed = true;
        maybe_retire(id);
      }
      return;
    }
    if (s->reset_by_us) return;
    if (s->local_closed && !s->reset)
      return fail(connection_error(ErrorCode::kStreamClosed, "DATA on a closed stream"));
    return stream_error(id, ErrorCode::kStreamClosed);  // half-closed (remote), or reset (5.1)
  }
  if (!s->recv_window.fits(h.length)) {
    add_connection_credit(h.length);
    return stream_error(id, ErrorCode::kFlowControlError);
  }
  s->recv_window.consume(h.length);
  // CVE-2019-9518: frames that carry nothing cost a glitch.
  if (d.data.empty() && !d.end_stream && !glitch()) return;
  s->received += d.data.size();
  const std::size_t padding = h.length - d.data.size();
  // 8.1.1: DATA adding up to more or less than content-length makes the request malformed.
  if (s->has_content_length && (s->received > s->content_length ||
                                (d.end_stream && s->received != s->content_length))) {
    add_connection_credit(h.length);
    return stream_error(id, ErrorCode::kProtocolError);
  }
  if (limits_.max_body_size != 0 && s->received > limits_.max_body_size) {
    add_connection_credit(h.length);
    return body_too_large(*s);
  }
  if (padding != 0) {
    add_connection_credit(padding);
    add_credit(*s, padding);
  }
  if (!d.data.empty()) {
    deliver_body_accounting(*s, d.data.size());
    handler_->on_data(id, d.data);
    if (closed()) return;
  }
  if (d.end_stream) end_request_body(id);
}

void Connection::Impl::body_too_large(Stream& s) {
  // Like HTTP/1.1's 413 when the body outgrows max_body_size; the app sees a disconnect.
  const std::uint32_t id = s.id;
  if (s.response == Stream::Response::kNone) {
    s.rejected = true;
    forget_unconsumed(s);
    write_error_response(s, HttpError{413, "request body too large", false});
  } else {
    const std::size_t before = out_.size();
    write_rst_stream(out_, id, ErrorCode::kCancel);
    write_control_done(before);
    mark_reset(s, true);
  }
  notify_reset(s, ErrorCode::kCancel);  // `s` may be gone after this
  maybe_retire(id);
}

void Connection::Impl::end_request_body(std::uint32_t id) {
  Stream* s = streams_.find(id);
  if (s == nullptr || s->reset) return;
  s->remote_closed = true;
  s->credit = 0;  // 6.9: no WINDOW_UPDATE is needed for a stream the client has ended
  if (s->delivered && !s->released) {
    handler_->on_end(id);
    if (closed()) return;
  }
  maybe_retire(id);
}

void Connection::Impl::on_headers_frame(const FrameHeader& h, std::string_view payload) {
  HeadersFrame hf;
  const Error e = decode_headers(h, payload, hf);
  if (e.connection) return fail(e);
  // 5.1.1: streams a client opens have odd ids.
  if (h.stream % 2 == 0)
    return fail(connection_error(ErrorCode::kProtocolError, "HEADERS on an even stream id"));
  if (!hf.end_headers) {
    if (hf.fragment.empty() && !glitch()) return;
    block_stream_ = h.stream;
    block_end_stream_ = hf.end_stream;
    block_priority_error_ = e.code;
    block_continuations_ = 0;
    block_.assign(hf.fragment.data(), hf.fragment.size());
    return;
  }
  on_header_block(h.stream, hf.fragment, hf.end_stream, e);
}

void Connection::Impl::on_continuation_frame(const FrameHeader& h, std::string_view payload) {
  if (block_stream_ == 0)
    return fail(connection_error(ErrorCode::kProtocolError, "CONTINUATION without HEADERS"));
  std::string_view fragment;
  bool end_headers = false;
  if (Error e = decode_continuation(h, payload, fragment, end_headers)) return fail(e);
  // CONTINUATION flood (2024): bounded frames and bytes per block.
  if (++block_continuations_ > limits_.h2_max_continuation_frames)
    return fail(connection_error(ErrorCode::kEnhanceYourCalm, "too many CONTINUATION frames"));
  if (block_.size() + fragment.size() > limits_.h2_max_header_block_size)
    return fail(connection_error(ErrorCode::kEnhanceYourCalm, "header block too large"));
  if (fragment.empty() && !end_headers && !glitch()) return;
  block_.append(fragment.data(), fragment.size());
  if (!end_headers) return;
  const std::uint32_t id = block_stream_;
  block_stream_ = 0;
  on_header_block(id, block_, block_end_stream_,
                  Error{block_priority_error_, id, false, {}});
  free_memory(block_);  // rare (HEADERS + CONTINUATION): not kept between blocks
}

void Connection::Impl::on_header_block(std::uint32_t id, std::string_view block, bool end_stream,
                                       const Error& priority_error) {
  Scratch& b = scratch();
  read_header_block(id, block, end_stream, priority_error, b);
  // The block's fields were delivered (on_request) or dropped: the lists and the decoder's
  // arena stay for the next block, a large block's share of them does not.
  clear_within(b.fields, kKeptScratchBytes);
  clear_within(b.request_headers, kKeptScratchBytes);
  clear_within(b.request_arena, kKeptScratchBytes);
  decoder_.finish();
}

void Connection::Impl::read_header_block(std::uint32_t id, std::string_view block,
                                         bool end_stream, const Error& priority_error,
                                         Scratch& b) {
  Stream* s = streams_.find(id);
  const bool known_closed = s == nullptr && id <= highest_stream_;
  if (known_closed) {
    const Closed how = recently_closed(id);
    if (how == Closed::kNotRemembered)  // 5.1.1: ids must increase
      return fail(connection_error(ErrorCode::kProtocolError, "stream id lower than one used"));
    if (how == Closed::kNormally)
      return fail(connection_error(ErrorCode::kStreamClosed, "HEADERS on a closed stream"));
    // We reset it: the block is still decoded below to keep HPACK in step, then dropped.
  }
  bool oversize = false;
  // 4.3: every block is decoded, even for streams about to be refused or reset.
  if (hpack::DecodeError de = decoder_.decode(block, b.fields, oversize))
    return fail(connection_error(ErrorCode::kCompressionError, de.reason));
  if (known_closed) return;
  if (s != nullptr) {
    if (s->remote_closed) {
      if (s->reset_by_us) return;
      if (s->local_closed && !s->reset)  // 5.1: closed after END_STREAM both ways
        return fail(connection_error(ErrorCode::kStreamClosed, "HEADERS on a closed stream"));
      return stream_error(id, ErrorCode::kStreamClosed);  // half-closed (remote), or reset
    }
    if (priority_error) return stream_error(id, priority_error.code);
    return on_trailer_block(*s, end_stream, oversize, b.fields);
  }
  highest_stream_ = id;
  if (priority_error) return stream_error(id, priority_error.code);
  open_stream(id, end_stream, oversize, b);
}

void Connection::Impl::open_stream(std::uint32_t id, bool end_stream, bool oversize, Scratch& b) {
  const bool shutting_down = goaway_sent_;
  if (shutting_down || streams_.size() >= limits_.h2_max_concurrent_streams) {
    // 5.1.2 / 6.8: REFUSED_STREAM tells the client the request was not processed.
    ++stats_.refused;
    const std::size_t before = out_.size();
    write_rst_stream(out_, id, ErrorCode::kRefusedStream);
    write_control_done(before);
    remember_closed(id, true);
    if (!shutting_down) glitch();
    return;
  }
  auto reject = [&](const HttpError& error) {
    // Answered by the core; the request never reaches the owner.
    Stream* s = new_stream(id);
    s->rejected = true;
    s->remote_closed = end_stream;
    write_error_response(*s, error);
    maybe_retire(id);
  };
  if (oversize || b.fields.size() > limits_.max_header_count) {
    reject(HttpError{431, "request header fields too large", false});
    glitch();
    return;
  }
  Request request;
  request.stream = id;
  request.end_stream = end_stream;
  const std::string_view malformed =
      validate_request(b.fields, connect_protocol_, request, b.request_headers, b.request_arena);
  if (!malformed.empty()) return stream_error(id, ErrorCode::kProtocolError);  // 8.1.1
  if (request.method == "CONNECT" && request.protocol.empty())
    return reject(HttpError{400, "CONNECT is not supported", false});  // as over HTTP/1.1
  if (limits_.max_body_size != 0 && request.has_content_length &&
      request.content_length > limits_.max_body_size)
    return reject(HttpError{413, "request body too large", false});
  if (end_stream && request.has_content_length && request.content_length != 0)
    return stream_error(id, ErrorCode::kProtocolError);  // 8.1.1: no DATA, yet a length
  Stream* s = new_stream(id);
  s->delivered = true;
  s->has_content_length = request.has_content_length;
  s->content_length = request.content_length;
  ++stats_.streams;
  handler_->on_request(request);
  if (closed()) return;
  if (end_stream) end_request_body(id);
}

Stream* Connection::Impl::new_stream(std::uint32_t id) {
  Stream* s = streams_.insert(id);
  s->send_window.value = peer_initial_window_;
  s->recv_window.value = recv_initial_window_;
  return s;
}

void Connection::Impl::on_trailer_block(Stream& s, bool end_stream, bool oversize,
                                        const std::vector<Header>& fields) {
  const std::uint32_t id = s.id;
  // 8.1: a second HEADERS block is trailers and must end the stream.
  if (!end_stream || oversize || !validate_trailers(fields).empty())
    return stream_error(id, ErrorCode::kProtocolError);
  if (s.rejected || s.released) {
    s.remote_closed = true;
    return maybe_retire(id);
  }
  if (s.has_content_length && s.received != s.content_length)
    return stream_error(id, ErrorCode::kProtocolError);  // 8.1.1
  end_request_body(id);  // trailer fields are dropped: ASGI has no request trailers
}

void Connection::Impl::on_priority_frame(const FrameHeader& h, std::string_view payload) {
  // 5.3.2: priorities are parsed and ignored; nothing is kept, so churn costs O(1).
  Priority priority;
  const Error e = decode_priority(h, payload, priority);
  if (!e) return;
  if (e.connection) return fail(e);
  if (streams_.find(h.stream) != nullptr) return stream_error(h.stream, e.code);
  fail(Error{e.code, 0, true, e.reason});  // no stream to reset: the whole connection
}

void Connection::Impl::on_rst_stream_frame(const FrameHeader& h, std::string_view payload) {
  std::uint32_t code = 0;
  if (Error e = decode_rst_stream(h, payload, code)) return fail(e);
  if (idle(h.stream))
    return fail(connection_error(ErrorCode::kProtocolError, "RST_STREAM on an idle stream"));
  Stream* s = streams_.find(h.stream);
  if (s == nullptr || s->reset) return;  // closed: nothing to do (5.1)
  ++stats_.client_resets;
  const bool early = !s->local_closed;  // reset before our response was complete
  mark_reset(*s, false);
  notify_reset(*s, static_cast<ErrorCode>(code));  // `s` may be gone after this
  if (closed()) return;
  maybe_retire(h.stream);
  // Rapid Reset (CVE-2023-44487).
  if (early && !reset_budget_.take(now_))
    fail(connection_error(ErrorCode::kEnhanceYourCalm, "too many stream resets"));
}

void Connection::Impl::on_settings_frame(const FrameHeader& h, std::string_view payload) {
  SettingsFrame settings;
  if (Error e = decode_settings(h, payload, settings)) return fail(e);
  if (settings.ack) {
    if (settings_unacked_ == 0) {
      glitch();
      return;
    }
    --settings_unacked_;
    // 6.5.3: our settings now hold. The client's stream windows grew (or shrank) with ours.
    const std::int64_t delta = our_initial_window() - recv_initial_window_;
    if (delta != 0) {
      recv_initial_window_ = our_initial_window();
      streams_.for_each([delta](Stream& s) { s.recv_window.value += delta; });
    }
    return;
  }
  if (!control_budget_.take(now_))
    return fail(connection_error(ErrorCode::kEnhanceYourCalm, "too many SETTINGS frames"));
  apply_settings(settings);
  if (closed()) return;
  const std::size_t before = out_.size();
  write_settings_ack(out_);
  write_control_done(before);
}

void Connection::Impl::apply_settings(const SettingsFrame& settings) {
  bool window_changed = false;
  std::int64_t window = peer_initial_window_;
  for (std::size_t i = 0; i < settings.count(); ++i) {
    std::uint16_t id;
    std::uint32_t value;
    settings.at(i, id, value);
    switch (id) {
      case setting::kHeaderTableSize:
        encoder_.set_peer_table_size(value);
        break;
      case setting::kInitialWindowSize:
        // Only the last value of a frame matters for the windows (6.9.2 applies the difference).
        window_changed = true;
        window = value;
        break;
      case setting::kMaxFrameSize:
        peer_max_frame_ = value;
        break;
      default:
        break;  // push, concurrency (we open no streams), list size (advisory), others: 6.5.2
    }
  }
  if (!window_changed || window == peer_initial_window_) return;
  const std::int64_t delta = window - peer_initial_window_;
  peer_initial_window_ = window;
  bool overflow = false;
  streams_.for_each([&](Stream& s) {
    if (!s.send_window.adjust(delta)) overflow = true;
    if (s.sendable()) make_ready(s);
  });
  if (overflow)
    return fail(connection_error(ErrorCode::kFlowControlError, "a stream window exceeds 2^31-1"));
  flush_ready();
}

void Connection::Impl::on_push_promise_frame(const FrameHeader& h, std::string_view) {
  fail(decode_push_promise(h));
}

void Connection::Impl::on_ping_frame(const FrameHeader& h, std::string_view payload) {
  PingFrame ping;
  if (Error e = decode_ping(h, payload, ping)) return fail(e);
  if (ping.ack) {
    if (ping_outstanding_ && ping.opaque == std::string_view(ping_opaque_, kPingSize))
      ping_outstanding_ = false;
    else
      glitch();  // an ACK for a PING we did not send
    return;
  }
  if (!control_budget_.take(now_))
    return fail(connection_error(ErrorCode::kEnhanceYourCalm, "too many PING frames"));
  const std::size_t before = out_.size();
  write_ping(out_, ping.opaque, true);
  write_control_done(before);
}

void Connection::Impl::on_goaway_frame(const FrameHeader& h, std::string_view payload) {
  GoawayFrame goaway;
  if (Error e = decode_goaway(h, payload, goaway)) return fail(e);
  goaway_received_ = true;
  handler_->on_goaway(static_cast<ErrorCode>(goaway.code), goaway.last_stream);
}

void Connection::Impl::on_window_update_frame(const FrameHeader& h, std::string_view payload) {
  std::uint32_t increment = 0;
  const Error e = decode_window_update(h, payload, increment);
  if (e.connection) return fail(e);
  if (h.stream != 0 && idle(h.stream))
    return fail(connection_error(ErrorCode::kProtocolError, "WINDOW_UPDATE on an idle stream"));
  if (e) {
    if (streams_.find(h.stream) != nullptr) stream_error(h.stream, e.code);
    return;
  }
  // A client earns two WINDOW_UPDATEs (stream and connection) per DATA frame we send; the
  // rest of a flood is glitches.
  if (window_update_allowance_ > 0) {
    --window_update_allowance_;
  } else if (!glitch()) {
    return;
  }
  if (h.stream == 0) {
    if (!send_window_.adjust(increment))
      return fail(connection_error(ErrorCode::kFlowControlError, "connection window above 2^31-1"));
    return flush_ready();
  }
  Stream* s = streams_.find(h.stream);
  if (s == nullptr || s->reset || s->local_closed) return;  // 6.9: allowed and ignored
  if (!s->send_window.adjust(increment))
    return stream_error(h.stream, ErrorCode::kFlowControlError);
  if (s->sendable()) {
    make_ready(*s);
    flush_ready();
  }
}

void Connection::Impl::deliver_writable() {
  if (closed()) {
    writable_.clear();
    return;
  }
  for (std::size_t i = 0; i < writable_.size() && !closed(); ++i) {
    const std::uint32_t id = writable_[i];
    Stream* s = streams_.find(id);
    if (s == nullptr) continue;
    s->writable_note = false;
    if (s->released || s->reset_notified) continue;  // the owner no longer writes on it
    handler_->on_writable(id);
  }
  writable_.clear();
}

}  // namespace ruvicorn::http2
