// permessage-deflate (RFC 7692): the section 7.2.3 examples, round trips, and the inflate bound.
#include <random>
#include <string>

#include "check.hpp"
#include "ruvicorn/websocket.hpp"
#include "websocket_recorder.hpp"

using namespace ruvicorn;
using wstest::bytes;
using wstest::client_frame;
using wstest::Recorder;

namespace {

WsDeflateParams deflate_on() {
  WsDeflateParams p;
  p.enabled = true;
  return p;
}

std::string read_all(std::string_view input, WsRole role, const WsDeflateParams& p = deflate_on(),
                     std::size_t max_message = 1 << 20) {
  Limits limits;
  limits.ws_max_message = max_message;
  WsReader reader(limits, p, role);
  Recorder rec;
  reader.feed(input, rec);
  return rec.summary();
}

std::string random_bytes(std::size_t n, unsigned seed, int alphabet = 256) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng() % alphabet + (alphabet < 256 ? 'a' : 0));
  return s;
}

}  // namespace

// 7.2.3.1: "Hello" in one compressed frame, and in two fragments.
TEST(rfc7692_hello) {
  const std::string frame = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  CHECK_EQ(read_all(frame, WsRole::kClient), std::string("text:Hello"));
  // The same payload sent by a client (masked) to a server.
  const std::string payload = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  CHECK_EQ(read_all(client_frame(WsOpcode::kText, payload, true, true), WsRole::kServer),
           std::string("text:Hello"));
  const std::string frags =
      bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00});
  CHECK_EQ(read_all(frags, WsRole::kClient), std::string("text:Hello"));
  // Without the extension RSV1 is a protocol error.
  CHECK_EQ(read_all(frame, WsRole::kClient, WsDeflateParams{}), std::string("error:1002"));
}

// 7.2.3.2: the second "Hello" refers back into the first message's window.
TEST(rfc7692_context_takeover) {
  const std::string two = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00,
                                 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});
  CHECK_EQ(read_all(two, WsRole::kClient), std::string("text:Hello|text:Hello"));
}

