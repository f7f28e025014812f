// What an idle HTTP/1.1 connection keeps on the heap: no receive buffer, no header slots, no
// response-head scratch; those go back to the thread's pool (ruvicorn/buffer_pool.hpp) when the
// connection has nothing in progress, the next request takes them again without allocating, and
// what a pooled buffer held before never shows in the next request or response. Heap bytes are
// counted by the replaced operator new (counting_new.hpp).
#include <memory>
#include <string>
#include <vector>

#include "check.hpp"
#include "counting_new.hpp"
#include "ruvicorn/buffer_pool.hpp"
#include "ruvicorn/connection.hpp"
#include "ruvicorn/header.hpp"
#include "ruvicorn/response.hpp"

using namespace ruvicorn;
using namespace ruvicorn::http1;

namespace {

const ParserKind kKinds[] = {ParserKind::kPico, ParserKind::kLlhttp};

// Copies what each request carries (outside the counted regions) and answers at once, the way
// the binding finishes a fast app; `answer` false leaves the answer to the test.
struct Handler : ConnectionHandler {
  Connection* conn = nullptr;
  bool answer = true;
  bool copy = true;  // off while allocations are counted
  std::vector<std::string> heads;  // "GET /path name=value;..."
  std::string body;
  int requests = 0;
  int errors = 0;

  void on_request(const Request& r) override {
    ++requests;
    if (!copy) return;
    std::string line = std::string(r.head.method) + " " + std::string(r.path);
    for (std::size_t i = 0; i < r.head.header_count; ++i) {
      line += " " + std::string(r.head.headers[i].name) + "=" +
              std::string(r.head.headers[i].value) + ";";
    }
    heads.push_back(line);
  }
  void on_body(std::string_view chunk) override {
    if (copy) body += chunk;
  }
  void on_body_end() override {
    if (answer) conn->response_done(true, *this);
  }
  void on_error(const HttpError&) override { ++errors; }
};

// Heap bytes `owner` holds: what destroying it gives back.
template <typename T>
long bytes_of(std::unique_ptr<T>& owner) {
  const long with = g_live_bytes;
  owner.reset();
  return with - g_live_bytes;
}

const std::string kRequest =
    "GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nAccept: */*\r\nX-One: 1\r\n"
    "X-Two: 2\r\n\r\n";

}  // namespace

TEST(an_idle_connection_holds_no_buffers_after_a_request) {
  for (ParserKind kind : kKinds) {
    auto fresh = std::make_unique<Connection>(Limits{}, kind);
    const long fresh_bytes = bytes_of(fresh);

    auto conn = std::make_unique<Connection>(Limits{}, kind);
    Handler h;
    h.conn = conn.get();
    // In two pieces: the partial head is copied into the connection's buffer.
    conn->feed(std::string_view(kRequest).substr(0, 20), h);
    CHECK(conn->buffered() > 0);
    conn->feed(std::string_view(kRequest).substr(20), h);
    CHECK_EQ(h.requests, 1);
    CHECK_EQ(conn->buffered(), std::size_t{0});
    CHECK(conn->state() == Connection::State::kHead);
    // The buffer and the slots (33 or more, 32 bytes each) went back to the pool: the idle
    // connection is as large as a fresh one.
    CHECK(BufferPool<std::vector<Header>>::pooled_count() >= 1);
    CHECK(BufferPool<std::string>::pooled_count() >= 1);
    CHECK_EQ(bytes_of(conn), fresh_bytes);
  }
}

TEST(a_busy_keep_alive_connection_allocates_nothing_per_request) {
  for (ParserKind kind : kKinds) {
    Connection conn(Limits{}, kind);
    Handler h;
    h.conn = &conn;
    conn.feed(kRequest, h);  // the first request may fill the pool
    h.copy = false;
    const long before = g_allocations;
    for (int i = 0; i < 100; ++i) {
      conn.feed(kRequest, h);                                    // whole: parsed in place
      conn.feed(std::string_view(kRequest).substr(0, 30), h);    // split: buffered
      conn.feed(std::string_view(kRequest).substr(30), h);
    }
    CHECK_EQ(g_allocations - before, 0L);
    CHECK_EQ(h.requests, 201);
  }
}

TEST(pooled_slots_and_buffers_carry_nothing_over) {
  for (ParserKind kind : kKinds) {
    Connection a(Limits{}, kind), b(Limits{}, kind);
    Handler ha, hb;
    ha.conn = &a;
    hb.conn = &b;
    // a: many fields, split (its buffer and slots go back to the pool); b: two fields after it.
    std::string many = "GET /many HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 40; ++i) many += "X-F" + std::to_string(i) + ": v\r\n";
    many += "\r\n";
    a.feed(std::string_view(many).substr(0, 100), ha);
    a.feed(std::string_view(many).substr(100), ha);
    CHECK_EQ(ha.heads.size(), std::size_t{1});
    b.feed("GET /b HTTP/1.1\r\nHo", hb);
    b.feed("st: b\r\nContent-Length: 3\r\n\r\nxyz", hb);
    CHECK_EQ(hb.heads.size(), std::size_t{1});
    if (!hb.heads.empty()) CHECK_EQ(hb.heads[0], std::string("GET /b Host=b; Content-Length=3;"));
    CHECK_EQ(hb.body, std::string("xyz"));
    // Two connections with partial heads at once: each keeps its own bytes.
    a.feed("GET /c HTTP/1.1\r\nHost: c", ha);
    b.feed("GET /d HTTP/1.1\r\nHost: d", hb);
    a.feed("c\r\n\r\n", ha);
    b.feed("d\r\n\r\n", hb);
    CHECK_EQ(ha.heads.back(), std::string("GET /c Host=cc;"));
    CHECK_EQ(hb.heads.back(), std::string("GET /d Host=dd;"));
  }
}

