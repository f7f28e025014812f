// The HTTP/2 frame codec (RFC 9113 4 and 6): pure functions, no state. Each decode function takes
// a frame header and its complete payload and returns the frame or an Error value (stream or
// connection, with the RFC's code); payload views point into the caller's bytes. The writers append
// the frames a server sends to a caller-owned string.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ruvicorn/http2.hpp"

namespace ruvicorn::http2 {

enum class FrameType : std::uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kPriority = 0x2,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPushPromise = 0x5,
  kPing = 0x6,
  kGoaway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};
inline constexpr std::uint8_t kFrameTypeCount = 10;  // types above are extensions: ignored (5.5)

namespace flag {
inline constexpr std::uint8_t kEndStream = 0x1;
inline constexpr std::uint8_t kAck = 0x1;
inline constexpr std::uint8_t kEndHeaders = 0x4;
inline constexpr std::uint8_t kPadded = 0x8;
inline constexpr std::uint8_t kPriority = 0x20;
}  // namespace flag

// SETTINGS parameters (RFC 9113 6.5.2; RFC 8441 3).
namespace setting {
inline constexpr std::uint16_t kHeaderTableSize = 0x1;
inline constexpr std::uint16_t kEnablePush = 0x2;
inline constexpr std::uint16_t kMaxConcurrentStreams = 0x3;
inline constexpr std::uint16_t kInitialWindowSize = 0x4;
inline constexpr std::uint16_t kMaxFrameSize = 0x5;
inline constexpr std::uint16_t kMaxHeaderListSize = 0x6;
inline constexpr std::uint16_t kEnableConnectProtocol = 0x8;
}  // namespace setting

inline constexpr std::size_t kFrameHeaderSize = 9;
inline constexpr std::size_t kSettingSize = 6;
inline constexpr std::size_t kPingSize = 8;
inline constexpr std::uint32_t kDefaultMaxFrameSize = 16384;     // and the smallest allowed
inline constexpr std::uint32_t kLargestMaxFrameSize = 0xffffff;  // 2^24-1
inline constexpr std::uint32_t kDefaultWindow = 65535;  // before SETTINGS; the connection's
inline constexpr std::uint32_t kDefaultHeaderTableSize = 4096;
inline constexpr std::uint32_t kMaxStreamId = 0x7fffffff;

struct FrameHeader {
  std::uint32_t length = 0;  // payload length (24 bits)
  std::uint8_t type = 0;     // a FrameType, or an unknown extension type
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;  // the reserved bit is ignored (4.1)
  bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

// `p` points to 9 readable bytes.
FrameHeader decode_frame_header(const char* p);

struct DataFrame {
  std::string_view data;      // payload without padding
  bool end_stream = false;
};
struct Priority {
  std::uint32_t dependency = 0;
  std::uint8_t weight = 0;    // as sent (weight - 1)
  bool exclusive = false;
};
struct HeadersFrame {
  std::string_view fragment;  // field block fragment without padding or priority
  bool end_stream = false;
  bool end_headers = false;
  bool has_priority = false;
  Priority priority;
};
struct SettingsFrame {
  bool ack = false;
  std::string_view entries;   // 6 bytes each, already validated
  std::size_t count() const { return entries.size() / kSettingSize; }
  void at(std::size_t i, std::uint16_t& id, std::uint32_t& value) const;
};
struct PingFrame {
  bool ack = false;
  std::string_view opaque;    // 8 bytes
};
struct GoawayFrame {
  std::uint32_t last_stream = 0;
  std::uint32_t code = 0;     // raw: unknown codes are allowed (RFC 9113 7)
  std::string_view debug;
};

// Decoders: `payload` is exactly header.length bytes. A stream error from decode_headers or
// decode_priority leaves `out` filled: a HEADERS frame's field block must still be decoded to keep
// HPACK in step (RFC 9113 4.3).
Error decode_data(const FrameHeader& h, std::string_view payload, DataFrame& out);
Error decode_headers(const FrameHeader& h, std::string_view payload, HeadersFrame& out);
Error decode_priority(const FrameHeader& h, std::string_view payload, Priority& out);
Error decode_rst_stream(const FrameHeader& h, std::string_view payload, std::uint32_t& code);
Error decode_settings(const FrameHeader& h, std::string_view payload, SettingsFrame& out);
Error decode_push_promise(const FrameHeader& h);  // a client must not push (RFC 9113 8.4)
Error decode_ping(const FrameHeader& h, std::string_view payload, PingFrame& out);
Error decode_goaway(const FrameHeader& h, std::string_view payload, GoawayFrame& out);
Error decode_window_update(const FrameHeader& h, std::string_view payload,
                           std::uint32_t& increment);
Error decode_continuation(const FrameHeader& h, std::string_view payload,
                          std::string_view& fragment, bool& end_headers);
// One SETTINGS value's own range (RFC 9113 6.5.2, RFC 8441 3); unknown ids are ignored (no error).
Error check_setting(std::uint16_t id, std::uint32_t value);
Error check_settings(const SettingsFrame& settings);  // every entry

// --- writers ----------------------------------------------------------------------------------
// Writes 9 bytes at `b` (also used to fill a header reserved earlier in an output buffer).
void encode_frame_header(char* b, std::size_t length, FrameType type, std::uint8_t flags,
                         std::uint32_t stream);
void write_frame_header(std::string& out, std::size_t length, FrameType type, std::uint8_t flags,
                        std::uint32_t stream);
struct Setting {
  std::uint16_t id;
  std::uint32_t value;
};
void write_settings(std::string& out, const Setting* settings, std::size_t count);
void write_settings_ack(std::string& out);
// A field block as HEADERS plus as many CONTINUATION frames as `max_frame` requires.
void write_headers(std::string& out, std::uint32_t stream, std::string_view block,
                   bool end_stream, std::size_t max_frame);
// Splits a field block already appended to `out` at `start` (after room for one frame header
// reserved by the caller) into HEADERS + CONTINUATION frames: encoding straight into the output
// costs no copy in the common case of a block that fits one frame.
void frame_headers_in_place(std::string& out, std::size_t start, std::uint32_t stream,
                            bool end_stream, std::size_t max_frame);
void write_data(std::string& out, std::uint32_t stream, std::string_view data, bool end_stream);
void write_rst_stream(std::string& out, std::uint32_t stream, ErrorCode code);
void write_ping(std::string& out, std::string_view opaque, bool ack);
void write_goaway(std::string& out, std::uint32_t last_stream, ErrorCode code,
                  std::string_view debug);
void write_window_update(std::string& out, std::uint32_t stream, std::uint32_t increment);

}  // namespace ruvicorn::http2
