// The HTTP/2 frame codec (src/cpp/core/http2/frame.hpp): every frame type, every size, padding and
// flag rule of RFC 9113 6, and the writers' bytes.
#include <string>

#include "check.hpp"
#include "h2_frames.hpp"
#include "http2/frame.hpp"

using namespace ruvicorn::http2;

namespace {

FrameHeader header_of(const std::string& f) { return decode_frame_header(f.data()); }
std::string_view payload_of(const std::string& f) { return std::string_view(f).substr(9); }

// "conn:PROTOCOL_ERROR", "stream3:FRAME_SIZE_ERROR" or "ok".
std::string kind(const Error& e) {
  if (!e) return "ok";
  std::string s = e.connection ? "conn:" : "stream" + std::to_string(e.stream) + ":";
  return s + std::string(error_code_name(e.code));
}

}  // namespace

TEST(frame_header_fields_and_reserved_bit) {
  std::string f = h2test::frame(0x1, 0x25, 0x80000003u, "abc");
  FrameHeader h = header_of(f);
  CHECK_EQ(h.length, 3u);
  CHECK_EQ(int(h.type), 1);
  CHECK_EQ(int(h.flags), 0x25);
  CHECK_EQ(h.stream, 3u);  // reserved bit ignored (4.1)
  std::string big(0x123456, 'x');
  CHECK_EQ(header_of(h2test::frame(0, 0, 1, big)).length, 0x123456u);
}

TEST(data_plain_padded_and_errors) {
  DataFrame d;
  std::string f = h2test::data(1, "hello", true);
  CHECK_EQ(kind(decode_data(header_of(f), payload_of(f), d)), "ok");
  CHECK_EQ(d.data, "hello");
  CHECK(d.end_stream);
  // padded: pad length 3, "hi", 3 bytes of padding
  f = h2test::frame(0x0, 0x8, 1, std::string("\x03hi\0\0\0", 6));
  CHECK_EQ(kind(decode_data(header_of(f), payload_of(f), d)), "ok");
  CHECK_EQ(d.data, "hi");
  CHECK(!d.end_stream);
  // padding filling the frame exactly (empty data) is fine
  f = h2test::frame(0x0, 0x8, 1, std::string("\x02\0\0", 3));
  CHECK_EQ(kind(decode_data(header_of(f), payload_of(f), d)), "ok");
  CHECK_EQ(d.data.size(), 0u);
  // pad >= payload length (6.1)
  f = h2test::frame(0x0, 0x8, 1, std::string("\x03\0\0", 3));
  CHECK_EQ(kind(decode_data(header_of(f), payload_of(f), d)), "conn:PROTOCOL_ERROR");
  f = h2test::frame(0x0, 0x8, 1, "");
  CHECK_EQ(kind(decode_data(header_of(f), payload_of(f), d)), "conn:FRAME_SIZE_ERROR");
  f = h2test::data(0, "x");
  CHECK_EQ(kind(decode_data(header_of(f), payload_of(f), d)), "conn:PROTOCOL_ERROR");
}

