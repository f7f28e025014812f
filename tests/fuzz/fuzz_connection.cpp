// Fuzz target: the Connection state machine fed in random pieces. Invariants: never crashes,
// nothing is delivered after on_error, buffered() stays bounded while a head is read, and the
// events are the same for both parser back ends and for any split of the input. In "early" mode
// every request is answered from on_request, so its body is drained: nothing of it may be
// delivered, and the next requests must be found at the same bytes whatever the split.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/connection.hpp"

using namespace ruvicorn;
using namespace ruvicorn::http1;

namespace {

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz_connection: %s\ninput (%zu bytes): ", what, input.size());
  for (unsigned char c : input) {
    if (c >= 0x20 && c < 0x7f && c != '\\') std::fputc(c, stderr);
    else std::fprintf(stderr, "\\x%02x", c);
  }
  std::fputc('\n', stderr);
  std::abort();
}

struct Recorder : ConnectionHandler {
  Connection* conn = nullptr;
  bool deferred = false;  // answer after feed() returns (the app took a while) instead of inside
  bool early = false;     // answer from on_request, before the body
  std::string_view input;
  std::string log;
  bool errored = false;
  void after_error() {
    if (errored) fail("event after on_error", input);
  }
  void on_request(const Request& r) override {
    after_error();
    log += "[";
    log += r.head.method;
    log += ' ';
    log += r.head.target;
    log += ']';
    if (early) conn->response_done(true, *this);
  }
  void on_body(std::string_view chunk) override {
    after_error();
    if (early) fail("body delivered after the answer", input);
    log += chunk;
  }
  void on_body_end() override {
    after_error();
    if (early) fail("body end delivered after the answer", input);
    log += '|';
    if (!deferred) conn->response_done(true, *this);  // re-entrant, like a fast app
  }
  void on_error(const HttpError& e) override {
    after_error();
    errored = true;
    log += '!';
    log += std::to_string(e.status);
  }
};

std::string run(ParserKind kind, const Limits& limits, std::string_view input,
                const std::vector<std::size_t>& cuts, bool early, bool deferred = false) {
  Connection conn(limits, kind);
  Recorder rec;
  rec.conn = &conn;
  rec.input = input;
  rec.early = early;
  rec.deferred = deferred && !early;
  auto answer = [&] {
    while (deferred && conn.state() == Connection::State::kAwaitResponse) conn.response_done(true, rec);
  };
  std::size_t pos = 0;
  for (std::size_t cut : cuts) {
    if (cut <= pos || cut > input.size()) continue;
    conn.feed(input.substr(pos, cut - pos), rec);
    answer();
    pos = cut;
    if (conn.state() == Connection::State::kHead && conn.buffered() > limits.max_head_size)
      fail("buffer grew past max_head_size while reading a head", input);
  }
  conn.feed(input.substr(pos), rec);
  answer();
  if (conn.state() == Connection::State::kClosed && conn.buffered() != 0)
    fail("closed connection still holds bytes", input);
  if (conn.state() == Connection::State::kClosed) rec.log += 'X';  // a drain may end it quietly
  return rec.log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Limits limits;
  limits.max_head_size = 512;
  limits.max_header_field_size = 128;
  limits.max_request_line = 128;
  limits.max_header_count = 8;
  if (data[0] & 1) limits.max_body_size = 16;
  const bool early = (data[0] & 2) != 0;
  if (data[0] & 4) limits.max_drain = 24;
  // The second byte seeds the split points.
  std::uint32_t seed = data[1] * 2654435761u + 1;
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::vector<std::size_t> cuts;
  for (std::size_t pos = 0; pos < input.size();) {
    seed = seed * 1103515245u + 12345u;
    pos += 1 + (seed >> 16) % 17;
    cuts.push_back(pos);
  }
  std::string whole = run(ParserKind::kPico, limits, input, {}, early);
  if (run(ParserKind::kLlhttp, limits, input, {}, early) != whole)
    fail("pico and llhttp deliver different events", input);
  if (run(ParserKind::kPico, limits, input, cuts, early) != whole ||
      run(ParserKind::kLlhttp, limits, input, cuts, early) != whole)
    fail("events depend on how the input was split", input);
  if (!early && run(ParserKind::kPico, limits, input, cuts, false, true) != whole)
    fail("events differ when responses complete after feed() returns", input);
  return 0;
}
