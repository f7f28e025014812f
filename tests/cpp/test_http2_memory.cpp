// What an HTTP/2 connection keeps on the heap: while busy, what its requests reuse (spare
// streams, slots, the decoder's arena, field lists), each bounded, and no pool visit or
// allocation per request; once trimmed, a few KiB (HPACK tables grow with what they hold, see
// test_hpack.cpp); and a response queue bounded by what waits in it, not by what went through
// it. Heap bytes are counted by the replaced operator new (counting_new.hpp).
#include <string>

#include "check.hpp"
#include "counting_new.hpp"
#include "h2_session.hpp"
#include "http2/connection_impl.hpp"
#include "http2/stream.hpp"
#include "ruvicorn/buffer_pool.hpp"

using namespace h2test;

namespace {

constexpr long kKiB = 1024;

using ruvicorn::ObjectPool;
using ruvicorn::pool_traffic;
using ArenaPool = ObjectPool<ruvicorn::hpack::Decoder::Arena>;
using ScratchPool = ObjectPool<ruvicorn::http2::Scratch>;
using StreamPool = ObjectPool<ruvicorn::http2::Stream>;

// What the thread's pools hold of the kinds an HTTP/2 connection gives back.
long pooled_bytes() {
  using ruvicorn::BufferPool;
  return long(BufferPool<std::string>::pooled_bytes() +
              BufferPool<std::vector<ruvicorn::Header>>::pooled_bytes() +
              BufferPool<std::vector<std::uint32_t>>::pooled_bytes() +
              BufferPool<std::vector<std::pair<std::size_t, std::size_t>>>::pooled_bytes() +
              StreamPool::pooled_count() * sizeof(ruvicorn::http2::Stream) +
              ArenaPool::pooled_count() * sizeof(ruvicorn::hpack::Decoder::Arena) +
              ScratchPool::pooled_count() * sizeof(ruvicorn::http2::Scratch));
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
// back to the thread's pool as the binding's transport does for a connection that is not busy.
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


// An owner that serves requests as h2load does: `per_read` GETs in one read, each answered (a
// head with two fields of the app, a body) and released, the output written and emptied, as the
// binding's transport does for a busy connection. Builds every request first, so that serving
// them allocates nothing of its own; records only the stream ids (in reserved room).
struct Busy : ruvicorn::http2::Handler {
  explicit Busy(Session& session) : s(session) { ids.reserve(64); }
  void prepare(std::uint32_t rounds, std::uint32_t per_read) {
    const Fields get = {{":method", "GET"},      {":path", "/plaintext"},
                        {":scheme", "http"},     {":authority", "127.0.0.1"},
                        {"user-agent", "h2load"}, {"accept", "*/*"}};
    for (std::uint32_t r = 0; r < rounds; ++r) {
      std::string bytes;
      for (std::uint32_t i = 0; i < per_read; ++i, next += 2) bytes += s.request(next, get);
      reads.push_back(std::move(bytes));
    }
  }
  void round() {
    ids.clear();
    s.conn->feed(reads[done++], *this, 0);
    for (const std::uint32_t id : ids) {
      CHECK(!s.conn->begin_response(id, 200, false));
      CHECK(!s.conn->response_field("content-type", "text/plain"));
      CHECK(!s.conn->response_field("content-length", "13"));
      CHECK(!s.conn->end_response(false));
      CHECK(!s.conn->data(id, "Hello, World!", true));
      s.conn->release(id);
    }
    CHECK(s.conn->output().size() > ids.size() * 13);
    s.conn->output().clear();
  }
  void on_request(const ruvicorn::http2::Request& r) override { ids.push_back(r.stream); }
  void on_data(std::uint32_t, std::string_view) override {}
  void on_end(std::uint32_t) override {}
  void on_reset(std::uint32_t, ErrorCode) override { ++resets; }
  void on_writable(std::uint32_t) override {}
  void on_goaway(ErrorCode, std::uint32_t) override {}
  void on_error(const ruvicorn::http2::Error&) override { ++resets; }

  Session& s;
  std::vector<std::string> reads;
  std::vector<std::uint32_t> ids;
  std::size_t done = 0;
  std::uint32_t next = 1;
  int resets = 0;
};

// A connection whose Date field cannot tick over during a test (a new HPACK entry).
void without_date(Session& s) {
  s.config.date_header = false;
  s.conn = std::make_unique<Connection>(s.limits, s.config, false);
}

}  // namespace

TEST(a_busy_connection_visits_no_pool_and_allocates_nothing_per_request) {
  for (const std::uint32_t per_read : {10u, 1u}) {
    Session s;
    without_date(s);
    s.handshake();
    Busy busy(s);
    busy.prepare(60, per_read);
    for (int i = 0; i < 10; ++i) busy.round();  // takes what it needs, HPACK tables settle
    const std::uint64_t traffic = pool_traffic();
    const long allocations = g_allocations;
    for (int i = 0; i < 50; ++i) busy.round();
    // Before, each request took and gave back about seven buffers and objects (14 pool
    // visits): its stream, the decoder's arena, three field lists, the head's two buffers.
    CHECK_EQ(pool_traffic() - traffic, 0u);
    CHECK_EQ(g_allocations - allocations, 0);
    CHECK_EQ(busy.resets, 0);
    CHECK_EQ(s.conn->active_streams(), 0u);
  }
}

TEST(trim_gives_back_all_a_busy_connection_kept) {
  Session s;
  without_date(s);
  s.handshake();
  Busy busy(s);
  busy.prepare(4, 10);
  for (int i = 0; i < 3; ++i) busy.round();
  const std::size_t arenas = ArenaPool::pooled_count() + 1;
  const std::size_t scratches = ScratchPool::pooled_count() + 1;
  const std::size_t streams =
      std::min<std::size_t>(StreamPool::pooled_count() + 10, ruvicorn::kBufferPoolEntries);
  ruvicorn::recycle(s.conn->output(), 1 << 20);  // the binding's transport, once idle
  s.conn->trim();
  // The decoder's arena, the request scratch and the ten spare streams went back.
  CHECK_EQ(ArenaPool::pooled_count(), arenas);
  CHECK_EQ(ScratchPool::pooled_count(), scratches);
  CHECK_EQ(StreamPool::pooled_count(), streams);
  // Nothing pooled is left: trimming again or destroying the connection gives nothing back.
  const std::uint64_t traffic = pool_traffic();
  s.conn->trim();
  CHECK_EQ(pool_traffic(), traffic);
  // What is left is the connection and its HPACK tables, which hold what the client and we
  // indexed (a few hundred bytes each), not 2 x 4 KiB each.
  const long kept = connection_bytes(s);
  CHECK(kept < 3 * kKiB);
  CHECK_EQ(pool_traffic(), traffic);
  // A connection trimmed after browser requests holds the same (its tables hold more).
  Session browser;
  browser.handshake();
  serve(browser, 3);
  browser.conn->trim();
  CHECK(connection_bytes(browser) < 3 * kKiB);
}

TEST(a_connection_busy_again_after_trim_takes_from_the_pools_and_serves_whole_responses) {
  Session s;
  s.handshake();
  serve(s, 2);
  s.conn->trim();
  const std::uint64_t traffic = pool_traffic();
  s.feed(s.request(11, browser_request(11)));
  s.respond(11, 200, "again");
  CHECK(pool_traffic() > traffic);  // stream, arena, lists, output taken again
  const std::vector<Frame> frames = s.read();
  CHECK(body_of(frames, 11) == "again");
  CHECK_EQ(s.responses(frames).back().get(":status"), "200");
}

TEST(what_a_busy_connection_keeps_is_bounded) {
  // One request far larger than usual (32 KiB of cookie crumbs, joined into one field) answered
  // with a large field: its buffers are freed once it is done, not kept for the requests after.
  Session s;
  without_date(s);
  s.handshake();
  Busy busy(s);
  busy.prepare(3, 10);
  const std::uint32_t id = busy.next;
  busy.next += 2;
  busy.prepare(3, 10);
  Fields big = Session::get("/big");
  for (int i = 0; i < 32; ++i) big.emplace_back("cookie", std::string(1000, char('a' + i % 26)));
  const std::string block = s.block(big);
  CHECK(block.size() > 16384);  // in two frames
  const std::string request = headers(id, std::string_view(block).substr(0, 16000), true, false) +
                              continuation(id, std::string_view(block).substr(16000), true);
  const std::string large(20000, 'x');
  for (int i = 0; i < 3; ++i) busy.round();
  s.rec = Recorder{};
  const long before = g_live_bytes - pooled_bytes();
  s.feed(request);
  CHECK_EQ(s.rec.requests.back().size(), 2u);  // host, and the crumbs joined in one cookie
  CHECK(!s.conn->begin_response(id, 200, false));
  CHECK(!s.conn->response_field("x-large", large));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(id, "big", true));
  s.conn->release(id);
  CHECK(s.conn->output().size() > large.size() / 2);  // Huffman-coded
  s.conn->output().clear();
  s.rec = Recorder{};
  for (int i = 0; i < 3; ++i) busy.round();
  std::string().swap(s.conn->output());  // the owner bounds the output buffer (high_water)
  CHECK(g_live_bytes - pooled_bytes() - before < 2 * kKiB);
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

TEST(a_burst_of_streams_leaves_a_bounded_number_of_spares) {
  Session s;
  s.handshake();
  for (std::uint32_t i = 0; i < 100; ++i) s.feed(s.request(1 + 2 * i, browser_request(0)));
  CHECK_EQ(s.conn->active_streams(), 100u);
  s.rec = Recorder{};
  std::string().swap(s.pending);
  const std::size_t pooled = StreamPool::pooled_count();
  for (std::uint32_t i = 0; i < 100; ++i) s.respond(1 + 2 * i, 200, "ok");
  for (std::uint32_t i = 0; i < 99; ++i) s.conn->release(1 + 2 * i);
  const long last = g_live_bytes;
  s.conn->release(199);
  CHECK_EQ(s.conn->active_streams(), 0u);
  // Without trim(): the connection keeps 32 spare streams, the other 68 go to the thread's pool
  // (as many as it keeps; the rest are freed), and the table of 256 slots is too large to keep.
  const std::size_t spares = 32;
  const std::size_t expected =
      std::min<std::size_t>(pooled + 100 - spares, ruvicorn::kBufferPoolEntries);
  CHECK_EQ(StreamPool::pooled_count(), expected);
  CHECK(last - g_live_bytes >= long(256 * 16));
  // The next request takes a spare, not a pooled stream, and a small slot table from the pool,
  // and is served as usual.
  s.read();
  const std::size_t slot_tables = 1;
  const std::uint64_t traffic = pool_traffic();
  s.feed(s.request(201, Session::get("/again")));
  s.respond(201, 200, "again");
  CHECK(body_of(s.read(), 201) == "again");
  s.conn->release(201);
  CHECK_EQ(pool_traffic() - traffic, slot_tables);
  // trim() gives the spares back.
  const std::size_t trimmed =
      std::min<std::size_t>(StreamPool::pooled_count() + spares, ruvicorn::kBufferPoolEntries);
  ruvicorn::recycle(s.conn->output(), 1 << 20);
  s.conn->trim();
  CHECK_EQ(StreamPool::pooled_count(), trimmed);
  CHECK(connection_bytes(s) < 3 * kKiB);
}

CHECK_MAIN()
