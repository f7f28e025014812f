// The frame codec (frame.hpp). Sizes, flags and error kinds follow RFC 9113 section 6, frame by
// frame; the section is named at each rule.
#include "http2/frame.hpp"

namespace ruvicorn::http2 {

namespace {

constexpr std::size_t kPriorityFieldSize = 5;
constexpr std::size_t kRstStreamSize = 4;
constexpr std::size_t kWindowUpdateSize = 4;
constexpr std::size_t kGoawayFixedSize = 8;
constexpr std::uint32_t kStreamIdMask = 0x7fffffff;

std::uint32_t read32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

void put32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

constexpr Error connection_error(ErrorCode code, std::string_view reason) {
  return Error{code, 0, true, reason};
}
constexpr Error stream_error(ErrorCode code, std::uint32_t stream, std::string_view reason) {
  return Error{code, stream, false, reason};
}

// The Pad Length byte (6.1, 6.2): removed from `body`; `pad` is how many bytes end the frame.
Error read_pad_length(const FrameHeader& h, std::string_view& body, std::size_t& pad) {
  pad = 0;
  if (!h.has(flag::kPadded)) return {};
  if (body.empty())
    return connection_error(ErrorCode::kFrameSizeError, "padded frame without pad length");
  pad = static_cast<unsigned char>(body[0]);
  body.remove_prefix(1);
  return {};
}

// Padding as long as what remains or longer is a connection error (6.1, 6.2).
Error strip_padding(std::string_view& body, std::size_t pad) {
  if (pad > body.size())
    return connection_error(ErrorCode::kProtocolError, "padding exceeds the frame");
  body.remove_suffix(pad);
  return {};
}

void read_priority(const char* p, Priority& out) {
  const std::uint32_t v = read32(p);
  out.exclusive = (v >> 31) != 0;
  out.dependency = v & kStreamIdMask;
  out.weight = static_cast<std::uint8_t>(p[4]);
}

}  // namespace

FrameHeader decode_frame_header(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  FrameHeader h;
  h.length = (std::uint32_t{u[0]} << 16) | (std::uint32_t{u[1]} << 8) | std::uint32_t{u[2]};
  h.type = u[3];
  h.flags = u[4];
  h.stream = read32(p + 5) & kStreamIdMask;  // 4.1: the reserved bit is ignored
  return h;
}

Error decode_data(const FrameHeader& h, std::string_view payload, DataFrame& out) {
  if (h.stream == 0) return connection_error(ErrorCode::kProtocolError, "DATA on stream 0");
  std::size_t pad = 0;
  if (Error e = read_pad_length(h, payload, pad)) return e;
  if (Error e = strip_padding(payload, pad)) return e;
  out.data = payload;
  out.end_stream = h.has(flag::kEndStream);
  return {};
}

Error decode_headers(const FrameHeader& h, std::string_view payload, HeadersFrame& out) {
  if (h.stream == 0) return connection_error(ErrorCode::kProtocolError, "HEADERS on stream 0");
  std::size_t pad = 0;
  if (Error e = read_pad_length(h, payload, pad)) return e;
  out.end_stream = h.has(flag::kEndStream);
  out.end_headers = h.has(flag::kEndHeaders);
  out.has_priority = h.has(flag::kPriority);
  if (out.has_priority) {
    if (payload.size() < kPriorityFieldSize)
      return connection_error(ErrorCode::kFrameSizeError, "HEADERS too short for its priority");
    read_priority(payload.data(), out.priority);
    payload.remove_prefix(kPriorityFieldSize);
  }
  if (Error e = strip_padding(payload, pad)) return e;
  out.fragment = payload;
  // 5.3.1: a stream cannot depend on itself.
  if (out.has_priority && out.priority.dependency == h.stream)
    return stream_error(ErrorCode::kProtocolError, h.stream, "stream depends on itself");
  return {};
}

Error decode_priority(const FrameHeader& h, std::string_view payload, Priority& out) {
  if (h.stream == 0) return connection_error(ErrorCode::kProtocolError, "PRIORITY on stream 0");
  if (payload.size() != kPriorityFieldSize)
    return stream_error(ErrorCode::kFrameSizeError, h.stream, "PRIORITY length is not 5");
  read_priority(payload.data(), out);
  if (out.dependency == h.stream)
    return stream_error(ErrorCode::kProtocolError, h.stream, "stream depends on itself");
  return {};
}

Error decode_rst_stream(const FrameHeader& h, std::string_view payload, std::uint32_t& code) {
  if (h.stream == 0) return connection_error(ErrorCode::kProtocolError, "RST_STREAM on stream 0");
  if (payload.size() != kRstStreamSize)
    return connection_error(ErrorCode::kFrameSizeError, "RST_STREAM length is not 4");
  code = read32(payload.data());
  return {};
}

Error check_setting(std::uint16_t id, std::uint32_t value) {
  switch (id) {
    case setting::kEnablePush:
    case setting::kEnableConnectProtocol:  // RFC 8441 3
      if (value > 1) return connection_error(ErrorCode::kProtocolError, "boolean setting above 1");
      break;
    case setting::kInitialWindowSize:
      if (value > kMaxStreamId)
        return connection_error(ErrorCode::kFlowControlError, "initial window size above 2^31-1");
      break;
    case setting::kMaxFrameSize:
      if (value < kDefaultMaxFrameSize || value > kLargestMaxFrameSize)
        return connection_error(ErrorCode::kProtocolError, "max frame size out of range");
      break;
    default:
      break;  // 6.5.2: unknown or unsupported settings are ignored
  }
  return {};
}

void SettingsFrame::at(std::size_t i, std::uint16_t& id, std::uint32_t& value) const {
  const char* p = entries.data() + i * kSettingSize;
  id = static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                  static_cast<unsigned char>(p[1]));
  value = read32(p + 2);
}

