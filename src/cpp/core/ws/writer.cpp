// The frame writer (RFC 6455 5.2): one frame per message, compressed per RFC 7692 when
// negotiated. Server frames reference the caller's payload; only compression (and, for the client
// role, masking) writes into the writer's own reusable buffer.
#include <algorithm>
#include <cstring>
#include <random>

#include "ruvicorn/ws_frame.hpp"
#include "ws/deflate.hpp"
#include "ws/mask.hpp"

namespace ruvicorn {

namespace {
constexpr std::size_t kKeepCapacity = 256 * 1024;  // see reader.cpp
}  // namespace

std::size_t ws_frame_header(std::uint8_t (&h)[14], WsOpcode opcode, std::uint64_t n, bool fin,
                            bool rsv1, const std::uint8_t* mask) {
  std::size_t len = 2;
  h[0] = std::uint8_t((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<std::uint8_t>(opcode));
  if (n < 126) {
    h[1] = std::uint8_t(n);
  } else if (n <= 0xffff) {
    h[1] = 126;
    h[2] = std::uint8_t(n >> 8);
    h[3] = std::uint8_t(n);
    len = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; ++i) h[2 + i] = std::uint8_t(n >> (56 - 8 * i));
    len = 10;
  }
  if (mask != nullptr) {
    h[1] |= 0x80;
    std::memcpy(h + len, mask, 4);
    len += 4;
  }
  return len;
}

void ws_write_frame(std::string& out, WsOpcode opcode, std::string_view payload, bool fin,
                    bool rsv1, const std::uint8_t* mask) {
  std::uint8_t h[14];
  const std::size_t len = ws_frame_header(h, opcode, payload.size(), fin, rsv1, mask);
  out.append(reinterpret_cast<const char*>(h), len);
  if (mask == nullptr) {
    out.append(payload);
    return;
  }
  const std::size_t start = out.size();
  out.resize(start + payload.size());
  ws_mask_copy(reinterpret_cast<std::uint8_t*>(&out[start]),
               reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size(), mask, 0);
}

WsWriter::WsWriter(const WsDeflateParams& deflate, WsRole role)
    : deflate_(deflate), client_(role == WsRole::kClient) {
  if (client_) {
    // 5.3: masks must be unpredictable to the network; seed once, then xorshift.
    std::random_device rd;
    mask_state_ = (std::uint64_t(rd()) << 32) | rd() | 1;
  }
}

WsWriter::~WsWriter() = default;

WsFrameOut WsWriter::frame(WsOpcode opcode, std::string_view payload, bool rsv1) {
  WsFrameOut f;
  if (!client_) {
    f.header_size = ws_frame_header(f.header, opcode, payload.size(), true, rsv1, nullptr);
    f.payload = payload;
    return f;
  }
  mask_state_ ^= mask_state_ << 13;
  mask_state_ ^= mask_state_ >> 7;
  mask_state_ ^= mask_state_ << 17;
  std::uint8_t mask[4];
  std::memcpy(mask, &mask_state_, 4);
  const auto src = reinterpret_cast<const std::uint8_t*>(payload.data());
  if (src != scratch_.data()) {  // not already ours (compressed): copy while masking
    scratch_.clear();
    scratch_.prepare(payload.size());
    scratch_.commit(payload.size());
  }
  ws_mask_copy(scratch_.data(), src, payload.size(), mask, 0);
  f.header_size = ws_frame_header(f.header, opcode, payload.size(), true, rsv1, mask);
  f.payload = scratch_.view().substr(0, payload.size());
  return f;
}

WsFrameOut WsWriter::prepare(WsOpcode opcode, std::string_view payload, bool compress) {
  if (scratch_.capacity() > kKeepCapacity) scratch_.release();
  if (deflate_.enabled && compress && payload.size() >= deflate_.min_size) {
    if (!deflater_) {
      const int bits = client_ ? deflate_.client_max_window_bits : deflate_.server_max_window_bits;
      deflater_ = std::make_unique<WsDeflater>(bits, deflate_.level, deflate_.mem_level);
    }
    scratch_.clear();
    const bool ok = deflater_->compress(payload, scratch_);
    // Without context takeover, and after any failure, the next message starts afresh (a
    // message that does not refer back is always valid).
    if (!ok || (client_ ? deflate_.client_no_context_takeover
                        : deflate_.server_no_context_takeover)) {
      deflater_->reset();
    }
    if (ok) return frame(opcode, scratch_.view(), true);
  }
  return frame(opcode, payload, false);
}

WsFrameOut WsWriter::prepare_ping(std::string_view payload) {
  return frame(WsOpcode::kPing, payload.substr(0, 125), false);
}

WsFrameOut WsWriter::prepare_pong(std::string_view payload) {
  return frame(WsOpcode::kPong, payload.substr(0, 125), false);
}

WsFrameOut WsWriter::prepare_close(int code, std::string_view reason) {
  if (code == 0 || code == WsClose::kNoStatus) return frame(WsOpcode::kClose, {}, false);
  // 5.5: 125 bytes of payload, 2 of them the code; cut the reason between characters.
  std::size_t n = std::min<std::size_t>(reason.size(), 123);
  while (n > 0 && n < reason.size() && (std::uint8_t(reason[n]) & 0xC0) == 0x80) --n;
  close_body_[0] = std::uint8_t((code >> 8) & 0xff);
  close_body_[1] = std::uint8_t(code & 0xff);
  if (n > 0) std::memcpy(close_body_ + 2, reason.data(), n);
  return frame(WsOpcode::kClose,
               std::string_view(reinterpret_cast<const char*>(close_body_), n + 2), false);
}

}  // namespace ruvicorn