TEST(headers_padding_priority_and_errors) {
  HeadersFrame hf;
  std::string f = h2test::headers(3, "block", true, false);
  CHECK_EQ(kind(decode_headers(header_of(f), payload_of(f), hf)), "ok");
  CHECK_EQ(hf.fragment, "block");
  CHECK(hf.end_stream);
  CHECK(!hf.end_headers);
  CHECK(!hf.has_priority);
  // PADDED | PRIORITY | END_HEADERS: pad 2, E + dep 1, weight 200, "blk", padding
  std::string p = std::string("\x02\x80\0\0\x01\xc8", 6) + "blk" + std::string(2, '\0');
  f = h2test::frame(0x1, 0x8 | 0x20 | 0x4, 3, p);
  CHECK_EQ(kind(decode_headers(header_of(f), payload_of(f), hf)), "ok");
  CHECK_EQ(hf.fragment, "blk");
  CHECK(hf.has_priority);
  CHECK(hf.priority.exclusive);
  CHECK_EQ(hf.priority.dependency, 1u);
  CHECK_EQ(int(hf.priority.weight), 200);
  CHECK(hf.end_headers);
  // self-dependency: a stream error, but the fragment is still there to be decoded
  f = h2test::frame(0x1, 0x20 | 0x4, 3, std::string("\0\0\0\x03\x10", 5) + "xyz");
  CHECK_EQ(kind(decode_headers(header_of(f), payload_of(f), hf)), "stream3:PROTOCOL_ERROR");
  CHECK_EQ(hf.fragment, "xyz");
  // priority flag but fewer than 5 bytes
  f = h2test::frame(0x1, 0x20 | 0x4, 3, std::string("\0\0\0", 3));
  CHECK_EQ(kind(decode_headers(header_of(f), payload_of(f), hf)), "conn:FRAME_SIZE_ERROR");
  // padding longer than what is left after the priority field
  f = h2test::frame(0x1, 0x8 | 0x20 | 0x4, 3, std::string("\x04\0\0\0\x01\x10", 6) + "abc");
  CHECK_EQ(kind(decode_headers(header_of(f), payload_of(f), hf)), "conn:PROTOCOL_ERROR");
  f = h2test::headers(0, "x");
  CHECK_EQ(kind(decode_headers(header_of(f), payload_of(f), hf)), "conn:PROTOCOL_ERROR");
}

TEST(priority_sizes_and_self_dependency) {
  Priority pr;
  std::string f = h2test::priority(5, 3, 7, true);
  CHECK_EQ(kind(decode_priority(header_of(f), payload_of(f), pr)), "ok");
  CHECK_EQ(pr.dependency, 3u);
  CHECK(pr.exclusive);
  CHECK_EQ(int(pr.weight), 7);
  f = h2test::priority(5, 5);
  CHECK_EQ(kind(decode_priority(header_of(f), payload_of(f), pr)), "stream5:PROTOCOL_ERROR");
  f = h2test::frame(0x2, 0, 5, "abcd");
  CHECK_EQ(kind(decode_priority(header_of(f), payload_of(f), pr)), "stream5:FRAME_SIZE_ERROR");
  f = h2test::frame(0x2, 0, 5, "abcdef");
  CHECK_EQ(kind(decode_priority(header_of(f), payload_of(f), pr)), "stream5:FRAME_SIZE_ERROR");
  f = h2test::priority(0, 1);
  CHECK_EQ(kind(decode_priority(header_of(f), payload_of(f), pr)), "conn:PROTOCOL_ERROR");
}

TEST(rst_stream_sizes) {
  std::uint32_t code = 0;
  std::string f = h2test::rst_stream(7, 0x8);
  CHECK_EQ(kind(decode_rst_stream(header_of(f), payload_of(f), code)), "ok");
  CHECK_EQ(code, 8u);
  f = h2test::rst_stream(7, 0xdeadbeef);  // unknown codes are allowed (7)
  CHECK_EQ(kind(decode_rst_stream(header_of(f), payload_of(f), code)), "ok");
  CHECK_EQ(code, 0xdeadbeefu);
  f = h2test::frame(0x3, 0, 7, "abc");
  CHECK_EQ(kind(decode_rst_stream(header_of(f), payload_of(f), code)), "conn:FRAME_SIZE_ERROR");
  f = h2test::rst_stream(0, 0);
  CHECK_EQ(kind(decode_rst_stream(header_of(f), payload_of(f), code)), "conn:PROTOCOL_ERROR");
}

