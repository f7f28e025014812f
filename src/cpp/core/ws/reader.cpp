// The frame reader (RFC 6455 5.2-5.6): a header state machine plus a payload phase that unmasks
// straight into the message buffer, so bytes are copied once however they were split.
#include <algorithm>
#include <cstring>

#include "ruvicorn/ws_frame.hpp"
#include "ws/deflate.hpp"
#include "ws/mask.hpp"

namespace ruvicorn {

namespace {

// Storage above this is freed after the message that needed it, so one large message does not
// pin memory for the rest of the connection.
constexpr std::size_t kKeepCapacity = 256 * 1024;

// Size of the frame header announced by its second byte (length form and mask bit).
inline std::size_t header_size(std::uint8_t b1) {
  const std::uint8_t len = b1 & 0x7f;
  return 2 + (len == 126 ? 2 : len == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
}

inline bool is_control(std::uint8_t opcode) { return (opcode & 0x8) != 0; }

}  // namespace

bool ws_close_code_valid(int code) {
  // RFC 6455 7.4.1-7.4.2 plus the IANA registrations 1012-1014; 1004-1006 and 1015 are reserved
  // or never sent.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

WsReader::WsReader(const Limits& limits, const WsDeflateParams& deflate, WsRole role)
    : max_message_(limits.ws_max_message), deflate_(deflate), server_(role == WsRole::kServer) {}

WsReader::~WsReader() = default;

bool WsReader::fail(int code, std::string_view reason, WsHandler& handler) {
  state_ = State::kFailed;
  handler.on_error(WsError{code, reason});
  return false;
}

std::size_t WsReader::feed(std::string_view data, WsHandler& handler) {
  auto p = reinterpret_cast<const std::uint8_t*>(data.data());
  const auto* const start = p;
  std::size_t n = data.size();
  // After each frame: stop if the reader failed or closed (the rest is ignored, so all of it
  // counts as consumed) or if the owner asked to pause (the rest is the owner's to feed again).
  // 0 means go on: a frame that ends in this input took at least one byte of it.
  auto frame_done = [&](bool open) {
    return !open ? data.size() : handler.paused() ? std::size_t(p - start) : 0;
  };
  if (state_ == State::kOpen && handler.paused()) return 0;
  while (state_ == State::kOpen && n > 0) {
    if (phase_ == Phase::kPayload) {
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
      if (!payload(p, take, handler)) return data.size();
      p += take;
      n -= take;
      remaining_ -= take;
      if (remaining_ == 0) {
        if (const std::size_t stop = frame_done(end_frame(handler))) return stop;
      }
      continue;
    }
    const std::uint8_t* h;
    if (header_len_ == 0 && n >= 2 && n >= header_size(p[1])) {
      h = p;  // the common case: the whole header is in this input
      const std::size_t size = header_size(p[1]);
      p += size;
      n -= size;
    } else {
      while (n > 0) {
        header_[header_len_++] = *p++;
        --n;
        if (header_len_ >= 2 && header_len_ == header_size(header_[1])) break;
      }
      if (header_len_ < 2 || header_len_ < header_size(header_[1])) break;  // need more
      h = header_;
      header_len_ = 0;
    }
    if (!start_frame(h, handler)) return data.size();
    phase_ = Phase::kPayload;
    if (remaining_ == 0) {
      if (const std::size_t stop = frame_done(end_frame(handler))) return stop;
    }
  }
  return data.size();
}

bool WsReader::start_frame(const std::uint8_t* h, WsHandler& handler) {
  const std::uint8_t b0 = h[0], b1 = h[1];
  fin_ = (b0 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  opcode_ = b0 & 0x0f;
  masked_ = (b1 & 0x80) != 0;
  // 5.2: RSV2/RSV3 have no negotiated meaning; RSV1 only with permessage-deflate (checked below).
  if (b0 & 0x30) return fail(WsClose::kProtocolError, "reserved bits set", handler);
  // 5.1: clients mask every frame, servers none.
  if (masked_ != server_) {
    return fail(WsClose::kProtocolError,
                server_ ? "client frame not masked" : "server frame masked", handler);
  }
  std::uint64_t len = b1 & 0x7f;
  std::size_t pos = 2;
  if (len == 126) {
    len = (std::uint64_t(h[2]) << 8) | h[3];
    pos = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | h[2 + i];
    pos = 10;
    if (len >> 63) {
      return fail(WsClose::kProtocolError, "frame length has its top bit set", handler);
    }
  }
  if (masked_) std::memcpy(mask_, h + pos, 4);
  mask_pos_ = 0;
  remaining_ = len;

  switch (opcode_) {
    case 0x8:
    case 0x9:
    case 0xA:
      // 5.5: control frames are short, whole and never compressed (RFC 7692 6.1).
      if (!fin_) return fail(WsClose::kProtocolError, "fragmented control frame", handler);
      if (len > 125) return fail(WsClose::kProtocolError, "control frame over 125 bytes", handler);
      if (rsv1) return fail(WsClose::kProtocolError, "RSV1 set on a control frame", handler);
      control_len_ = 0;
      return true;
    case 0x0:
      if (!in_message_) {
        return fail(WsClose::kProtocolError, "continuation frame without a message", handler);
      }
      if (rsv1) return fail(WsClose::kProtocolError, "RSV1 set on a continuation frame", handler);
      break;
    case 0x1:
    case 0x2:
      if (in_message_) {
        return fail(WsClose::kProtocolError, "new message inside a fragmented message", handler);
      }
      if (rsv1 && !deflate_.enabled) {
        return fail(WsClose::kProtocolError, "RSV1 set without permessage-deflate", handler);
      }
      in_message_ = true;
      message_opcode_ = static_cast<WsOpcode>(opcode_);
      compressed_ = rsv1;
      wire_size_ = 0;
      message_.clear();
      utf8_.reset();
      break;
    default:
      return fail(WsClose::kProtocolError, "reserved opcode", handler);
  }
  // The size bound is checked from the header, before any payload is buffered. Compressed
  // payloads are only streamed through the inflater (whose output is bounded exactly); their
  // wire size gets deflate's worst-case expansion on top.
  wire_size_ += len;
  if (max_message_ != 0) {
    const std::uint64_t bound =
        compressed_ ? std::uint64_t(max_message_) + max_message_ / 8 + 64 : max_message_;
    if (wire_size_ > bound) return fail(WsClose::kMessageTooBig, "message too big", handler);
  }
  return true;
}

bool WsReader::payload(const std::uint8_t* p, std::size_t n, WsHandler& handler) {
  if (is_control(opcode_)) {
    if (masked_) {
      ws_mask_copy(control_ + control_len_, p, n, mask_, mask_pos_);
    } else {
      std::memcpy(control_ + control_len_, p, n);
    }
    control_len_ += n;
    mask_pos_ += n;
    return true;
  }
  if (!compressed_) return append_message(p, n, handler);
  if (!masked_) return inflate(p, n, handler);
  // Compressed bytes are not kept: unmask them through a stack chunk into the inflater.
  std::uint8_t chunk[8192];
  while (n > 0) {
    const std::size_t take = std::min(n, sizeof(chunk));
    ws_mask_copy(chunk, p, take, mask_, mask_pos_);
    mask_pos_ += take;
    if (!inflate(chunk, take, handler)) return false;
    p += take;
    n -= take;
  }
  return true;
}

bool WsReader::append_message(const std::uint8_t* p, std::size_t n, WsHandler& handler) {
  std::uint8_t* dst = message_.prepare(n);
  if (masked_) {
    ws_mask_copy(dst, p, n, mask_, mask_pos_);
  } else {
    std::memcpy(dst, p, n);
  }
  mask_pos_ += n;
  message_.commit(n);
  // 8.1: text is checked as it arrives (fail fast), while the bytes are still in cache.
  if (message_opcode_ == WsOpcode::kText && !utf8_.feed(dst, n)) {
    return fail(WsClose::kInvalidData, "invalid UTF-8 in a text message", handler);
  }
  return true;
}

bool WsReader::inflate(const std::uint8_t* p, std::size_t n, WsHandler& handler) {
  if (!inflater_) {
    // Our inflater decodes the peer's compressor: the client's window when we are the server.
    inflater_ = std::make_unique<WsInflater>(server_ ? deflate_.client_max_window_bits
                                                     : deflate_.server_max_window_bits);
  }
  const std::size_t before = message_.size();
  const WsError error = inflater_->inflate(p, n, message_, max_message_);
  if (error) return fail(error.code, error.reason, handler);
  if (message_opcode_ == WsOpcode::kText &&
      !utf8_.feed(message_.data() + before, message_.size() - before)) {
    return fail(WsClose::kInvalidData, "invalid UTF-8 in a text message", handler);
  }
  return true;
}

bool WsReader::end_frame(WsHandler& handler) {
  phase_ = Phase::kHeader;
  if (is_control(opcode_)) {
    control(handler);
    return state_ == State::kOpen;
  }
  if (!fin_) return true;
  if (compressed_) {
    // RFC 7692 7.2.2: the sender removed the sync-flush tail; put it back.
    static constexpr std::uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};
    if (!inflate(kTail, sizeof(kTail), handler)) return false;
    if (server_ ? deflate_.client_no_context_takeover : deflate_.server_no_context_takeover) {
      inflater_->reset();
    }
  }
  if (message_opcode_ == WsOpcode::kText && !utf8_.complete()) {
    return fail(WsClose::kInvalidData, "invalid UTF-8 in a text message", handler);
  }
  in_message_ = false;
  handler.on_message(message_opcode_, message_.view());
  if (message_.capacity() > kKeepCapacity) {
    message_.release();
  } else {
    message_.clear();
  }
  return state_ == State::kOpen;
}

void WsReader::control(WsHandler& handler) {
  const std::string_view body(reinterpret_cast<const char*>(control_), control_len_);
  if (opcode_ == 0x9) {
    handler.on_ping(body);
    return;
  }
  if (opcode_ == 0xA) {
    handler.on_pong(body);
    return;
  }
  // 5.5.1 and 7.4: empty, or a 2-byte code that may be sent plus a UTF-8 reason.
  if (control_len_ == 0) {
    state_ = State::kClosed;
    handler.on_close(WsClose::kNoStatus, {});
    return;
  }
  if (control_len_ == 1) {
    fail(WsClose::kProtocolError, "close frame with a 1-byte payload", handler);
    return;
  }
  const int code = (int(control_[0]) << 8) | control_[1];
  if (!ws_close_code_valid(code)) {
    fail(WsClose::kProtocolError, "invalid close code", handler);
    return;
  }
  const std::string_view reason = body.substr(2);
  if (!utf8_valid(reason)) {
    fail(WsClose::kInvalidData, "invalid UTF-8 in the close reason", handler);
    return;
  }
  state_ = State::kClosed;
  handler.on_close(code, reason);
}

}  // namespace ruvicorn
