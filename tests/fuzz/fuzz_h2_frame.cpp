// Fuzz target for the HTTP/2 frame codec (src/cpp/core/http2/frame.hpp). The input is read as a
// sequence of frames; each goes through the decoder of its type. Checks: views stay inside the
// payload, errors are well-formed (a connection error names no stream, a stream error names the
// frame's), and every frame decoded without error survives a round trip through our writer.
// The last part of the input is a field block split by write_headers at a small frame size and
// reassembled.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http2/frame.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace ruvicorn::http2;

using fuzz::violated;

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_error(const Error& e, const FrameHeader& h) {
  if (!e) return;
  if (e.reason.empty()) violated("error without a reason");
  if (e.connection && e.stream != 0) violated("connection error naming a stream");
  if (!e.connection && (e.stream == 0 || e.stream != h.stream))
    violated("stream error on the wrong stream");
}

FrameHeader reread(const std::string& out, std::string_view& payload) {
  if (out.size() < kFrameHeaderSize) violated("writer produced a short frame");
  const FrameHeader h = decode_frame_header(out.data());
  if (out.size() != kFrameHeaderSize + h.length) violated("writer length field wrong");
  payload = std::string_view(out).substr(kFrameHeaderSize);
  return h;
}

void one_frame(FrameHeader h, std::string_view payload) {
  std::string out;
  std::string_view again;
  switch (h.type) {
    case 0x0: {
      DataFrame d;
      const Error e = decode_data(h, payload, d);
      check_error(e, h);
      if (e) return;
      if (!inside(d.data, payload)) violated("DATA view outside the payload");
      if (!h.has(flag::kPadded) && d.data.size() != payload.size())
        violated("unpadded DATA lost bytes");
      write_data(out, h.stream, d.data, d.end_stream);
      DataFrame d2;
      if (decode_data(reread(out, again), again, d2) || d2.data != d.data ||
          d2.end_stream != d.end_stream)
        violated("DATA round trip");
      return;
    }
    case 0x1: {
      HeadersFrame f;
      const Error e = decode_headers(h, payload, f);
      check_error(e, h);
      if (e.connection) return;
      if (!inside(f.fragment, payload)) violated("HEADERS view outside the payload");
      write_headers(out, h.stream, f.fragment, f.end_stream, kDefaultMaxFrameSize);
      HeadersFrame f2;
      const FrameHeader h2 = reread(out, again);
      if (decode_headers(h2, again, f2) || f2.fragment != f.fragment || !f2.end_headers)
        violated("HEADERS round trip");
      return;
    }
    case 0x2: {
      Priority p;
      check_error(decode_priority(h, payload, p), h);
      return;
    }
    case 0x3: {
      std::uint32_t code = 0;
      const Error e = decode_rst_stream(h, payload, code);
      check_error(e, h);
      if (e) return;
      write_rst_stream(out, h.stream, static_cast<ErrorCode>(code));
      std::uint32_t code2 = 0;
      if (decode_rst_stream(reread(out, again), again, code2) || code2 != code)
        violated("RST round trip");
      return;
    }
    case 0x4: {
      SettingsFrame s;
      const Error e = decode_settings(h, payload, s);
      check_error(e, h);
      if (e) return;
      if (s.count() * kSettingSize != s.entries.size()) violated("SETTINGS entry count");
      if (s.ack) return;
      std::string copy;
      for (std::size_t i = 0; i < s.count(); ++i) {
        Setting one{};
        s.at(i, one.id, one.value);
        if (check_setting(one.id, one.value)) violated("SETTINGS accepted a bad value");
        write_settings(copy, &one, 1);
        copy.erase(copy.size() - kSettingSize - kFrameHeaderSize, kFrameHeaderSize);
      }
      if (copy != s.entries) violated("SETTINGS round trip");
      return;
    }
    case 0x5:
      check_error(decode_push_promise(h), h);
      return;
    case 0x6: {
      PingFrame p;
      const Error e = decode_ping(h, payload, p);
      check_error(e, h);
      if (e) return;
      write_ping(out, p.opaque, p.ack);
      PingFrame p2;
      if (decode_ping(reread(out, again), again, p2) || p2.opaque != p.opaque || p2.ack != p.ack)
        violated("PING round trip");
      return;
    }
    case 0x7: {
      GoawayFrame g;
      const Error e = decode_goaway(h, payload, g);
      check_error(e, h);
      if (e) return;
      write_goaway(out, g.last_stream, static_cast<ErrorCode>(g.code), g.debug);
      GoawayFrame g2;
      if (decode_goaway(reread(out, again), again, g2) || g2.last_stream != g.last_stream ||
          g2.code != g.code || g2.debug != g.debug)
        violated("GOAWAY round trip");
      return;
    }
    case 0x8: {
      std::uint32_t inc = 0;
      const Error e = decode_window_update(h, payload, inc);
      check_error(e, h);
      if (e) return;
      if (inc == 0 || inc > kMaxStreamId) violated("WINDOW_UPDATE increment out of range");
      write_window_update(out, h.stream, inc);
      std::uint32_t inc2 = 0;
      if (decode_window_update(reread(out, again), again, inc2) || inc2 != inc)
        violated("WINDOW_UPDATE round trip");
      return;
    }
    case 0x9: {
      std::string_view fragment;
      bool end = false;
      const Error e = decode_continuation(h, payload, fragment, end);
      check_error(e, h);
      if (!e && fragment != payload) violated("CONTINUATION fragment");
      return;
    }
    default:
      return;  // unknown types: nothing to decode
  }
}

void split_block(std::string_view block, std::size_t max_frame) {
  std::string out;
  write_headers(out, 1, block, true, max_frame);
  std::string joined;
  std::size_t pos = 0, frames = 0;
  bool end_headers = false;
  while (pos < out.size()) {
    if (end_headers) violated("frames after END_HEADERS");
    const FrameHeader h = decode_frame_header(out.data() + pos);
    if (h.length > max_frame) violated("header frame over max_frame");
    if (h.type != (frames == 0 ? 0x1 : 0x9)) violated("HEADERS then CONTINUATION expected");
    if (frames == 0 && !h.has(flag::kEndStream)) violated("END_STREAM missing on HEADERS");
    end_headers = h.has(flag::kEndHeaders);
    joined.append(out, pos + kFrameHeaderSize, h.length);
    pos += kFrameHeaderSize + h.length;
    ++frames;
  }
  if (!end_headers || joined != block) violated("split block does not reassemble");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view rest = in;
  while (rest.size() >= kFrameHeaderSize) {
    FrameHeader h = decode_frame_header(rest.data());
    // A truncated last frame is read with what is there.
    const std::size_t available = rest.size() - kFrameHeaderSize;
    if (h.length > available) h.length = static_cast<std::uint32_t>(available);
    one_frame(h, rest.substr(kFrameHeaderSize, h.length));
    rest.remove_prefix(kFrameHeaderSize + h.length);
  }
  if (!in.empty()) split_block(in.substr(1), 1 + static_cast<unsigned char>(in[0]) % 64);
  return 0;
}
