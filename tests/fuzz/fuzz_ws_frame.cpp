// Fuzz target for the WebSocket frame reader (and the extension-offer parser). Byte 0 picks the
// configuration, byte 1 the size of the pieces the rest is fed in. Checks the reader's promises:
// text messages are valid UTF-8, nothing exceeds the limit, nothing is delivered after the end.
//
// Built with libFuzzer (-DRUVICORN_FUZZ=ON, clang). With -DRUVICORN_FUZZ_STANDALONE it has its own
// main(): replays the files given as arguments, or without arguments runs random mutations of
// built-in seed frames (for compilers without libFuzzer).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "ruvicorn/websocket.hpp"

namespace {

using namespace ruvicorn;

using fuzz::violated;

struct Checker : WsHandler {
  std::size_t max = 0;
  bool ended = false;
  void event() {
    if (ended) violated("event after close or error");
  }
  void on_message(WsOpcode op, std::string_view payload) override {
    event();
    if (op != WsOpcode::kText && op != WsOpcode::kBinary) violated("bad message opcode");
    if (max != 0 && payload.size() > max) violated("message over the limit");
    if (op == WsOpcode::kText && !utf8_valid(payload)) violated("invalid UTF-8 delivered");
  }
  void on_ping(std::string_view p) override {
    event();
    if (p.size() > 125) violated("long ping");
  }
  void on_pong(std::string_view p) override {
    event();
    if (p.size() > 125) violated("long pong");
  }
  void on_close(int code, std::string_view reason) override {
    event();
    if (code != WsClose::kNoStatus && !ws_close_code_valid(code)) violated("bad close code");
    if (!utf8_valid(reason)) violated("bad close reason");
    ended = true;
  }
  void on_error(const WsError& e) override {
    event();
    if (e.code != 1002 && e.code != 1007 && e.code != 1009 && e.code != 1011) {
      violated("unexpected error code");
    }
    ended = true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t config = data[0];
  const std::size_t piece = std::size_t(data[1]) + 1;
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

  if (config == 0xff) {
    // The Sec-WebSocket-Extensions parser on arbitrary text.
    const Header h{"Sec-WebSocket-Extensions", rest};
    WsDeflateParams params;
    if (ws_negotiate_deflate(&h, 1, WsDeflateOptions{}, params)) {
      std::string value;
      params.append_response_value(value);
    }
    return 0;
  }

  Limits limits;
  limits.ws_max_message = (config & 0x04) ? 64 : 4096;
  WsDeflateParams deflate;
  deflate.enabled = (config & 0x01) != 0;
  deflate.client_no_context_takeover = (config & 0x08) != 0;
  deflate.client_max_window_bits = 8 + (config >> 4) % 8;
  const WsRole role = (config & 0x02) ? WsRole::kClient : WsRole::kServer;
  WsReader reader(limits, deflate, role);
  Checker checker;
  checker.max = limits.ws_max_message;
  for (std::size_t pos = 0; pos < rest.size(); pos += piece) {
    reader.feed(rest.substr(pos, piece), checker);
  }
  return 0;
}

#ifdef RUVICORN_FUZZ_STANDALONE
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  if (argc > 1) {
    for (int i = 1; i < argc; ++i) {
      std::ifstream f(argv[i], std::ios::binary);
      const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    }
    return 0;
  }
  // Seeds: valid client traffic (plain and compressed), then byte-level mutations of it.
  std::vector<std::string> seeds;
  const std::uint8_t mask[4] = {1, 2, 3, 4};
  for (int compressed = 0; compressed < 2; ++compressed) {
    WsDeflateParams p;
    p.enabled = compressed == 1;
    WsWriter w(p, WsRole::kClient);
    std::string s(2, '\0');
    s[0] = char(compressed);
    w.text(s, "Hello \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
    w.binary(s, std::string(300, 'a'));
    ws_write_frame(s, WsOpcode::kText, "frag", false, false, mask);
    w.ping(s, "ping");
    ws_write_frame(s, WsOpcode::kContinuation, "ment", true, false, mask);
    w.close(s, 1000, "bye");
    seeds.push_back(s);
  }
  seeds.push_back(
      std::string("\xff\x00permessage-deflate; client_max_window_bits=10, x; y=\"1\"", 56));
  std::mt19937 rng(12345);
  const long iterations = std::getenv("FUZZ_ITERATIONS") ? std::atol(std::getenv("FUZZ_ITERATIONS"))
                                                         : 200000;
  for (long i = 0; i < iterations; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + rng() % 8;
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[at] = char(rng()); break;                           // replace
        case 1: s[at] = char(s[at] ^ (1 << (rng() % 8))); break;      // flip a bit
        case 2: s.erase(at, 1 + rng() % 4); break;                    // delete
        default: s.insert(at, 1 + rng() % 4, char(rng())); break;     // insert
      }
      if (s.size() < 2) s.resize(2);
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  std::printf("%ld inputs ok\n", iterations);
  return 0;
}
#endif