// 7.2.3.3: a stored (uncompressed) deflate block; 7.2.3.4: a final (BFINAL) block.
TEST(rfc7692_stored_and_final_blocks) {
  CHECK_EQ(read_all(bytes({0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f,
                           0x00}),
                    WsRole::kClient),
           std::string("text:Hello"));
  const std::string final_block =
      bytes({0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
  CHECK_EQ(read_all(final_block + final_block, WsRole::kClient),
           std::string("text:Hello|text:Hello"));
}

TEST(rfc7692_empty_message) {
  CHECK_EQ(read_all(bytes({0xc1, 0x01, 0x00}), WsRole::kClient), std::string("text:"));
  CHECK_EQ(read_all(bytes({0xc2, 0x00}), WsRole::kClient), std::string("binary:"));
}

TEST(writer_compresses_hello_like_the_rfc) {
  WsWriter w(deflate_on());
  std::string out;
  w.text(out, "Hello");
  CHECK(out == bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  out.clear();
  w.text(out, "Hello");  // context takeover: much shorter
  CHECK(out.size() < 9u);
  CHECK_EQ(read_all(bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}) + out,
                    WsRole::kClient),
           std::string("text:Hello|text:Hello"));
  out.clear();
  w.binary(out, "");
  CHECK(out == bytes({0xc2, 0x01, 0x00}));
}

TEST(writer_options) {
  WsDeflateParams p = deflate_on();
  p.min_size = 10;
  WsWriter w(p);
  std::string out;
  w.text(out, "short");
  CHECK(out == bytes({0x81, 0x05, 's', 'h', 'o', 'r', 't'}));  // below min_size: plain
  out.clear();
  w.message(out, WsOpcode::kText, "long enough message", false);
  CHECK_EQ(out[0] & 0x40, 0);  // compress=false
  out.clear();
  w.text(out, "long enough message");
  CHECK_EQ(out[0] & 0x40, 0x40);
  out.clear();
  w.ping(out, "no compression for control frames");
  CHECK_EQ(out[0] & 0x40, 0);
}

TEST(round_trips_both_directions) {
  for (int server_bits : {9, 12, 15}) {
    for (int takeover = 0; takeover < 2; ++takeover) {
      WsDeflateParams p = deflate_on();
      p.server_max_window_bits = server_bits;
      p.client_max_window_bits = server_bits == 9 ? 8 : server_bits;
      p.server_no_context_takeover = takeover == 1;
      p.client_no_context_takeover = takeover == 1;
      Limits limits;
      WsWriter server_writer(p, WsRole::kServer);
      WsWriter client_writer(p, WsRole::kClient);
      WsReader client_reader(limits, p, WsRole::kClient);
      WsReader server_reader(limits, p, WsRole::kServer);
      Recorder at_client, at_server;
      std::string expect;
      for (int i = 0; i < 30; ++i) {
        const std::string msg = i % 3 == 0 ? random_bytes(i * 997, i)
                                           : random_bytes(i * 1500 + 1, i, 4);  // compressible
        std::string a, b;
        server_writer.binary(a, msg);
        client_writer.binary(b, msg);
        // Feed in uneven pieces to cross frame boundaries.
        for (std::size_t pos = 0; pos < a.size(); pos += 777)
          client_reader.feed(std::string_view(a).substr(pos, 777), at_client);
        for (std::size_t pos = 0; pos < b.size(); pos += 333)
          server_reader.feed(std::string_view(b).substr(pos, 333), at_server);
        if (!expect.empty()) expect += '|';
        expect += "binary:" + msg;
      }
      CHECK(at_client.summary() == expect);
      CHECK(at_server.summary() == expect);
    }
  }
}

TEST(fragmented_compressed_from_client) {
  // Compress with a client writer, then re-frame the payload as three fragments.
  WsWriter w(deflate_on(), WsRole::kClient);
  std::string framed;
  const std::string text =
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 " + random_bytes(3000, 7, 3);
  w.text(framed, text);
  // Unmask by reading it as a "server" would not work here; compress with a server writer instead.
  WsWriter sw(deflate_on(), WsRole::kServer);
  std::string plain;
  sw.text(plain, text);
  const std::size_t hl = (plain[1] & 0x7f) == 126 ? 4 : 2;
  const std::string payload = plain.substr(hl);
  const std::size_t third = payload.size() / 3;
  std::string in = client_frame(WsOpcode::kText, payload.substr(0, third), false, true);
  in += client_frame(WsOpcode::kPing, "x");
  in += client_frame(WsOpcode::kContinuation, payload.substr(third, third), false);
  in += client_frame(WsOpcode::kContinuation, payload.substr(2 * third), true);
  CHECK(read_all(in, WsRole::kServer) == "ping:x|text:" + text);
  CHECK(read_all(framed, WsRole::kServer) == "text:" + text);
  // RSV1 on a continuation frame is a protocol error.
  std::string bad = client_frame(WsOpcode::kText, payload.substr(0, third), false, true);
  bad += client_frame(WsOpcode::kContinuation, payload.substr(third), true, true);
  CHECK_EQ(read_all(bad, WsRole::kServer), std::string("error:1002"));
}

TEST(inflate_bound_stops_a_deflate_bomb) {
  WsWriter w(deflate_on(), WsRole::kClient);
  std::string bomb;
  w.binary(bomb, std::string(8 << 20, '\0'));  // 8 MiB of zeros: a few KiB on the wire
  CHECK(bomb.size() < 64 * 1024u);
  Limits limits;
  limits.ws_max_message = 1 << 20;
  WsReader reader(limits, deflate_on());
  Recorder rec;
  reader.feed(bomb, rec);
  CHECK_EQ(rec.summary(), std::string("error:1009"));
  CHECK(reader.buffered() <= (1u << 20) + 1);
  // Exactly at the limit is fine.
  std::string ok;
  WsWriter w2(deflate_on(), WsRole::kClient);
  w2.binary(ok, std::string(1 << 20, 'a'));
  CHECK_EQ(read_all(ok, WsRole::kServer, deflate_on(), 1 << 20).size(), 7u + (1u << 20));
  std::string over;
  WsWriter w3(deflate_on(), WsRole::kClient);
  w3.binary(over, std::string((1 << 20) + 1, 'a'));
  CHECK_EQ(read_all(over, WsRole::kServer, deflate_on(), 1 << 20), std::string("error:1009"));
}

TEST(bad_compressed_data) {
  // 0xff starts a block with the reserved type 3.
  CHECK_EQ(read_all(bytes({0xc1, 0x02, 0xff, 0xff}), WsRole::kClient), std::string("error:1007"));
  // Valid deflate, invalid UTF-8 inside a text message.
  WsWriter w(deflate_on(), WsRole::kClient);
  std::string f;
  w.text(f, "abc\xff");
  CHECK_EQ(read_all(f, WsRole::kServer), std::string("error:1007"));
  WsWriter w2(deflate_on(), WsRole::kClient);  // fresh context for a fresh reader
  f.clear();
  w2.binary(f, "abc\xff");
  CHECK_EQ(read_all(f, WsRole::kServer), std::string("binary:abc\xff"));
}

CHECK_MAIN()
