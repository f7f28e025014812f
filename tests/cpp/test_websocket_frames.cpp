// Frame reading and writing (RFC 6455 5), without compression.
#include <string>

#include "check.hpp"
#include "ruvicorn/websocket.hpp"
#include "websocket_recorder.hpp"

using namespace ruvicorn;
using namespace ruvicorn::http1;
using wstest::bytes;
using wstest::client_frame;
using wstest::Recorder;

namespace {

const WsDeflateParams kNoDeflate{};

std::string read_all(std::string_view input, WsRole role = WsRole::kServer,
                     std::size_t max_message = 1 << 20) {
  Limits limits;
  limits.ws_max_message = max_message;
  WsReader reader(limits, kNoDeflate, role);
  Recorder rec;
  reader.feed(input, rec);
  return rec.summary();
}

// The same input fed one byte at a time and in every two-piece split must give the same events.
std::string read_split(std::string_view input, WsRole role = WsRole::kServer) {
  const std::string whole = read_all(input, role);
  Limits limits;
  {
    WsReader reader(limits, kNoDeflate, role);
    Recorder rec;
    for (char c : input) reader.feed(std::string_view(&c, 1), rec);
    if (rec.summary() != whole) return "byte-at-a-time differs: " + rec.summary();
  }
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    WsReader reader(limits, kNoDeflate, role);
    Recorder rec;
    reader.feed(input.substr(0, cut), rec);
    reader.feed(input.substr(cut), rec);
    if (rec.summary() != whole) return "split differs at " + std::to_string(cut);
  }
  return whole;
}

}  // namespace

// RFC 6455 5.7 examples.
TEST(rfc_single_frame_unmasked) {
  const std::string frame = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  CHECK_EQ(read_split(frame, WsRole::kClient), std::string("text:Hello"));
  CHECK_EQ(read_all(frame, WsRole::kServer), std::string("error:1002"));  // clients must mask
}

TEST(rfc_single_frame_masked) {
  const std::string frame =
      bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  CHECK_EQ(read_split(frame), std::string("text:Hello"));
  CHECK_EQ(read_all(frame, WsRole::kClient), std::string("error:1002"));  // servers must not
  CHECK_EQ(client_frame(WsOpcode::kText, "Hello"), frame);
}

TEST(rfc_fragmented_unmasked) {
  const std::string frames = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  CHECK_EQ(read_split(frames, WsRole::kClient), std::string("text:Hello"));
}

TEST(rfc_ping_and_pong) {
  CHECK_EQ(read_split(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), WsRole::kClient),
           std::string("ping:Hello"));
  CHECK_EQ(read_split(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})),
           std::string("pong:Hello"));
}

TEST(rfc_length_forms) {
  std::string payload(256, 'x');
  std::string frame = bytes({0x82, 0x7e, 0x01, 0x00}) + payload;
  CHECK_EQ(read_all(frame, WsRole::kClient), "binary:" + payload);
  std::string out;
  ws_write_frame(out, WsOpcode::kBinary, payload);
  CHECK(out == frame);

  payload.assign(65536, 'y');
  frame = bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}) + payload;
  CHECK(read_all(frame, WsRole::kClient) == "binary:" + payload);
  out.clear();
  ws_write_frame(out, WsOpcode::kBinary, payload);
  CHECK(out == frame);
}

