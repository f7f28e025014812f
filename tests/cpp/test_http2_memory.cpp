// What an HTTP/2 connection keeps on the heap: a few KiB once idle (HPACK tables grow with what
// they hold, see test_hpack.cpp; buffers live only while they are used; pools go back on
// trim()), and a response queue bounded by what waits in it, not by what went through it. Heap
// bytes are counted by the replaced operator new (counting_new.hpp).
#include <string>

#include "check.hpp"
#include "counting_new.hpp"
#include "h2_session.hpp"
#include "http2/stream.hpp"
#include "ruvicorn/buffer_pool.hpp"

using namespace h2test;

namespace {

constexpr long kKiB = 1024;

// What the thread's pools hold of the kinds an HTTP/2 connection gives back.
long pooled_bytes() {
  using ruvicorn::BufferPool;
  return long(BufferPool<std::string>::pooled_bytes() +
              BufferPool<std::vector<ruvicorn::Header>>::pooled_bytes() +
              BufferPool<std::vector<std::uint32_t>>::pooled_bytes() +
              ruvicorn::ObjectPool<ruvicorn::http2::Stream>::pooled_count() *
                  sizeof(ruvicorn::http2::Stream) +
              ruvicorn::ObjectPool<ruvicorn::hpack::Decoder::Arena>::pooled_count() *
                  sizeof(ruvicorn::hpack::Decoder::Arena));
}

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

// Requests and complete responses on streams 1, 3, ... (each released), output read and given
// back to the thread's pool as the binding's transport does once it has written it.
void serve(Session& s, std::uint32_t count, std::uint32_t first = 1) {
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t id = first + 2 * i;
    s.feed(s.request(id, browser_request(i)));
    s.respond(id, 200, "Hello, World!");
    s.conn->release(id);
    s.read();
    ruvicorn::recycle(s.conn->output(), 1 << 20);
  }
  s.pending = std::string();
  s.rec = Recorder{};
}

// Heap bytes the connection holds: what destroying it gives back (to the allocator or to the
// thread's pools: only what the pools did not hold before counts).
long connection_bytes(Session& s) {
  const long pooled = pooled_bytes();  // first: it may create the pools (their free lists)
  const long with = g_live_bytes;
  s.conn.reset();
  return with - g_live_bytes + (pooled_bytes() - pooled);
}

}  // namespace

TEST(an_idle_connection_keeps_its_hpack_tables_and_little_else) {
  // No trim(): an idle connection holds no stream, slot table, decoding arena, field list or
  // output buffer (they went back to the thread's pools as soon as they were done with); what
  // is left is the connection itself and the HPACK tables, which hold what the client and we
  // indexed (a few hundred bytes each), not 2 x 4 KiB each.
  Session s;
  s.handshake();
  serve(s, 3);
  CHECK_EQ(s.conn->active_streams(), 0u);
  CHECK_EQ(s.conn->output().capacity(), std::string().capacity());
  const long kept = connection_bytes(s);
  CHECK(kept < 3 * kKiB);
  // The same after trim(), which has nothing left to give back.
  Session trimmed;
  trimmed.handshake();
  serve(trimmed, 3);
  trimmed.conn->trim();
  CHECK_EQ(connection_bytes(trimmed), kept);
}

TEST(the_output_buffer_comes_from_the_pool_and_goes_back_to_it) {
  Session s;
  s.handshake();
  serve(s, 1);
  const std::size_t pooled = ruvicorn::BufferPool<std::string>::pooled_count();
  s.conn->ping();  // any call that writes takes a pooled buffer
  CHECK(!s.conn->output().empty());
  CHECK_EQ(ruvicorn::BufferPool<std::string>::pooled_count(), pooled - 1);
  s.read();
  ruvicorn::recycle(s.conn->output(), 1 << 20);
  CHECK_EQ(ruvicorn::BufferPool<std::string>::pooled_count(), pooled);
  // A response after that is whole.
  s.feed(s.request(11, Session::get("/after")));
  s.respond(11, 200, "after");
  CHECK(body_of(s.read(), 11) == "after");
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

TEST(streams_and_their_slots_go_back_when_the_last_stream_ends) {
  Session s;
  s.handshake();
  for (std::uint32_t i = 0; i < 100; ++i) s.feed(s.request(1 + 2 * i, browser_request(0)));
  CHECK_EQ(s.conn->active_streams(), 100u);
  const long busy = g_live_bytes;
  for (std::uint32_t i = 0; i < 100; ++i) {
    s.respond(1 + 2 * i, 200, "ok");
    s.conn->release(1 + 2 * i);
  }
  s.read();
  ruvicorn::recycle(s.conn->output(), 1 << 20);
  s.pending = std::string();
  s.rec = Recorder{};
  CHECK_EQ(s.conn->active_streams(), 0u);
  // Without trim(): the thread's pool keeps as many streams as it may (the rest are freed), and
  // the table of 256 slots is too large to pool: freed.
  CHECK_EQ(ruvicorn::ObjectPool<ruvicorn::http2::Stream>::pooled_count(),
           ruvicorn::kBufferPoolEntries);
  CHECK(busy - g_live_bytes > 36 * 150 + 256 * 16);
  // The next request takes a pooled stream and is served as usual.
  s.feed(s.request(201, Session::get("/again")));
  CHECK_EQ(ruvicorn::ObjectPool<ruvicorn::http2::Stream>::pooled_count(),
           ruvicorn::kBufferPoolEntries - 1);
  s.respond(201, 200, "again");
  CHECK(body_of(s.read(), 201) == "again");
  s.conn->release(201);
  CHECK_EQ(ruvicorn::ObjectPool<ruvicorn::http2::Stream>::pooled_count(),
           ruvicorn::kBufferPoolEntries);
  ruvicorn::recycle(s.conn->output(), 1 << 20);
  CHECK(connection_bytes(s) < 3 * kKiB);
}

CHECK_MAIN()