Error decode_settings(const FrameHeader& h, std::string_view payload, SettingsFrame& out) {
  if (h.stream != 0) return connection_error(ErrorCode::kProtocolError, "SETTINGS on a stream");
  out.ack = h.has(flag::kAck);
  if (out.ack && !payload.empty())
    return connection_error(ErrorCode::kFrameSizeError, "SETTINGS ACK with a payload");
  if (payload.size() % kSettingSize != 0)
    return connection_error(ErrorCode::kFrameSizeError, "SETTINGS length not a multiple of 6");
  out.entries = payload;
  return check_settings(out);
}

Error check_settings(const SettingsFrame& settings) {
  for (std::size_t i = 0; i < settings.count(); ++i) {
    std::uint16_t id;
    std::uint32_t value;
    settings.at(i, id, value);
    if (Error e = check_setting(id, value)) return e;
  }
  return {};
}

Error decode_push_promise(const FrameHeader&) {
  return connection_error(ErrorCode::kProtocolError, "PUSH_PROMISE from a client");
}

Error decode_ping(const FrameHeader& h, std::string_view payload, PingFrame& out) {
  if (h.stream != 0) return connection_error(ErrorCode::kProtocolError, "PING on a stream");
  if (payload.size() != kPingSize)
    return connection_error(ErrorCode::kFrameSizeError, "PING length is not 8");
  out.ack = h.has(flag::kAck);
  out.opaque = payload;
  return {};
}

Error decode_goaway(const FrameHeader& h, std::string_view payload, GoawayFrame& out) {
  if (h.stream != 0) return connection_error(ErrorCode::kProtocolError, "GOAWAY on a stream");
  if (payload.size() < kGoawayFixedSize)
    return connection_error(ErrorCode::kFrameSizeError, "GOAWAY shorter than 8 bytes");
  out.last_stream = read32(payload.data()) & kStreamIdMask;
  out.code = read32(payload.data() + 4);
  out.debug = payload.substr(kGoawayFixedSize);
  return {};
}

Error decode_window_update(const FrameHeader& h, std::string_view payload,
                           std::uint32_t& increment) {
  if (payload.size() != kWindowUpdateSize)
    return connection_error(ErrorCode::kFrameSizeError, "WINDOW_UPDATE length is not 4");
  increment = read32(payload.data()) & kStreamIdMask;
  if (increment == 0) {
    // 6.9: a zero increment is an error on the flow-control window it names.
    if (h.stream == 0) return connection_error(ErrorCode::kProtocolError, "WINDOW_UPDATE of 0");
    return stream_error(ErrorCode::kProtocolError, h.stream, "WINDOW_UPDATE of 0");
  }
  return {};
}

Error decode_continuation(const FrameHeader& h, std::string_view payload,
                          std::string_view& fragment, bool& end_headers) {
  if (h.stream == 0) return connection_error(ErrorCode::kProtocolError, "CONTINUATION on stream 0");
  fragment = payload;
  end_headers = h.has(flag::kEndHeaders);
  return {};
}

