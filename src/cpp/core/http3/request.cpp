// Request streams (RFC 9114 4.1): HEADERS, then DATA, then optional trailing HEADERS, then the
// FIN; unknown frame types anywhere between (9). Frames that belong elsewhere or come out of order
// are connection errors (H3_FRAME_UNEXPECTED); malformed requests are stream errors
// (H3_MESSAGE_ERROR, 4.1.2); QPACK errors are connection errors.
#include "http3/connection_impl.hpp"
#include "util/request_fields.hpp"

namespace ruvicorn::http3 {

void Connection::Impl::feed_request(std::uint64_t id, std::string_view data, bool fin) {
  Stream* s = find(id);
  if (s == nullptr) {
    if (!request_seen_.insert(id)) return;  // finished, refused or reset: late bytes are dropped
    s = open_stream(id);
    if (s == nullptr) return;
  }
  if (s->remote_done) return;  // nothing follows a FIN (QUIC ensures it; we do not rely on it)
  if (s->read != Stream::Read::kDiscard) request_frames(*s, data);
  if (failed_ || !fin) return;
  s = find(id);  // a handler call may have retired it
  if (s == nullptr || s->remote_done) return;
  if (s->read == Stream::Read::kDiscard) {
    s->remote_done = true;
    maybe_retire(id);
    return;
  }
  if (s->frames.mid_frame()) {
    return fail({ErrorCode::kFrameError, id, true, "request stream ends inside a frame"});  // 7.1
  }
  if (s->read == Stream::Read::kHead) return stream_error(*s, ErrorCode::kRequestIncomplete);
  end_of_request(*s);
}

Stream* Connection::Impl::open_stream(std::uint64_t id) {
  next_request_ = std::max(next_request_, id / 4 + 1);
  Stream& s = streams_[id];
  s.id = id;
  s.opened = now_;
  // 5.2: after our GOAWAY, streams from its id on were not processed; over the limit, refused
  // (4.1.1: H3_REQUEST_REJECTED tells the client it may retry).
  if ((goaway_sent_ && id >= goaway_id_) || slots_ >= limits_.h3_max_concurrent_streams) {
    ++stats_.refused;
    const bool shutting_down = goaway_sent_;
    reset_stream(s, ErrorCode::kRequestRejected);
    streams_.erase(id);
    ++erased_;
    if (!shutting_down) glitch();
    return nullptr;
  }
  ++slots_;  // from its first byte: heads still arriving count too
  return &s;
}

void Connection::Impl::request_frames(Stream& s, std::string_view data) {
  const std::uint64_t id = s.id;
  std::string_view chunk;
  Stream* p = &s;
  std::uint64_t erased = erased_;
  while (true) {
    if (erased != erased_) {  // a stream was retired: maybe this one (map nodes are stable)
      erased = erased_;
      p = find(id);
    }
    if (failed_ || p == nullptr || p->read == Stream::Read::kDiscard) return;
    switch (p->frames.next(data, chunk)) {
      case FrameReader::Step::kNeedMore:
        return;
      case FrameReader::Step::kFrameStart:
        request_frame_start(*p, p->frames.header());
        break;
      case FrameReader::Step::kPayload:
        request_payload(*p, chunk);
        break;
      case FrameReader::Step::kFrameEnd:
        request_frame_end(*p);
        break;
    }
  }
}

void Connection::Impl::request_frame_start(Stream& s, const FrameHeader& h) {
  switch (h.type) {
    case frame::kHeaders:
      if (s.read == Stream::Read::kTrailers) {
        return fail({ErrorCode::kFrameUnexpected, s.id, true, "HEADERS after trailers"});
      }
      if (h.length > limits_.h3_max_field_section_size) {
        // Refused before it is buffered: a request head gets a 431, trailers a stream error.
        if (s.read == Stream::Read::kHead) {
          refuse(s, HttpError{431, "request header fields too large", false});
          glitch();
          return;
        }
        return stream_error(s, ErrorCode::kMessageError);
      }
      s.collecting = true;
      s.block.clear();
      return;
    case frame::kData:
      if (s.read == Stream::Read::kHead) {
        return fail({ErrorCode::kFrameUnexpected, s.id, true, "DATA before HEADERS"});
      }
      if (s.read == Stream::Read::kTrailers) {
        return fail({ErrorCode::kFrameUnexpected, s.id, true, "DATA after trailers"});
      }
      if (h.length == 0) glitch();  // a frame that carries nothing
      return;
    case frame::kCancelPush:
    case frame::kSettings:
    case frame::kGoaway:
    case frame::kMaxPushId:
      return fail({ErrorCode::kFrameUnexpected, s.id, true, "control frame on a request stream"});
    case frame::kPushPromise:
      return fail({ErrorCode::kFrameUnexpected, s.id, true, "PUSH_PROMISE from a client"});
    default:
      if (frame::is_http2_only(h.type)) {
        return fail({ErrorCode::kFrameUnexpected, s.id, true, "HTTP/2 frame type"});
      }
      return;  // 9: unknown types are skipped
  }
}

void Connection::Impl::request_payload(Stream& s, std::string_view chunk) {
  if (s.collecting) {
    s.block.append(chunk.data(), chunk.size());
    return;
  }
  if (s.frames.header().type != frame::kData) return;  // an unknown frame's payload
  s.received += chunk.size();
  if (s.has_content_length && s.received > s.content_length) {
    return stream_error(s, ErrorCode::kMessageError);  // 4.1.2: more than content-length
  }
  if (limits_.max_body_size != 0 && s.received > limits_.max_body_size) return body_too_large(s);
  if (!s.delivered || s.released || s.reset) return;  // the app is gone: dropped
  s.unconsumed += chunk.size();
  unconsumed_ += chunk.size();
  handler_->on_data(s.id, chunk);
}

void Connection::Impl::request_frame_end(Stream& s) {
  if (!s.collecting) return;
  s.collecting = false;
  if (s.read == Stream::Read::kHead) on_head(s);
  else on_trailers(s);
}

void Connection::Impl::on_head(Stream& s) {
  bool oversize = false;
  if (qpack::DecodeError e = decoder_.decode(s.block, fields_, oversize)) {
    return fail({static_cast<ErrorCode>(e.code), s.id, true, e.reason});
  }
  // The fields are views into s.block (raw literals) until the request has been delivered.
  if (oversize || fields_.size() > limits_.max_header_count) {
    refuse(s, HttpError{431, "request header fields too large", false});
    glitch();
    return;
  }
  Request request;
  request.stream = s.id;
  const std::string_view malformed =
      validate_request(fields_, false, request, request_headers_, request_arena_);
  if (!malformed.empty()) return stream_error(s, ErrorCode::kMessageError);
  if (request.method == "CONNECT") {
    return refuse(s, HttpError{400, "CONNECT is not supported", false});  // as over HTTP/1.1
  }
  if (limits_.max_body_size != 0 && request.has_content_length &&
      request.content_length > limits_.max_body_size) {
    return refuse(s, HttpError{413, "request body too large", false});
  }
  s.read = Stream::Read::kBody;
  s.delivered = true;
  s.has_content_length = request.has_content_length;
  s.content_length = request.content_length;
  ++stats_.streams;
  handler_->on_request(request);
  if (Stream* p = find(request.stream)) std::string().swap(p->block);  // a head's bytes go
}

void Connection::Impl::on_trailers(Stream& s) {
  bool oversize = false;
  if (qpack::DecodeError e = decoder_.decode(s.block, fields_, oversize)) {
    return fail({static_cast<ErrorCode>(e.code), s.id, true, e.reason});
  }
  const bool invalid = oversize || !validate_trailers(fields_).empty();
  s.block.clear();
  if (invalid) return stream_error(s, ErrorCode::kMessageError);
  s.read = Stream::Read::kTrailers;  // ASGI has no request trailers: they are dropped
}

void Connection::Impl::end_of_request(Stream& s) {
  const std::uint64_t id = s.id;
  if (s.has_content_length && s.received != s.content_length) {
    return stream_error(s, ErrorCode::kMessageError);  // 4.1.2: fewer than content-length
  }
  s.remote_done = true;
  if (s.delivered && !s.released && !s.reset) handler_->on_end(id);
  maybe_retire(id);
}

void Connection::Impl::body_too_large(Stream& s) {
  // As HTTP/1.1's 413 when the body outgrows max_body_size; the app sees a disconnect.
  const std::uint64_t id = s.id;
  glitch();
  if (s.response == Stream::Response::kNone && !s.local_done) {
    notify_reset(s);
    forget_unconsumed(s);
    s.read = Stream::Read::kDiscard;
    write_error_response(s, HttpError{413, "request body too large", false});
    if (!s.remote_done) {
      signal(Output::Kind::kStopSending, id, ErrorCode::kNoError);
      s.remote_done = true;
    }
    s.reset = true;  // nothing more of the app's goes out
    maybe_retire(id);
    return;
  }
  s.read = Stream::Read::kDiscard;
  reset_stream(s, ErrorCode::kRequestCancelled);
  notify_reset(s);
  maybe_retire(id);
}

void Connection::Impl::refuse(Stream& s, const HttpError& error) {
  // Answered by the core; the request never reaches the owner (4.1.1: the rest of the request is
  // not needed, STOP_SENDING with H3_NO_ERROR).
  const std::uint64_t id = s.id;
  s.read = Stream::Read::kDiscard;
  s.collecting = false;
  s.block.clear();
  write_error_response(s, error);
  if (!s.remote_done) {
    signal(Output::Kind::kStopSending, id, ErrorCode::kNoError);
    s.remote_done = true;
  }
  maybe_retire(id);
}

void Connection::Impl::client_abort(Stream& s, bool stop_sending) {
  // RESET_STREAM: the client abandoned its request; STOP_SENDING: it does not want the
  // response. Either way the app sees a disconnect and nothing more goes out (RFC 9000 3.5: a
  // STOP_SENDING is answered with RESET_STREAM).
  const std::uint64_t id = s.id;
  const bool unfinished = s.response != Stream::Response::kEnded || !s.local_done;
  if (s.remote_done && !stop_sending) return;  // the request was complete: nothing is lost
  if (unfinished && !s.reset) {
    ++stats_.client_resets;
    if (!reset_budget_.take(now_)) {
      return fail({ErrorCode::kExcessiveLoad, id, true, "too many streams reset"});
    }
  }
  s.read = Stream::Read::kDiscard;
  s.collecting = false;
  if (!stop_sending) s.remote_done = true;
  reset_stream(s, ErrorCode::kRequestCancelled);
  notify_reset(s);
  maybe_retire(id);
}

}  // namespace ruvicorn::http3
