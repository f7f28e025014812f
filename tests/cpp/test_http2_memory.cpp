// What an HTTP/2 connection keeps on the heap: a few KiB once idle (HPACK tables grow with what
// they hold, see test_hpack.cpp; buffers live only while they are used; pools go back on
// trim()), and a response queue bounded by what waits in it, not by what went through it. Heap
// bytes are counted by the replaced operator new (counting_new.hpp).
#include <string>

#include "check.hpp"
#include "counting_new.hpp"
#include "h2_session.hpp"

using namespace h2test;

namespace {

constexpr long kKiB = 1024;

// A browser's request: a dozen fields, most of them indexed by the client's encoder.
Fields browser_request(std::uint32_t i) {
  return {{":method", "GET"},
          {":scheme", "https"},
          {":authority", "www.example.com"},
          {":path", "/static/app.js?v=" + std::to_string(i)},
          {"user-agent",
           "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36"},
          {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
          {"accept-encoding", "gzip, deflate, br"},
          {"accept-language", "en-GB,en;q=0.9"},
          {"cookie", "session=0123456789abcdef"},
          {"cookie", "theme=dark"},
          {"sec-fetch-mode", "navigate"},
          {"referer", "https://www.example.com/"}};
}

// Requests and complete responses on streams 1, 3, ... (each released), output read.
void serve(Session& s, std::uint32_t count, std::uint32_t first = 1) {
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t id = first + 2 * i;
    s.feed(s.request(id, browser_request(i)));
    s.respond(id, 200, "Hello, World!");
    s.conn->release(id);
    s.read();
  }
  s.pending = std::string();
  s.rec = Recorder{};
}

// Heap bytes the connection holds: what destroying it gives back.
long connection_bytes(Session& s) {
  const long with = g_live_bytes;
  s.conn.reset();
  return with - g_live_bytes;
}

}  // namespace

TEST(an_idle_connection_keeps_a_few_kib) {
  Session s;
  s.handshake();
  serve(s, 3);
  CHECK_EQ(s.conn->active_streams(), 0u);
  // HPACK tables hold what the client and we indexed (a few hundred bytes each), not 2 x 4 KiB
  // each; no frame buffer; the output buffer is the owner's to keep or trim.
  Session untrimmed;
  untrimmed.handshake();
  serve(untrimmed, 3);
  const long kept = connection_bytes(untrimmed);
  CHECK(kept < 8 * kKiB);
  s.conn->trim();
  const long trimmed = connection_bytes(s);
  CHECK(trimmed < 6 * kKiB);
  CHECK(trimmed < kept);
}

TEST(a_split_frame_is_buffered_only_while_split) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get("/", "POST"), false));
  s.read();
  const std::string frame = data(1, std::string(16384, 'u'));
  const long before = g_live_bytes;
  s.feed(std::string_view(frame).substr(0, 8000));
  CHECK(g_live_bytes - before >= 16384);  // the frame's own size, once
  s.feed(std::string_view(frame).substr(8000));
  CHECK_EQ(s.rec.data_bytes, 16384u);
  s.rec.events.clear();
  s.rec.events.shrink_to_fit();
  CHECK(g_live_bytes - before < 1 * kKiB);  // and given back once the frame is complete
}

TEST(a_queue_that_never_drains_stays_bounded) {
  // Body byte k is byte_at(k): what arrives is checked as it comes, without keeping it.
  auto byte_at = [](std::size_t k) { return char('a' + (k / 1000) % 26); };
  auto piece = [&](std::size_t from, std::size_t n) {
    std::string p(n, '\0');
    for (std::size_t i = 0; i < n; ++i) p[i] = byte_at(from + i);
    return p;
  };
  std::size_t sent = 0, received = 0;
  bool intact = true;
  Session s;
  auto receive = [&] {
    for (const Frame& f : of_type(s.read(), 0x0, 1)) {
      intact = intact && f.payload == piece(received, f.payload.size());
      received += f.payload.size();
    }
    s.rec.events.clear();
  };
  s.handshake(settings({{0x4, 16384}}));
  s.feed(s.request(1, Session::get()));
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(1, piece(0, 20000), false));
  sent = 20000;
  receive();
  long first = 0;
  // The app stays 4 KiB ahead of a client that grants 4 KiB at a time: the queue never empties.
  for (int i = 0; i < 300; ++i) {
    CHECK(!s.conn->data(1, piece(sent, 4096), false));
    sent += 4096;
    s.feed(window_update(1, 4096) + window_update(0, 4096));
    receive();
    CHECK(s.conn->pending(1) > 0);
    if (i == 0) first = g_live_bytes;
  }
  CHECK(g_live_bytes - first < 32 * kKiB);  // 1.2 MiB went through it
  CHECK(!s.conn->data(1, {}, true));
  s.feed(window_update(1, 1 << 20) + window_update(0, 1 << 20));
  receive();
  CHECK(intact);
  CHECK_EQ(received, sent);
}

TEST(trim_gives_back_the_stream_pool) {
  Session s;
  s.handshake();
  for (std::uint32_t i = 0; i < 100; ++i) s.feed(s.request(1 + 2 * i, browser_request(0)));
  CHECK_EQ(s.conn->active_streams(), 100u);
  for (std::uint32_t i = 0; i < 100; ++i) {
    s.respond(1 + 2 * i, 200, "ok");
    s.conn->release(1 + 2 * i);
  }
  s.read();
  s.pending = std::string();
  s.rec = Recorder{};
  CHECK_EQ(s.conn->active_streams(), 0u);
  const long pooled = g_live_bytes;
  s.conn->trim();
  CHECK(pooled - g_live_bytes > 100 * 150);  // a hundred pooled streams and their table
  // The next request after a trim is served as usual.
  s.feed(s.request(201, Session::get("/again")));
  s.respond(201, 200, "again");
  CHECK(body_of(s.read(), 201) == "again");
  s.conn->release(201);
  s.conn->trim();
  CHECK(connection_bytes(s) < 6 * kKiB);
}

CHECK_MAIN()