TEST(writer_server_frames) {
  WsWriter w(kNoDeflate);
  std::string out;
  w.text(out, "Hello");
  CHECK(out == bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  w.ping(out, "Hello");
  CHECK(out == bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  w.pong(out, "");
  CHECK(out == bytes({0x8a, 0x00}));
  out.clear();
  w.ping(out, std::string(300, 'p'));  // cut to 125
  CHECK_EQ(out.size(), 127u);
  out.clear();
  w.close(out, 1000, "bye");
  CHECK(out == bytes({0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}));
  out.clear();
  w.close(out, WsClose::kNoStatus);
  CHECK(out == bytes({0x88, 0x00}));
  out.clear();
  w.binary(out, "");
  CHECK(out == bytes({0x82, 0x00}));
}

TEST(writer_prepare_refers_to_the_callers_payload) {
  WsWriter w(kNoDeflate);
  const std::string big(1000, 'b');
  const WsFrameOut f = w.prepare(WsOpcode::kBinary, big);
  CHECK(f.payload.data() == big.data());  // no copy for uncompressed server frames
  CHECK_EQ(f.header_size, 4u);
  CHECK_EQ(f.size(), 1004u);
  CHECK(std::string(reinterpret_cast<const char*>(f.header), 4) == bytes({0x82, 126, 0x03, 0xe8}));
  const WsFrameOut c = w.prepare_close(1000);
  std::string out;
  c.append_to(out);
  CHECK(out == bytes({0x88, 0x02, 0x03, 0xe8}));
  std::uint8_t h[14];
  CHECK_EQ(ws_frame_header(h, WsOpcode::kText, 1ull << 32, false, true), 10u);
  CHECK_EQ(h[0], 0x41);
  CHECK_EQ(h[1], 127);
  CHECK_EQ(h[5], 1);
}

TEST(writer_close_reason_cut_at_character_boundary) {
  WsWriter w(kNoDeflate);
  std::string reason(122, 'a');
  reason += "\xc3\xa9\xc3\xa9";  // 122 + 4 bytes; byte 123 is inside the first 'é'
  std::string out;
  w.close(out, 1001, reason);
  CHECK_EQ(out.size(), 2u + 2u + 122u);
  std::string big(200, 'z');
  out.clear();
  w.close(out, 4000, big);
  CHECK_EQ(out.size(), 127u);
  CHECK(read_all(out, WsRole::kClient) == "close:4000:" + std::string(123, 'z'));
}

TEST(client_writer_round_trip) {
  WsWriter w(kNoDeflate, WsRole::kClient);
  std::string out;
  w.text(out, "hi there");
  w.binary(out, std::string(70000, '\x01'));
  w.ping(out, "p");
  w.close(out, 1000, "done");
  CHECK_EQ(out[1] & 0x80, 0x80);  // masked
  Limits limits;
  WsReader reader(limits, kNoDeflate);
  Recorder rec;
  reader.feed(out, rec);
  CHECK_EQ(rec.events.size(), 4u);
  CHECK(rec.summary() == "text:hi there|binary:" + std::string(70000, '\x01') +
                             "|ping:p|close:1000:done");
  CHECK(reader.state() == WsReader::State::kClosed);
}

TEST(unmask_all_lengths_and_offsets) {
  // Exercise the word-at-a-time unmasking against a byte loop, for every length and split.
  std::string payload;
  for (int i = 0; i < 100; ++i) payload += char(i * 31 + 7);
  for (std::size_t len = 0; len <= payload.size(); ++len) {
    const std::string frame =
        client_frame(WsOpcode::kBinary, std::string_view(payload).substr(0, len));
    for (std::size_t cut = 0; cut <= frame.size(); cut += 3) {
      Limits limits;
      WsReader reader(limits, kNoDeflate);
      Recorder rec;
      reader.feed(std::string_view(frame).substr(0, cut), rec);
      reader.feed(std::string_view(frame).substr(cut), rec);
      CHECK(rec.summary() == "binary:" + payload.substr(0, len));
    }
  }
}

TEST(fragmented_with_interleaved_control_frames) {
  std::string in = client_frame(WsOpcode::kText, "Hel", false);
  in += client_frame(WsOpcode::kPing, "p1");
  in += client_frame(WsOpcode::kContinuation, "l", false);
  in += client_frame(WsOpcode::kPong, "p2");
  in += client_frame(WsOpcode::kContinuation, "", false);
  in += client_frame(WsOpcode::kContinuation, "o");
  in += client_frame(WsOpcode::kBinary, "");
  in += client_frame(WsOpcode::kClose, bytes({0x03, 0xe8}));
  in += client_frame(WsOpcode::kText, "ignored after close");
  CHECK_EQ(read_split(in), std::string("ping:p1|pong:p2|text:Hello|binary:|close:1000:"));
}

TEST(utf8_split_across_fragments) {
  // "κόσμε" cut inside multi-byte characters.
  const std::string text = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    std::string in = client_frame(WsOpcode::kText, text.substr(0, cut), false);
    in += client_frame(WsOpcode::kContinuation, text.substr(cut));
    CHECK(read_all(in) == "text:" + text);
  }
}

TEST(invalid_utf8_is_1007) {
  CHECK_EQ(read_all(client_frame(WsOpcode::kText, "ab\xff")), std::string("error:1007"));
  CHECK_EQ(read_all(client_frame(WsOpcode::kText, "\xce")), std::string("error:1007"));  // cut
  // Fails fast: the first fragment is already wrong, the message never completes.
  CHECK_EQ(read_all(client_frame(WsOpcode::kText, "\xed\xa0\x80", false)),
           std::string("error:1007"));
  // Cut at the end of a fragmented message.
  std::string in = client_frame(WsOpcode::kText, "ok", false);
  in += client_frame(WsOpcode::kContinuation, "\xe2\x82");
  CHECK_EQ(read_all(in), std::string("error:1007"));
  // Binary is not checked.
  CHECK_EQ(read_all(client_frame(WsOpcode::kBinary, "\xff")), std::string("binary:\xff"));
}

TEST(protocol_errors_are_1002) {
  const std::string hello = client_frame(WsOpcode::kText, "Hello");
  std::string f = hello;
  f[0] = char(f[0] | 0x20);  // RSV2
  CHECK_EQ(read_all(f), std::string("error:1002"));
  f = hello;
  f[0] = char(f[0] | 0x10);  // RSV3
  CHECK_EQ(read_all(f), std::string("error:1002"));
  f = hello;
  f[0] = char(f[0] | 0x40);  // RSV1 without permessage-deflate
  CHECK_EQ(read_all(f), std::string("error:1002"));
  for (int op : {3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf}) {
    CHECK_EQ(read_all(client_frame(static_cast<WsOpcode>(op), "x")), std::string("error:1002"));
  }
  CHECK_EQ(read_all(client_frame(WsOpcode::kContinuation, "x")), std::string("error:1002"));
  CHECK_EQ(read_all(client_frame(WsOpcode::kText, "a", false) + hello),
           std::string("error:1002"));
  CHECK_EQ(read_all(client_frame(WsOpcode::kPing, "x", false)), std::string("error:1002"));
  CHECK_EQ(read_all(client_frame(WsOpcode::kPing, std::string(126, 'x'))),
           std::string("error:1002"));
  CHECK_EQ(read_all(client_frame(WsOpcode::kPong, std::string(125, 'x'))),
           "pong:" + std::string(125, 'x'));
  f = client_frame(WsOpcode::kClose, bytes({0x03, 0xe8}));
  f[0] = char(f[0] | 0x40);
  CHECK_EQ(read_all(f), std::string("error:1002"));
  // 64-bit length with the most significant bit set; the error comes from the header alone.
  CHECK_EQ(read_all(bytes({0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})),
           std::string("error:1002"));
}

TEST(input_after_error_is_ignored) {
  Limits limits;
  WsReader reader(limits, kNoDeflate);
  Recorder rec;
  reader.feed(client_frame(WsOpcode::kContinuation, "x"), rec);
  reader.feed(client_frame(WsOpcode::kText, "y"), rec);
  CHECK_EQ(rec.summary(), std::string("error:1002"));
  CHECK(reader.state() == WsReader::State::kFailed);
}

TEST(message_too_big_is_1009_before_payload) {
  Limits limits;
  limits.ws_max_message = 10;
  {
    WsReader reader(limits, kNoDeflate);
    Recorder rec;
    // Only the header of an 11-byte frame: the limit is enforced from the length.
    const std::string f = client_frame(WsOpcode::kBinary, std::string(11, 'x'));
    reader.feed(std::string_view(f).substr(0, 6), rec);
    CHECK_EQ(rec.summary(), std::string("error:1009"));
    CHECK_EQ(reader.buffered(), 0u);
  }
  {
    WsReader reader(limits, kNoDeflate);
    Recorder rec;
    reader.feed(client_frame(WsOpcode::kBinary, std::string(10, 'x')), rec);
    reader.feed(client_frame(WsOpcode::kBinary, std::string(6, 'x'), false), rec);
    reader.feed(client_frame(WsOpcode::kContinuation, std::string(4, 'x'), false), rec);
    CHECK_EQ(reader.buffered(), 10u);
    reader.feed(client_frame(WsOpcode::kContinuation, "x", true), rec);
    CHECK_EQ(rec.summary(), "binary:" + std::string(10, 'x') + "|error:1009");
  }
  {
    // A 2^62-byte frame header is refused at once.
    WsReader reader(limits, kNoDeflate);
    Recorder rec;
    reader.feed(bytes({0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}), rec);
    CHECK_EQ(rec.summary(), std::string("error:1009"));
  }
}

TEST(close_frames) {
  auto close = [](std::string payload) {
    return read_all(client_frame(WsOpcode::kClose, payload));
  };
  CHECK_EQ(close(""), std::string("close:1005:"));
  CHECK_EQ(close(bytes({0x03})), std::string("error:1002"));
  CHECK_EQ(close(bytes({0x03, 0xe8}) + "bye"), std::string("close:1000:bye"));
  CHECK_EQ(close(bytes({0x0b, 0xb8})), std::string("close:3000:"));
  CHECK_EQ(close(bytes({0x13, 0x87})), std::string("close:4999:"));
  CHECK_EQ(close(bytes({0x03, 0xf4})), std::string("close:1012:"));
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    CHECK_EQ(close(bytes({code >> 8, code & 0xff})), std::string("error:1002"));
    CHECK(!ws_close_code_valid(code));
  }
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1013, 3000, 4000}) {
    CHECK(ws_close_code_valid(code));
  }
  CHECK_EQ(close(bytes({0x03, 0xe8, 0xff})), std::string("error:1007"));
}

