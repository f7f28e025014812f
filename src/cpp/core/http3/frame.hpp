// The HTTP/3 frame codec (RFC 9114 7) and QUIC variable-length integers (RFC 9000 16): pure
// functions over the caller's bytes. Frames arrive split across stream reads, so the connection's
// stream readers (http3/stream_reader.hpp) take a frame header apart as its bytes come and then
// either buffer a payload (HEADERS, control frames, bounded), hand it over piecewise (DATA) or
// skip it (unknown types, RFC 9114 9).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ruvicorn/http3.hpp"

namespace ruvicorn::http3 {

inline constexpr std::uint64_t kMaxVarint = (std::uint64_t{1} << 62) - 1;
inline constexpr std::size_t kMaxVarintSize = 8;

// The size of the varint whose first byte is `first` (1, 2, 4 or 8).
constexpr std::size_t varint_size_from_first(unsigned char first) {
  return std::size_t{1} << (first >> 6);
}
std::size_t varint_size(std::uint64_t v);
// Reads a varint at the start of `in`: the bytes it took, or 0 when `in` ends first.
std::size_t read_varint(std::string_view in, std::uint64_t& value);
void write_varint(std::string& out, std::uint64_t v);

namespace frame {
inline constexpr std::uint64_t kData = 0x0;
inline constexpr std::uint64_t kHeaders = 0x1;
inline constexpr std::uint64_t kCancelPush = 0x3;
inline constexpr std::uint64_t kSettings = 0x4;
inline constexpr std::uint64_t kPushPromise = 0x5;
inline constexpr std::uint64_t kGoaway = 0x7;
inline constexpr std::uint64_t kMaxPushId = 0xd;
// 7.2.8: the HTTP/2 types with no HTTP/3 meaning (PRIORITY, PING, WINDOW_UPDATE, CONTINUATION)
// are reserved; receiving one is H3_FRAME_UNEXPECTED.
constexpr bool is_http2_only(std::uint64_t type) {
  return type == 0x2 || type == 0x6 || type == 0x8 || type == 0x9;
}
}  // namespace frame

namespace stream_type {  // unidirectional stream types (RFC 9114 6.2; RFC 9204 4.2)
inline constexpr std::uint64_t kControl = 0x00;
inline constexpr std::uint64_t kPush = 0x01;
inline constexpr std::uint64_t kQpackEncoder = 0x02;
inline constexpr std::uint64_t kQpackDecoder = 0x03;
}  // namespace stream_type

namespace setting {
inline constexpr std::uint64_t kQpackMaxTableCapacity = 0x01;
inline constexpr std::uint64_t kMaxFieldSectionSize = 0x06;
inline constexpr std::uint64_t kQpackBlockedStreams = 0x07;
inline constexpr std::uint64_t kEnableConnectProtocol = 0x08;  // RFC 9220
// 7.2.4.1: the HTTP/2 settings with no HTTP/3 counterpart are reserved; receiving one is
// H3_SETTINGS_ERROR.
constexpr bool is_http2_only(std::uint64_t id) { return id == 0x0 || (id >= 0x2 && id <= 0x5); }
}  // namespace setting

// A frame's type and payload length as they start a frame; `size` is the bytes they took.
struct FrameHeader {
  std::uint64_t type = 0;
  std::uint64_t length = 0;
  std::size_t size = 0;
};
// Reads a frame header at the start of `in`; false when `in` ends first.
bool read_frame_header(std::string_view in, FrameHeader& h);
void write_frame_header(std::string& out, std::uint64_t type, std::uint64_t length);

struct Settings {
  std::uint64_t qpack_max_table_capacity = 0;
  std::uint64_t max_field_section_size = UINT64_MAX;  // unlimited unless announced
  std::uint64_t qpack_blocked_streams = 0;
};
// A SETTINGS payload (7.2.4): H3_SETTINGS_ERROR for a duplicate or reserved identifier,
// H3_FRAME_ERROR for a truncated pair. Unknown identifiers are ignored.
Error decode_settings(std::string_view payload, Settings& out);

// A frame whose payload is exactly one varint (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH): H3_FRAME_ERROR
// otherwise.
Error decode_single_varint(std::string_view payload, std::uint64_t& value);

}  // namespace ruvicorn::http3