void encode_frame_header(char* b, std::size_t length, FrameType type, std::uint8_t flags,
                         std::uint32_t stream) {
  b[0] = static_cast<char>(length >> 16);
  b[1] = static_cast<char>(length >> 8);
  b[2] = static_cast<char>(length);
  b[3] = static_cast<char>(type);
  b[4] = static_cast<char>(flags);
  b[5] = static_cast<char>(stream >> 24);
  b[6] = static_cast<char>(stream >> 16);
  b[7] = static_cast<char>(stream >> 8);
  b[8] = static_cast<char>(stream);
}

void write_frame_header(std::string& out, std::size_t length, FrameType type, std::uint8_t flags,
                        std::uint32_t stream) {
  char b[kFrameHeaderSize];
  encode_frame_header(b, length, type, flags, stream);
  out.append(b, kFrameHeaderSize);
}

void write_settings(std::string& out, const Setting* settings, std::size_t count) {
  write_frame_header(out, count * kSettingSize, FrameType::kSettings, 0, 0);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(static_cast<char>(settings[i].id >> 8));
    out.push_back(static_cast<char>(settings[i].id));
    put32(out, settings[i].value);
  }
}

void write_settings_ack(std::string& out) {
  write_frame_header(out, 0, FrameType::kSettings, flag::kAck, 0);
}

void write_headers(std::string& out, std::uint32_t stream, std::string_view block,
                   bool end_stream, std::size_t max_frame) {
  const std::size_t start = out.size();
  out.append(kFrameHeaderSize, '\0');
  out.append(block);
  frame_headers_in_place(out, start, stream, end_stream, max_frame);
}

void frame_headers_in_place(std::string& out, std::size_t start, std::uint32_t stream,
                            bool end_stream, std::size_t max_frame) {
  const std::size_t block_size = out.size() - start - kFrameHeaderSize;
  const std::uint8_t end = end_stream ? flag::kEndStream : 0;
  if (block_size <= max_frame) {
    encode_frame_header(&out[start], block_size, FrameType::kHeaders, end | flag::kEndHeaders,
                        stream);
    return;
  }
  // Rare: a block larger than one frame. The tail moves out and comes back in CONTINUATIONs.
  std::string rest = out.substr(start + kFrameHeaderSize + max_frame);
  out.resize(start + kFrameHeaderSize + max_frame);
  encode_frame_header(&out[start], max_frame, FrameType::kHeaders, end, stream);
  std::string_view tail = rest;
  while (!tail.empty()) {
    const std::size_t n = tail.size() < max_frame ? tail.size() : max_frame;
    write_frame_header(out, n, FrameType::kContinuation, n == tail.size() ? flag::kEndHeaders : 0,
                       stream);
    out.append(tail.substr(0, n));
    tail.remove_prefix(n);
  }
}

void write_data(std::string& out, std::uint32_t stream, std::string_view data, bool end_stream) {
  write_frame_header(out, data.size(), FrameType::kData, end_stream ? flag::kEndStream : 0, stream);
  out.append(data);
}

void write_rst_stream(std::string& out, std::uint32_t stream, ErrorCode code) {
  write_frame_header(out, kRstStreamSize, FrameType::kRstStream, 0, stream);
  put32(out, static_cast<std::uint32_t>(code));
}

void write_ping(std::string& out, std::string_view opaque, bool ack) {
  write_frame_header(out, kPingSize, FrameType::kPing, ack ? flag::kAck : 0, 0);
  out.append(opaque.substr(0, kPingSize));
  if (opaque.size() < kPingSize) out.append(kPingSize - opaque.size(), '\0');
}

void write_goaway(std::string& out, std::uint32_t last_stream, ErrorCode code,
                  std::string_view debug) {
  write_frame_header(out, kGoawayFixedSize + debug.size(), FrameType::kGoaway, 0, 0);
  put32(out, last_stream & kStreamIdMask);
  put32(out, static_cast<std::uint32_t>(code));
  out.append(debug);
}

void write_window_update(std::string& out, std::uint32_t stream, std::uint32_t increment) {
  write_frame_header(out, kWindowUpdateSize, FrameType::kWindowUpdate, 0, stream);
  put32(out, increment & kStreamIdMask);
}

}  // namespace ruvicorn::http2
