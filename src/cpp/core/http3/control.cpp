// The client's unidirectional streams (RFC 9114 6.2): a stream type first, then the control
// stream's frames (7.2), or QPACK encoder/decoder instructions (RFC 9204 4.2). One of each at most;
// they must never close (6.2.1). Push streams come only from servers; other types are ignored
// (STOP_SENDING H3_STREAM_CREATION_ERROR, 6.2.3).
#include "http3/connection_impl.hpp"

namespace ruvicorn::http3 {

void Connection::Impl::critical_stream_closed() {
  fail({ErrorCode::kClosedCriticalStream, 0, true, "critical stream closed"});
}

void Connection::Impl::feed_uni(std::uint64_t id, std::string_view data, bool fin) {
  auto it = uni_.find(id);
  if (it == uni_.end()) {
    if (!uni_seen_.insert(id)) return;  // ignored before, or closed
    it = uni_.emplace(id, UniStream{}).first;
  }
  UniStream& u = it->second;
  if (u.type == UniStream::Type::kUntyped) {
    // The type is one varint, possibly split across reads.
    while (!data.empty()) {
      u.type_bytes.push_back(data.front());
      data.remove_prefix(1);
      if (u.type_bytes.size() == varint_size_from_first(static_cast<unsigned char>(u.type_bytes[0])))
        break;
    }
    std::uint64_t type = 0;
    if (read_varint(u.type_bytes, type) == 0) {
      if (fin) uni_.erase(it);  // ended before its type: nothing to do (6.2)
      return;
    }
    u.type_bytes.clear();
    switch (type) {
      case stream_type::kControl:
        if (control_seen_) return fail({ErrorCode::kStreamCreationError, id, true, "second control stream"});
        control_seen_ = true;
        u.type = UniStream::Type::kControl;
        break;
      case stream_type::kQpackEncoder:
        if (encoder_seen_) {
          return fail({ErrorCode::kStreamCreationError, id, true, "second QPACK encoder stream"});
        }
        encoder_seen_ = true;
        u.type = UniStream::Type::kEncoder;
        break;
      case stream_type::kQpackDecoder:
        if (decoder_seen_) {
          return fail({ErrorCode::kStreamCreationError, id, true, "second QPACK decoder stream"});
        }
        decoder_seen_ = true;
        u.type = UniStream::Type::kDecoder;
        break;
      case stream_type::kPush:
        return fail({ErrorCode::kStreamCreationError, id, true, "push stream from a client"});
      default:
        // 6.2.3: unknown (and reserved) types are ignored; we ask the client to stop sending.
        uni_.erase(it);
        signal(Output::Kind::kStopSending, id, ErrorCode::kStreamCreationError);
        glitch();
        return;
    }
  }
  switch (u.type) {
    case UniStream::Type::kControl:
      control_frames(u, data);
      break;
    case UniStream::Type::kEncoder:
      if (qpack::DecodeError e = encoder_stream_.feed(data)) {
        return fail({ErrorCode::kQpackEncoderStreamError, id, true, e.reason});
      }
      break;
    case UniStream::Type::kDecoder:
      if (qpack::DecodeError e = decoder_stream_.feed(data)) {
        return fail({ErrorCode::kQpackDecoderStreamError, id, true, e.reason});
      }
      break;
    case UniStream::Type::kUntyped:
      break;
  }
  if (fin && !failed_) critical_stream_closed();
}

void Connection::Impl::control_frames(UniStream& u, std::string_view data) {
  std::string_view chunk;
  while (!failed_) {
    switch (u.frames.next(data, chunk)) {
      case FrameReader::Step::kNeedMore:
        return;
      case FrameReader::Step::kFrameStart:
        control_frame_start(u, u.frames.header());
        break;
      case FrameReader::Step::kPayload:
        if (u.collecting) u.payload.append(chunk.data(), chunk.size());
        break;
      case FrameReader::Step::kFrameEnd:
        if (u.collecting) {
          u.collecting = false;
          control_frame_end(u.frames.header(), u.payload);
          u.payload.clear();
        }
        break;
    }
  }
}

void Connection::Impl::control_frame_start(UniStream& u, const FrameHeader& h) {
  // 6.2.1: SETTINGS first, and only once (7.2.4).
  if (!settings_received_ && h.type != frame::kSettings) {
    return fail({ErrorCode::kMissingSettings, 0, true, "control stream does not start with SETTINGS"});
  }
  switch (h.type) {
    case frame::kSettings:
      if (settings_received_) return fail({ErrorCode::kFrameUnexpected, 0, true, "second SETTINGS"});
      settings_received_ = true;
      break;
    case frame::kGoaway:
    case frame::kMaxPushId:
    case frame::kCancelPush:
      break;
    case frame::kData:
    case frame::kHeaders:
    case frame::kPushPromise:
      return fail({ErrorCode::kFrameUnexpected, 0, true, "frame not allowed on the control stream"});
    default:
      if (frame::is_http2_only(h.type)) {
        return fail({ErrorCode::kFrameUnexpected, 0, true, "HTTP/2 frame type"});
      }
      return;  // 9: unknown frame types are ignored (their payload skipped, not kept)
  }
  if (h.length > kMaxControlFrame) {
    return fail({ErrorCode::kExcessiveLoad, 0, true, "control frame too large"});
  }
  u.collecting = true;
  u.payload.clear();
}

void Connection::Impl::control_frame_end(const FrameHeader& h, std::string_view payload) {
  Error e;
  std::uint64_t value = 0;
  switch (h.type) {
    case frame::kSettings:
      e = decode_settings(payload, peer_settings_);
      break;
    case frame::kGoaway:
      // 5.2, 7.2.6: from a client it carries a push id, which may only go down.
      e = decode_single_varint(payload, value);
      if (!e && value > peer_goaway_) e = {ErrorCode::kIdError, 0, true, "GOAWAY id increased"};
      if (!e) {
        peer_goaway_ = value;
        if (!goaway_received_) {
          goaway_received_ = true;
          if (handler_ != nullptr) handler_->on_goaway();
        }
      }
      break;
    case frame::kMaxPushId:
      // 7.2.7: it may not go down. We never push, so the value is otherwise unused.
      e = decode_single_varint(payload, value);
      if (!e && max_push_id_received_ && value < max_push_id_) {
        e = {ErrorCode::kIdError, 0, true, "MAX_PUSH_ID decreased"};
      }
      if (!e) {
        max_push_id_received_ = true;
        max_push_id_ = value;
      }
      break;
    case frame::kCancelPush:
      // 7.2.3: a push id never promised (we promise none) is H3_ID_ERROR.
      e = decode_single_varint(payload, value);
      if (!e) e = {ErrorCode::kIdError, 0, true, "CANCEL_PUSH for a push never promised"};
      break;
    default:
      break;
  }
  if (e) fail(e);
}

}  // namespace ruvicorn::http3
