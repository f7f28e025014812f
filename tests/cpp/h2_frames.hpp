// Test helpers for HTTP/2: client frames built byte by byte (so malformed ones can be built too),
// and a reader that splits server output into frames.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace h2test {

inline void put32(std::string& s, std::uint32_t v) {
  s += char(v >> 24);
  s += char(v >> 16);
  s += char(v >> 8);
  s += char(v);
}

// Any frame: 9-byte header and payload as given.
inline std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                         std::string_view payload) {
  std::string s;
  const std::size_t n = payload.size();
  s += char(n >> 16);
  s += char(n >> 8);
  s += char(n);
  s += char(type);
  s += char(flags);
  put32(s, stream);
  s.append(payload);
  return s;
}

inline std::string settings(
    std::initializer_list<std::pair<std::uint16_t, std::uint32_t>> entries) {
  std::string p;
  for (auto [id, value] : entries) {
    p += char(id >> 8);
    p += char(id);
    put32(p, value);
  }
  return frame(0x4, 0, 0, p);
}
inline std::string settings_ack() { return frame(0x4, 0x1, 0, ""); }
inline std::string ping(std::string_view opaque = "12345678", bool ack = false) {
  return frame(0x6, ack ? 0x1 : 0, 0, opaque);
}
inline std::string window_update(std::uint32_t stream, std::uint32_t increment) {
  std::string p;
  put32(p, increment);
  return frame(0x8, 0, stream, p);
}
inline std::string rst_stream(std::uint32_t stream, std::uint32_t code) {
  std::string p;
  put32(p, code);
  return frame(0x3, 0, stream, p);
}
inline std::string goaway(std::uint32_t last, std::uint32_t code, std::string_view debug = "") {
  std::string p;
  put32(p, last);
  put32(p, code);
  p.append(debug);
  return frame(0x7, 0, 0, p);
}
inline std::string data(std::uint32_t stream, std::string_view payload, bool end_stream = false) {
  return frame(0x0, end_stream ? 0x1 : 0, stream, payload);
}
// HEADERS with a ready-made field block.
inline std::string headers(std::uint32_t stream, std::string_view block, bool end_stream = true,
                           bool end_headers = true) {
  return frame(0x1, (end_stream ? 0x1 : 0) | (end_headers ? 0x4 : 0), stream, block);
}
inline std::string continuation(std::uint32_t stream, std::string_view block, bool end_headers) {
  return frame(0x9, end_headers ? 0x4 : 0, stream, block);
}
inline std::string priority(std::uint32_t stream, std::uint32_t dependency,
                            std::uint8_t weight = 15, bool exclusive = false) {
  std::string p;
  put32(p, dependency | (exclusive ? 0x80000000u : 0));
  p += char(weight);
  return frame(0x2, 0, stream, p);
}

struct Frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
  std::uint32_t u32(std::size_t at = 0) const {
    auto b = [&](std::size_t i) {
      return std::uint32_t(static_cast<unsigned char>(payload[at + i]));
    };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
  }
};

// Splits `bytes` into frames; a trailing partial frame is left in `bytes`.
inline std::vector<Frame> parse_frames(std::string& bytes) {
  std::vector<Frame> frames;
  std::size_t pos = 0;
  while (bytes.size() - pos >= 9) {
    auto u = [&](std::size_t i) {
      return std::uint32_t(static_cast<unsigned char>(bytes[pos + i]));
    };
    const std::size_t len = (u(0) << 16) | (u(1) << 8) | u(2);
    if (bytes.size() - pos < 9 + len) break;
    Frame f;
    f.type = static_cast<std::uint8_t>(u(3));
    f.flags = static_cast<std::uint8_t>(u(4));
    f.stream = ((u(5) << 24) | (u(6) << 16) | (u(7) << 8) | u(8)) & 0x7fffffff;
    f.payload = bytes.substr(pos + 9, len);
    frames.push_back(std::move(f));
    pos += 9 + len;
  }
  bytes.erase(0, pos);
  return frames;
}

}  // namespace h2test
