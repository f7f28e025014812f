// The steady state of the WebSocket codec allocates nothing per frame: after a warm-up message of
// the same size, reading and writing further messages makes no heap allocation.
#include <cstdlib>
#include <string>

#include "check.hpp"
#include "counting_new.hpp"
#include "ruvicorn/websocket.hpp"

using namespace ruvicorn;

namespace {

struct Counter : WsHandler {
  long messages = 0, controls = 0, errors = 0;
  void on_message(WsOpcode, std::string_view) override { ++messages; }
  void on_ping(std::string_view) override { ++controls; }
  void on_pong(std::string_view) override { ++controls; }
  void on_close(int, std::string_view) override { ++controls; }
  void on_error(const WsError&) override { ++errors; }
};

void steady_state(bool deflate, std::size_t size) {
  WsDeflateParams p;
  p.enabled = deflate;
  WsWriter client(p, WsRole::kClient);
  std::string msg(size, 'x');
  for (std::size_t i = 0; i < size; ++i) msg[i] = char('a' + i % 23);
  // Client traffic: messages, some fragmented, with pings in between.
  std::string warm, input;
  client.text(warm, msg);
  client.ping(warm, "warm");
  for (int i = 0; i < 50; ++i) {
    client.text(input, msg);
    client.ping(input, "p");
  }
  Limits limits;
  WsReader reader(limits, p);
  WsWriter server(p);
  Counter counter;
  std::string out;
  out.reserve(64 * 1024 + size * 2);
  reader.feed(warm, counter);
  server.text(out, msg);  // warm the writer (deflate state, scratch buffer)
  out.clear();

  const long before = g_allocations.load();
  for (std::size_t pos = 0; pos < input.size(); pos += 1000) {
    reader.feed(std::string_view(input).substr(pos, 1000), counter);
  }
  for (int i = 0; i < 50; ++i) {
    out.clear();
    server.text(out, msg);
    const WsFrameOut f = server.prepare(WsOpcode::kBinary, msg);
    CHECK(f.size() > 0);
  }
  CHECK_EQ(g_allocations.load() - before, 0L);
  CHECK_EQ(counter.messages, 51L);
  CHECK_EQ(counter.errors, 0L);
}

}  // namespace

TEST(no_allocations_small_plain) { steady_state(false, 32); }
TEST(no_allocations_large_plain) { steady_state(false, 16384); }
TEST(no_allocations_small_deflate) { steady_state(true, 32); }
TEST(no_allocations_large_deflate) { steady_state(true, 16384); }

CHECK_MAIN()