TEST(a_pipelined_burst_is_served_in_order_then_the_buffer_goes_back) {
  for (ParserKind kind : kKinds) {
    auto conn = std::make_unique<Connection>(Limits{}, kind);
    Handler h;
    h.conn = conn.get();
    h.answer = false;
    std::string burst;
    for (int i = 0; i < 5; ++i) burst += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
    conn->feed(burst, h);
    CHECK_EQ(h.requests, 1);
    CHECK(conn->buffered() > 0);  // four requests wait for the first response
    for (int i = 1; i < 5; ++i) {
      conn->response_done(true, h);
      CHECK_EQ(h.requests, i + 1);
    }
    conn->response_done(true, h);
    CHECK_EQ(conn->buffered(), std::size_t{0});
    CHECK_EQ(h.heads.size(), std::size_t{5});
    for (int i = 0; i < 5 && i < static_cast<int>(h.heads.size()); ++i)
      CHECK_EQ(h.heads[i], "GET /" + std::to_string(i) + " Host=h;");
    auto fresh = std::make_unique<Connection>(Limits{}, kind);
    const long fresh_bytes = bytes_of(fresh);
    CHECK_EQ(bytes_of(conn), fresh_bytes);
  }
}

TEST(an_upgraded_or_closed_connection_drops_its_parser) {
  for (ParserKind kind : kKinds) {
    auto fresh = std::make_unique<Connection>(Limits{}, kind);
    const long fresh_bytes = bytes_of(fresh);

    struct Upgrader : Handler {
      void on_body_end() override { conn->upgrade(); }
    } h;
    auto conn = std::make_unique<Connection>(Limits{}, kind);
    h.conn = conn.get();
    conn->feed("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nAB",
               h);
    CHECK(conn->state() == Connection::State::kUpgraded);
    CHECK_EQ(conn->take_unparsed(), std::string("AB"));
    CHECK(bytes_of(conn) < fresh_bytes);

    auto closed = std::make_unique<Connection>(Limits{}, kind);
    Handler hc;
    hc.conn = closed.get();
    closed->feed("BAD\r\n\r\n", hc);
    CHECK_EQ(hc.errors, 1);
    CHECK(bytes_of(closed) < fresh_bytes);
  }
}

TEST(the_response_writer_holds_no_scratch_between_responses) {
  ResponseConfig config;
  config.date_header = false;
  auto fresh = std::make_unique<ResponseWriter>(config);
  const long fresh_bytes = bytes_of(fresh);

  auto w = std::make_unique<ResponseWriter>(config);
  std::string out;
  w->begin(ResponseContext{}, 200);
  CHECK(!w->header("content-type", "text/plain; charset=utf-8"));
  CHECK(!w->header("x-long-header-name-one", "a value long enough to leave the inline storage"));
  CHECK(!w->end_head(out));
  CHECK(!w->body("hi", false, out));
  w->reset();
  out.clear();
  // The next response reuses the pooled scratch: none of the first one's headers come along.
  w->begin(ResponseContext{}, 204);
  CHECK(!w->header("x-b", "2"));
  CHECK(!w->end_head(out));
  CHECK_EQ(out, std::string("HTTP/1.1 204 No Content\r\nserver: ruvicorn\r\nx-b: 2\r\n\r\n"));
  CHECK(!w->body("", false, out));
  w->reset();
  CHECK_EQ(bytes_of(w), fresh_bytes);
}

TEST(the_pool_is_bounded_and_frees_large_buffers) {
  std::string big(kBufferPoolBytes + 1, 'x');
  const std::size_t pooled = BufferPool<std::string>::pooled_bytes();
  recycle(big, kBufferPoolBytes * 2);  // over what the pool keeps: freed
  CHECK_EQ(big.capacity(), std::string().capacity());
  CHECK_EQ(BufferPool<std::string>::pooled_bytes(), pooled);
  std::string small(100, 'y');
  recycle(small, 64);  // over the caller's bound: freed
  CHECK_EQ(BufferPool<std::string>::pooled_bytes(), pooled);
  std::vector<std::string> many(2 * kBufferPoolEntries, std::string(100, 'z'));
  for (auto& s : many) recycle(s, 1024);
  CHECK(BufferPool<std::string>::pooled_count() <= kBufferPoolEntries);
  CHECK(BufferPool<std::string>::pooled_bytes() <= kBufferPoolBytes);
  std::string taken;
  reuse(taken);
  CHECK(taken.empty());
  CHECK(taken.capacity() >= 100);
  // A string with a few bytes in its inline storage keeps them.
  std::string inline_bytes = "\r\n";
  reuse(inline_bytes);
  CHECK_EQ(inline_bytes, std::string("\r\n"));
}

CHECK_MAIN()