TEST(close_during_fragmented_message) {
  std::string in = client_frame(WsOpcode::kText, "He", false);
  in += client_frame(WsOpcode::kClose, bytes({0x03, 0xe9}));
  CHECK_EQ(read_split(in), std::string("close:1001:"));
}

TEST(empty_and_many_small_messages) {
  std::string in;
  for (int i = 0; i < 1000; ++i) in += client_frame(WsOpcode::kText, std::to_string(i));
  Limits limits;
  WsReader reader(limits, kNoDeflate);
  Recorder rec;
  reader.feed(in, rec);
  CHECK_EQ(rec.events.size(), 1000u);
  CHECK_EQ(rec.events[999].data, std::string("999"));
  CHECK_EQ(read_all(client_frame(WsOpcode::kText, "")), std::string("text:"));
}

TEST(utf8_validator_cases) {
  CHECK(utf8_valid(""));
  CHECK(utf8_valid("plain ascii text that is longer than eight bytes"));
  CHECK(utf8_valid("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
  CHECK(utf8_valid("\xed\x9f\xbf\xee\x80\x80"));  // around the surrogates
  for (const char* bad : {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
                          "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
                          "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe", "\xc2",
                          "\xe2\x82", "\xf0\x90\x80", "\xc2\x41"}) {
    CHECK(!utf8_valid(bad));
  }
  // The fast path must still catch a bad byte at any position of a long ASCII run.
  for (std::size_t pos = 0; pos < 40; ++pos) {
    std::string s(40, 'a');
    s[pos] = '\x80';
    CHECK(!utf8_valid(s));
    s[pos] = '\x7f';
    CHECK(utf8_valid(s));
  }
  Utf8Validator v;
  CHECK(v.feed("\xf0\x9f"));
  CHECK(!v.complete());
  CHECK(v.feed("\x98\x80"));
  CHECK(v.complete());
  CHECK(!v.feed("\x80"));
  CHECK(v.failed());
  CHECK(!v.feed("a"));  // sticky
  v.reset();
  CHECK(v.feed("a") && v.complete());
}

// What the check learns for the binding to build its str without decoding again.
TEST(utf8_validator_stats) {
  struct Case {
    const char* text;
    bool ascii;
    std::size_t code_points;
    int width;
  };
  for (const Case& c : {Case{"", true, 0, 1}, Case{"plain ascii, longer than eight", true, 30, 1},
                        Case{"caf\xc3\xa9 \xc3\xbf", false, 6, 1},      // up to U+00FF
                        Case{"\xc4\x80", false, 1, 2},                   // U+0100
                        Case{"a\xe2\x82\xac", false, 2, 2},             // U+20AC
                        Case{"\xef\xbf\xbf\xc2\x80", false, 2, 2},    // U+FFFF
                        Case{"\xf0\x90\x80\x80x", false, 2, 4},        // U+10000
                        Case{"\xc3\xa9\xf4\x8f\xbf\xbf", false, 2, 4}}) {
    const std::string text = c.text;
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {  // fed in two pieces, cut anywhere
      Utf8Validator v;
      CHECK(v.feed(text.substr(0, cut)) && v.feed(text.substr(cut)) && v.complete());
      CHECK_EQ(v.ascii(), c.ascii);
      CHECK_EQ(v.code_points(), c.code_points);
      CHECK_EQ(v.width(), c.width);
    }
  }
  Utf8Validator v;
  CHECK(v.feed("\xf0\x90\x80\x80"));
  v.reset();  // a new message starts from nothing
  CHECK(v.feed("ab") && v.ascii() && v.code_points() == 2 && v.width() == 1);
}

// An owner that pauses (a full queue) makes feed() stop after the frame that filled it and
// report what it took; the rest, fed again, continues where it stopped, even mid-frame.
TEST(reader_stops_when_the_owner_pauses) {
  struct Pausing : Recorder {
    std::size_t room = 2;
    bool paused() const override { return events.size() >= room; }
  };
  std::string input;
  for (const char* m : {"one", "two", "three", "four", "five"}) {
    input += client_frame(WsOpcode::kText, m);
  }
  input += client_frame(WsOpcode::kPing, "p");
  input += client_frame(WsOpcode::kBinary, "six").substr(0, 4);  // a frame cut short
  Limits limits;
  WsReader reader(limits, kNoDeflate, WsRole::kServer);
  Pausing rec;
  std::size_t took = reader.feed(input, rec);
  CHECK_EQ(took, 2 * client_frame(WsOpcode::kText, "one").size());
  CHECK_EQ(rec.summary(), std::string("text:one|text:two"));
  CHECK_EQ(reader.feed(std::string_view(input).substr(took), rec), std::size_t(0));  // still full
  rec.room = 100;
  took += reader.feed(std::string_view(input).substr(took), rec);
  CHECK_EQ(took, input.size());  // everything, including the partial frame's bytes
  CHECK_EQ(rec.summary(), std::string("text:one|text:two|text:three|text:four|text:five|ping:p"));
  reader.feed(client_frame(WsOpcode::kBinary, "six").substr(4), rec);
  CHECK_EQ(rec.events.back().data, std::string("six"));
}

CHECK_MAIN()