TEST(settings_entries_ack_and_errors) {
  SettingsFrame s;
  std::string f = h2test::settings({{0x1, 100}, {0x4, 1}, {0x99, 7}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "ok");
  CHECK_EQ(s.count(), 3u);
  std::uint16_t id;
  std::uint32_t v;
  s.at(1, id, v);
  CHECK_EQ(id, 4);
  CHECK_EQ(v, 1u);
  s.at(2, id, v);  // unknown id: kept, ignored by the connection
  CHECK_EQ(id, 0x99);
  f = h2test::settings_ack();
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "ok");
  CHECK(s.ack);
  f = h2test::frame(0x4, 0x1, 0, "abcdef");
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:FRAME_SIZE_ERROR");
  f = h2test::frame(0x4, 0, 0, "abc");
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:FRAME_SIZE_ERROR");
  f = h2test::frame(0x4, 0, 1, "");
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:PROTOCOL_ERROR");
  f = h2test::settings({{0x2, 2}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:PROTOCOL_ERROR");
  f = h2test::settings({{0x8, 2}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:PROTOCOL_ERROR");
  f = h2test::settings({{0x4, 0x80000000u}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:FLOW_CONTROL_ERROR");
  f = h2test::settings({{0x4, 0x7fffffffu}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "ok");
  f = h2test::settings({{0x5, 16383}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:PROTOCOL_ERROR");
  f = h2test::settings({{0x5, 1u << 24}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "conn:PROTOCOL_ERROR");
  f = h2test::settings({{0x5, (1u << 24) - 1}});
  CHECK_EQ(kind(decode_settings(header_of(f), payload_of(f), s)), "ok");
}

TEST(push_promise_from_a_client_is_an_error) {
  std::string f = h2test::frame(0x5, 0x4, 1, std::string("\0\0\0\x02", 4));
  CHECK_EQ(kind(decode_push_promise(header_of(f))), "conn:PROTOCOL_ERROR");
}

TEST(ping_sizes_ack_and_stream) {
  PingFrame p;
  std::string f = h2test::ping("abcdefgh");
  CHECK_EQ(kind(decode_ping(header_of(f), payload_of(f), p)), "ok");
  CHECK_EQ(p.opaque, "abcdefgh");
  CHECK(!p.ack);
  f = h2test::frame(0x6, 0xff, 0, "abcdefgh");  // undefined flags are ignored (4.1)
  CHECK_EQ(kind(decode_ping(header_of(f), payload_of(f), p)), "ok");
  CHECK(p.ack);
  f = h2test::frame(0x6, 0, 0, "abcdef");
  CHECK_EQ(kind(decode_ping(header_of(f), payload_of(f), p)), "conn:FRAME_SIZE_ERROR");
  f = h2test::frame(0x6, 0, 1, "abcdefgh");
  CHECK_EQ(kind(decode_ping(header_of(f), payload_of(f), p)), "conn:PROTOCOL_ERROR");
}

TEST(goaway_fields_and_errors) {
  GoawayFrame g;
  std::string f = h2test::goaway(0x80000009u, 0xb, "calm");
  CHECK_EQ(kind(decode_goaway(header_of(f), payload_of(f), g)), "ok");
  CHECK_EQ(g.last_stream, 9u);
  CHECK_EQ(g.code, 0xbu);
  CHECK_EQ(g.debug, "calm");
  f = h2test::frame(0x7, 0, 0, "1234567");
  CHECK_EQ(kind(decode_goaway(header_of(f), payload_of(f), g)), "conn:FRAME_SIZE_ERROR");
  f = h2test::frame(0x7, 0, 1, "12345678");
  CHECK_EQ(kind(decode_goaway(header_of(f), payload_of(f), g)), "conn:PROTOCOL_ERROR");
}

TEST(window_update_sizes_and_zero_increment) {
  std::uint32_t inc = 0;
  std::string f = h2test::window_update(0, 0x80000005u);
  CHECK_EQ(kind(decode_window_update(header_of(f), payload_of(f), inc)), "ok");
  CHECK_EQ(inc, 5u);  // the reserved bit is dropped
  f = h2test::window_update(0, 0);
  CHECK_EQ(kind(decode_window_update(header_of(f), payload_of(f), inc)), "conn:PROTOCOL_ERROR");
  f = h2test::window_update(3, 0);
  CHECK_EQ(kind(decode_window_update(header_of(f), payload_of(f), inc)), "stream3:PROTOCOL_ERROR");
  f = h2test::frame(0x8, 0, 3, "abc");
  CHECK_EQ(kind(decode_window_update(header_of(f), payload_of(f), inc)), "conn:FRAME_SIZE_ERROR");
  f = h2test::frame(0x8, 0, 0, "abcde");
  CHECK_EQ(kind(decode_window_update(header_of(f), payload_of(f), inc)), "conn:FRAME_SIZE_ERROR");
}

TEST(continuation_fields_and_stream_zero) {
  std::string_view frag;
  bool end = false;
  std::string f = h2test::continuation(1, "more", true);
  CHECK_EQ(kind(decode_continuation(header_of(f), payload_of(f), frag, end)), "ok");
  CHECK_EQ(frag, "more");
  CHECK(end);
  f = h2test::continuation(0, "more", false);
  CHECK_EQ(kind(decode_continuation(header_of(f), payload_of(f), frag, end)),
           "conn:PROTOCOL_ERROR");
}

TEST(writers_produce_what_the_decoders_read) {
  std::string out;
  const Setting s[] = {{setting::kMaxConcurrentStreams, 100},
                       {setting::kInitialWindowSize, 1 << 20}};
  write_settings(out, s, 2);
  write_settings_ack(out);
  write_ping(out, "abcdefgh", true);
  write_goaway(out, 7, ErrorCode::kEnhanceYourCalm, "why");
  write_window_update(out, 3, 1000);
  write_rst_stream(out, 5, ErrorCode::kRefusedStream);
  write_data(out, 1, "body", true);
  std::vector<h2test::Frame> f = h2test::parse_frames(out);
  CHECK(out.empty());
  CHECK_EQ(f.size(), 7u);
  CHECK_EQ(int(f[0].type), 4);
  CHECK_EQ(f[0].payload, std::string("\0\x03\0\0\0\x64\0\x04\0\x10\0\0", 12));
  CHECK_EQ(int(f[1].flags), 1);
  CHECK_EQ(f[1].payload.size(), 0u);
  CHECK_EQ(int(f[2].type), 6);
  CHECK_EQ(int(f[2].flags), 1);
  CHECK_EQ(f[2].payload, "abcdefgh");
  CHECK_EQ(f[3].u32(0), 7u);
  CHECK_EQ(f[3].u32(4), 0xbu);
  CHECK_EQ(f[3].payload.substr(8), "why");
  CHECK_EQ(f[4].stream, 3u);
  CHECK_EQ(f[4].u32(), 1000u);
  CHECK_EQ(f[5].stream, 5u);
  CHECK_EQ(f[5].u32(), 7u);
  CHECK_EQ(int(f[6].flags), 1);
  CHECK_EQ(f[6].payload, "body");
}

TEST(headers_split_into_continuations_at_the_peer_max_frame_size) {
  std::string block(40000, 'b');
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = char('a' + i % 26);
  std::string out;
  write_headers(out, 9, block, true, 16384);
  std::vector<h2test::Frame> f = h2test::parse_frames(out);
  CHECK_EQ(f.size(), 3u);
  CHECK_EQ(int(f[0].type), 1);
  CHECK_EQ(int(f[0].flags), 0x1);  // END_STREAM on HEADERS, END_HEADERS on the last CONTINUATION
  CHECK_EQ(f[0].payload.size(), 16384u);
  CHECK_EQ(int(f[1].type), 9);
  CHECK_EQ(int(f[1].flags), 0);
  CHECK_EQ(int(f[2].type), 9);
  CHECK_EQ(int(f[2].flags), 0x4);
  CHECK_EQ(f[2].stream, 9u);
  CHECK_EQ(f[0].payload + f[1].payload + f[2].payload, block);
  // a small block: one HEADERS frame with END_HEADERS
  write_headers(out, 1, "xy", false, 16384);
  f = h2test::parse_frames(out);
  CHECK_EQ(f.size(), 1u);
  CHECK_EQ(int(f[0].flags), 0x4);
  // exactly max_frame bytes: still one frame
  write_headers(out, 1, std::string(16384, 'z'), false, 16384);
  f = h2test::parse_frames(out);
  CHECK_EQ(f.size(), 1u);
}

TEST(error_code_names) {
  CHECK_EQ(error_code_name(ErrorCode::kEnhanceYourCalm), std::string_view("ENHANCE_YOUR_CALM"));
  CHECK_EQ(error_code_name(ErrorCode::kNoError), std::string_view("NO_ERROR"));
  CHECK_EQ(error_code_name(static_cast<ErrorCode>(0x77)), std::string_view("UNKNOWN"));
}

CHECK_MAIN()
