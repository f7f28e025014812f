#include "http3/frame.hpp"

namespace ruvicorn::http3 {

std::size_t varint_size(std::uint64_t v) {
  if (v < 64) return 1;
  if (v < 16384) return 2;
  if (v < 1073741824) return 4;
  return 8;
}

std::size_t read_varint(std::string_view in, std::uint64_t& value) {
  if (in.empty()) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = varint_size_from_first(p[0]);
  if (in.size() < n) return 0;
  std::uint64_t v = p[0] & 0x3f;
  for (std::size_t i = 1; i < n; ++i) v = (v << 8) | p[i];
  value = v;
  return n;
}

void write_varint(std::string& out, std::uint64_t v) {
  const std::size_t n = varint_size(v);
  const unsigned char prefix = static_cast<unsigned char>((n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3)
                                                          << 6);
  char bytes[kMaxVarintSize];
  for (std::size_t i = n; i-- > 0;) {
    bytes[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  bytes[0] = static_cast<char>(static_cast<unsigned char>(bytes[0]) | prefix);
  out.append(bytes, n);
}

bool read_frame_header(std::string_view in, FrameHeader& h) {
  const std::size_t t = read_varint(in, h.type);
  if (t == 0) return false;
  const std::size_t l = read_varint(in.substr(t), h.length);
  if (l == 0) return false;
  h.size = t + l;
  return true;
}

void write_frame_header(std::string& out, std::uint64_t type, std::uint64_t length) {
  write_varint(out, type);
  write_varint(out, length);
}

Error decode_settings(std::string_view payload, Settings& out) {
  bool seen[4] = {};  // the known identifiers 0x1, 0x6, 0x7, 0x8
  // Duplicates of unknown identifiers are not detected: remembering them would cost memory a
  // peer chooses; RFC 9114 7.2.4 leaves an unknown setting without meaning.
  while (!payload.empty()) {
    std::uint64_t id, value;
    const std::size_t a = read_varint(payload, id);
    const std::size_t b = a == 0 ? 0 : read_varint(payload.substr(a), value);
    if (b == 0) return {ErrorCode::kFrameError, 0, true, "truncated SETTINGS"};
    payload.remove_prefix(a + b);
    if (setting::is_http2_only(id)) {
      return {ErrorCode::kSettingsError, 0, true, "HTTP/2 setting in SETTINGS"};
    }
    int slot = -1;
    switch (id) {
      case setting::kQpackMaxTableCapacity: slot = 0; out.qpack_max_table_capacity = value; break;
      case setting::kMaxFieldSectionSize: slot = 1; out.max_field_section_size = value; break;
      case setting::kQpackBlockedStreams: slot = 2; out.qpack_blocked_streams = value; break;
      case setting::kEnableConnectProtocol:
        slot = 3;
        if (value > 1) return {ErrorCode::kSettingsError, 0, true, "invalid ENABLE_CONNECT_PROTOCOL"};
        break;
      default: break;
    }
    if (slot >= 0) {
      if (seen[slot]) return {ErrorCode::kSettingsError, 0, true, "duplicate setting"};
      seen[slot] = true;
    }
  }
  return {};
}

Error decode_single_varint(std::string_view payload, std::uint64_t& value) {
  const std::size_t n = read_varint(payload, value);
  if (n == 0 || n != payload.size()) return {ErrorCode::kFrameError, 0, true, "malformed frame"};
  return {};
}

}  // namespace ruvicorn::http3
