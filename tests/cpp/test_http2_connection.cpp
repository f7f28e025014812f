// The HTTP/2 server connection (ruvicorn/http2.hpp) driven by a client built from the frame helpers
// and the HPACK encoder: requests, bodies, windows, resets, GOAWAY, settings, trailers, the core's
// own 431/413 answers, every abuse budget, slot accounting and the h2c upgrade start.
#include <string>

#include "check.hpp"
#include "h2_session.hpp"

using namespace h2test;
using ruvicorn::HttpError;
using ruvicorn::Limits;

namespace {

std::string preface() { return std::string(ruvicorn::http2::kPreface); }

}  // namespace

// --- preface, settings -------------------------------------------------------------------------

TEST(server_preface_announces_our_settings_and_connection_window) {
  Session s([](Limits& l) { l.h2_max_concurrent_streams = 7; });
  s.conn->start();
  std::vector<Frame> f = s.read();
  CHECK_EQ(f.size(), 2u);
  CHECK_EQ(int(f[0].type), 4);
  CHECK_EQ(int(f[0].flags), 0);
  // ENABLE_PUSH 0, MAX_CONCURRENT_STREAMS 7, INITIAL_WINDOW_SIZE 1 MiB, MAX_HEADER_LIST_SIZE 64 KiB
  CHECK_EQ(f[0].payload, std::string("\0\x02\0\0\0\0" "\0\x03\0\0\0\x07" "\0\x04\0\x10\0\0"
                                     "\0\x06\0\x01\0\0", 24));
  CHECK_EQ(int(f[1].type), 8);
  CHECK_EQ(f[1].stream, 0u);
  CHECK_EQ(f[1].u32(), 1024u * 1024u - 65535u);
}

TEST(connect_protocol_is_announced_when_asked) {
  Session s({}, true);
  s.conn->start();
  std::vector<Frame> f = s.read();
  CHECK(f[0].payload.find(std::string("\0\x08\0\0\0\x01", 6)) != std::string::npos);
}

TEST(client_settings_are_acknowledged) {
  Session s;
  std::vector<Frame> f = s.handshake(settings({{0x1, 0}, {0x3, 10}, {0x99, 1}}));
  std::vector<Frame> acks = of_type(f, 0x4);
  CHECK_EQ(acks.size(), 2u);
  CHECK_EQ(int(acks[1].flags), 1);
  CHECK_EQ(goaway_code(f), -1);
}

TEST(invalid_preface_is_a_protocol_error) {
  Session s;
  s.conn->start();
  s.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::vector<Frame> f = s.read();
  CHECK_EQ(goaway_code(f), 1);
  CHECK(s.rec.has("error:PROTOCOL_ERROR"));
  CHECK(s.conn->done());
}

TEST(preface_must_be_followed_by_settings) {
  Session s;
  s.conn->start();
  s.feed(preface() + ping());
  CHECK_EQ(goaway_code(s.read()), 1);
}

TEST(preface_and_frames_split_byte_by_byte) {
  Session s;
  s.conn->start();
  std::string all = preface() + settings({}) + s.request(1, Session::get("/a?b=1"));
  for (char c : all) s.feed(std::string_view(&c, 1));
  CHECK_EQ(s.rec.joined(), "request:1 GET /a?b=1|end:1");
}

// --- requests and responses --------------------------------------------------------------------

TEST(get_request_and_response) {
  Session s;
  s.handshake();
  Fields req = Session::get("/hello?x=1");
  req.emplace_back("user-agent", "t");
  s.feed(s.request(1, req));
  CHECK_EQ(s.rec.joined(), "request:1 GET /hello?x=1|end:1");
  const ruvicorn::http2::Request& head = s.rec.heads[0];
  CHECK_EQ(head.scheme, "http");
  CHECK(head.end_stream);
  // :authority becomes the first host field
  CHECK_EQ(s.rec.requests[0].size(), 2u);
  CHECK_EQ(s.rec.requests[0][0].first, "host");
  CHECK_EQ(s.rec.requests[0][0].second, "example.com");
  CHECK_EQ(s.rec.requests[0][1].first, "user-agent");
  CHECK_EQ(s.conn->active_streams(), 1u);

  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->response_field("Content-Type", "text/plain"));
  CHECK(!s.conn->response_field("Content-Length", "5"));
  CHECK(!s.conn->response_field("Connection", "close"));       // dropped (8.2.2)
  CHECK(!s.conn->response_field("Transfer-Encoding", "chunked"));
  CHECK(!s.conn->response_field("X-Pad", "  v  "));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(1, "hello", true));
  std::vector<Frame> f = s.read();
  std::vector<Response> r = s.responses(f);
  CHECK_EQ(r.size(), 1u);
  CHECK_EQ(r[0].get(":status"), "200");
  CHECK_EQ(r[0].get("content-type"), "text/plain");
  CHECK_EQ(r[0].get("content-length"), "5");
  CHECK_EQ(r[0].get("server"), "ruvicorn");
  CHECK_EQ(r[0].get("date").size(), 29u);
  CHECK_EQ(r[0].get("connection"), "<none>");
  CHECK_EQ(r[0].get("transfer-encoding"), "<none>");
  CHECK_EQ(r[0].get("x-pad"), "v");
  CHECK(!r[0].end_stream);
  CHECK_EQ(body_of(f, 1), "hello");
  CHECK_EQ(int(of_type(f, 0x0).back().flags), 1);
  // closed on the wire, but the slot is held until release()
  CHECK_EQ(s.conn->active_streams(), 1u);
  CHECK(!s.conn->writable(1));
  s.conn->release(1);
  CHECK_EQ(s.conn->active_streams(), 0u);
}

TEST(server_date_and_default_headers_follow_the_config) {
  Session s;
  s.config.server_header = false;
  s.config.default_headers = {{"X-Default", "d"}, {"Date", "fixed"}};
  s.conn = std::make_unique<Connection>(s.limits, s.config, false);
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.respond(1, 200, "x");
  std::vector<Response> r = s.responses(s.read());
  CHECK_EQ(r[0].get("server"), "<none>");
  CHECK_EQ(r[0].get("date"), "fixed");
  CHECK_EQ(r[0].get("x-default"), "d");
}

TEST(head_204_and_304_carry_no_data) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get("/", "HEAD")));
  CHECK(!s.conn->begin_response(1, 200, true));
  CHECK(!s.conn->response_field("content-length", "1000"));
  CHECK(!s.conn->end_response(false));
  std::vector<Frame> f = s.read();
  std::vector<Response> r = s.responses(f);
  CHECK(r[0].end_stream);
  CHECK_EQ(r[0].get("content-length"), "1000");  // HEAD keeps the app's length
  CHECK(!s.conn->data(1, "ignored", true));
  CHECK(of_type(s.read(), 0x0).empty());
  for (int status : {204, 304}) {
    const std::uint32_t id = status == 204 ? 3 : 5;
    s.feed(s.request(id, Session::get()));
    CHECK(!s.conn->begin_response(id, status, false));
    CHECK(!s.conn->end_response(false));
    CHECK(!s.conn->data(id, "x", true));
    f = s.read();
    CHECK(s.responses(f)[0].end_stream);
    CHECK(of_type(f, 0x0).empty());
  }
}

TEST(response_app_errors_queue_nothing) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.read();
  CHECK_EQ(s.conn->data(1, "x", true).status, 500);  // before the head
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK_EQ(s.conn->response_field("bad name", "v").status, 500);
  CHECK(s.read().empty());
  CHECK_EQ(s.conn->end_response(false).status, 500);  // the head was abandoned
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->response_field("content-length", "3"));
  CHECK(!s.conn->end_response(false));
  CHECK_EQ(s.conn->data(1, "toolong", false).status, 500);
  CHECK_EQ(s.conn->data(1, "ab", true).status, 500);  // shorter than content-length
  CHECK(!s.conn->data(1, "abc", true));
  CHECK_EQ(s.conn->data(1, "x", true).status, 500);  // after the end
  CHECK_EQ(s.conn->begin_response(1, 200, false).status, 500);
  CHECK_EQ(s.conn->begin_response(99, 200, false).status, 500);  // unknown stream
  CHECK_EQ(s.conn->informational(1, 101, {}).status, 500);
}

TEST(informational_responses_before_the_final_one) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  CHECK(!s.conn->informational(1, 103, {{"Link", "</a.css>; rel=preload"}}));
  s.respond(1, 200, "ok");
  std::vector<Response> r = s.responses(s.read());
  CHECK_EQ(r.size(), 2u);
  CHECK_EQ(r[0].get(":status"), "103");
  CHECK_EQ(r[0].get("link"), "</a.css>; rel=preload");
  CHECK(!r[0].end_stream);
  CHECK_EQ(r[1].get(":status"), "200");
  CHECK_EQ(s.conn->informational(1, 100, {}).status, 500);  // after the final head
}

TEST(response_trailers_follow_the_body) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(1, "body", false));
  CHECK_EQ(s.conn->trailers(1, {{":status", "1"}}).status, 500);  // no pseudo-fields
  CHECK(!s.conn->trailers(1, {{"Grpc-Status", "0"}, {"content-length", "9"}}));
  std::vector<Frame> f = s.read();
  std::vector<Response> r = s.responses(f);
  CHECK_EQ(r.size(), 2u);
  CHECK(r[1].end_stream);
  CHECK_EQ(r[1].get("grpc-status"), "0");
  CHECK_EQ(r[1].get("content-length"), "<none>");
  CHECK_EQ(int(f.back().type), 1);
}

TEST(trailers_wait_behind_data_blocked_by_the_window) {
  Session s;
  s.handshake(settings({{0x4, 3}}));
  s.feed(s.request(1, Session::get()));
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(1, "abcdef", false));
  CHECK(!s.conn->trailers(1, {{"t", "1"}}));
  std::vector<Frame> f = s.read();
  CHECK_EQ(body_of(f, 1), "abc");
  CHECK_EQ(s.responses(f).size(), 1u);
  CHECK_EQ(s.conn->pending(1), 3u);
  s.feed(window_update(1, 10));
  f = s.read();
  CHECK_EQ(body_of(f, 1), "def");
  std::vector<Response> r = s.responses(f);
  CHECK_EQ(r.size(), 1u);
  CHECK(r[0].end_stream);
  CHECK_EQ(r[0].get("t"), "1");
  CHECK(s.rec.has("writable:1"));
}

TEST(request_trailers_end_the_body_and_are_dropped) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get("/up", "POST"), false));
  s.feed(data(1, "part"));
  s.feed(s.request(1, {{"x-checksum", "1"}}, true));
  CHECK_EQ(s.rec.joined(), "request:1 POST /up|data:1:part|end:1");
  // trailers without END_STREAM: malformed (8.1)
  s.feed(s.request(3, Session::get("/up", "POST"), false));
  s.feed(s.request(3, {{"x", "1"}}, false));
  CHECK_EQ(rst_code(s.read(), 3), 1);
  CHECK(s.rec.has("reset:3:1"));
  // pseudo-fields in trailers: malformed
  s.feed(s.request(5, Session::get("/up", "POST"), false));
  s.feed(s.request(5, {{":path", "/"}}, true));
  CHECK_EQ(rst_code(s.read(), 5), 1);
}

TEST(cookie_crumbs_are_joined_and_host_kept) {
  Session s;
  s.handshake();
  Fields req = Session::get();
  req.emplace_back("cookie", "a=1");
  req.emplace_back("accept", "*/*");
  req.emplace_back("cookie", "b=2");
  req.emplace_back("cookie", "c=3");
  req.emplace_back("host", "EXAMPLE.com");
  s.feed(s.request(1, req));
  CHECK_EQ(s.rec.requests.size(), 1u);
  const Fields& f = s.rec.requests[0];
  CHECK_EQ(f.size(), 3u);
  CHECK_EQ(f[0].first, "cookie");
  CHECK_EQ(f[0].second, "a=1; b=2; c=3");
  CHECK_EQ(f[1].first, "accept");
  CHECK_EQ(f[2].first, "host");  // its own host field: no second one from :authority
  CHECK_EQ(f[2].second, "EXAMPLE.com");
}

TEST(malformed_requests_are_reset_and_never_delivered) {
  const std::string get =
      literal(":method", "GET") + literal(":scheme", "http") + literal(":path", "/");
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"uppercase name", get + literal("X-Up", "1")},
      {"unknown pseudo", get + literal(":foo", "1")},
      {":status in a request", get + literal(":status", "200")},
      {"pseudo after regular", literal(":method", "GET") + literal(":scheme", "http") +
                                   literal("a", "1") + literal(":path", "/")},
      {"connection", get + literal("connection", "keep-alive")},
      {"keep-alive", get + literal("keep-alive", "1")},
      {"transfer-encoding", get + literal("transfer-encoding", "chunked")},
      {"upgrade", get + literal("upgrade", "h2c")},
      {"te gzip", get + literal("te", "gzip")},
      {"empty path", literal(":method", "GET") + literal(":scheme", "http") + literal(":path", "")},
      {"relative path",
       literal(":method", "GET") + literal(":scheme", "http") + literal(":path", "x")},
      {"missing method", literal(":scheme", "http") + literal(":path", "/")},
      {"missing scheme", literal(":method", "GET") + literal(":path", "/")},
      {"missing path", literal(":method", "GET") + literal(":scheme", "http")},
      {"duplicate method", literal(":method", "GET") + literal(":method", "GET") +
                               literal(":scheme", "http") + literal(":path", "/")},
      {"duplicate path", get + literal(":path", "/")},
      {"CONNECT with path", literal(":method", "CONNECT") + literal(":authority", "a:1") +
                                literal(":path", "/")},
      {"CONNECT without authority", literal(":method", "CONNECT")},
      {":protocol not enabled", literal(":method", "CONNECT") + literal(":protocol", "websocket") +
                                    literal(":scheme", "http") + literal(":path", "/") +
                                    literal(":authority", "a")},
      {":protocol on GET", literal(":method", "GET") + literal(":protocol", "websocket") +
                               literal(":scheme", "http") + literal(":path", "/")},
      {"host differs", get + literal(":authority", "a") + literal("host", "b")},
      {"value with CR", get + literal("x", "a\rb")},
      {"value with leading space", get + literal("x", " a")},
      {"bad content-length", get + literal("content-length", "1x")},
      {"content-length with END_STREAM",
       literal(":method", "POST") + literal(":scheme", "http") + literal(":path", "/") +
           literal("content-length", "3")},
  };
  for (const auto& [name, block] : cases) {
    Session s;
    s.handshake();
    s.feed(headers(1, block, true));
    std::vector<Frame> f = s.read();
    if (rst_code(f, 1) != 1 || !s.rec.events.empty() || goaway_code(f) != -1)
      check::fail(__FILE__, __LINE__, std::string("not reset with PROTOCOL_ERROR: ") + name +
                                          " events=" + s.rec.joined());
    CHECK_EQ(s.conn->active_streams(), 0u);
    CHECK_EQ(s.conn->stats().stream_errors, 1u);
    // the connection goes on: the next stream is served
    s.feed(s.request(3, Session::get()));
    CHECK(s.rec.has("request:3"));
  }
}

TEST(plain_connect_gets_400_and_extended_connect_is_delivered) {
  Session s({}, true);
  s.handshake();
  s.feed(headers(1, literal(":method", "CONNECT") + literal(":authority", "a:443"), false));
  std::vector<Frame> f = s.read();
  CHECK_EQ(s.responses(f)[0].get(":status"), "400");
  CHECK(s.rec.events.empty());
  s.feed(s.request(3, {{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "http"},
                       {":path", "/ws"}, {":authority", "a"}}, false));
  CHECK_EQ(s.rec.joined(), "request:3 CONNECT /ws");
  CHECK_EQ(s.rec.protocol, "websocket");
}

// --- request bodies and flow control ----------------------------------------------------------

TEST(request_body_credit_returns_as_the_app_consumes) {
  Session s([](Limits& l) {
    l.h2_initial_stream_window = 1000;
    l.h2_initial_connection_window = 100000;
  });
  s.handshake();
  s.feed(s.request(1, Session::get("/up", "POST"), false));
  s.feed(data(1, std::string(600, 'a')));
  CHECK_EQ(s.rec.data_bytes, 600u);
  std::vector<Frame> f = s.read();
  CHECK(of_type(f, 0x8, 1).empty());  // no stream credit before consume()
  s.conn->consume(1, 400);
  CHECK(of_type(s.read(), 0x8, 1).empty());  // below half the window: batched
  s.conn->consume(1, 200);
  f = of_type(s.read(), 0x8, 1);
  CHECK_EQ(f.size(), 1u);
  CHECK_EQ(f[0].u32(), 600u);
  // beyond the stream window: FLOW_CONTROL_ERROR on the stream
  s.feed(data(1, std::string(1001, 'b')));
  CHECK_EQ(rst_code(s.read(), 1), 3);
  CHECK(s.rec.has("reset:1:3"));
}

TEST(connection_credit_is_withheld_beyond_one_window_of_unread_bytes) {
  Session s([](Limits& l) {
    l.h2_initial_stream_window = 1 << 20;
    l.h2_initial_connection_window = 65535;
  });
  s.handshake();
  std::int64_t window = 65535;  // the client's view of the connection window
  auto take_credit = [&] {
    for (const Frame& f : of_type(s.read(), 0x8, 0)) window += f.u32();
  };
  // The app of stream 1 does not read. Its bytes are credited as they arrive (a stalled stream
  // must not stall the others) until one connection window is unread; then credit stops.
  s.feed(s.request(1, Session::get("/a", "POST"), false));
  std::size_t sent = 0;
  while (window >= 16000 && sent < 10 * 65535) {
    s.feed(data(1, std::string(16000, 'a')));
    window -= 16000;
    sent += 16000;
    take_credit();
  }
  CHECK(sent > 65535u);          // more than one window went through
  CHECK(sent <= 2u * 65535u);    // but the connection buffers at most about one more
  CHECK_EQ(s.rec.data_bytes, sent);
  // Reading returns the withheld credit at once (the client is short of window).
  const std::int64_t before = window;
  s.conn->consume(1, 16000);
  take_credit();
  CHECK(window - before >= 16000);
  // A reset stream's unread bytes are released too: the client gets back to at least half a
  // window (the rest of the credit is batched) and can send on another stream.
  s.feed(rst_stream(1, 8));
  take_credit();
  CHECK(window > 65535 / 2);
  s.feed(s.request(3, Session::get("/b", "POST"), false));
  s.feed(data(3, std::string(16000, 'b')) + data(3, std::string(16000, 'b')));
  window -= 32000;
  take_credit();
  CHECK(window > 65535 / 2);
  CHECK(!s.rec.has("error"));
}

TEST(data_beyond_the_connection_window_is_a_connection_error) {
  Session s([](Limits& l) {
    l.h2_initial_connection_window = 65535;
    l.h2_initial_stream_window = 1 << 20;
    l.h2_max_frame_size = 1 << 20;
  });
  s.handshake();
  s.feed(s.request(1, Session::get("/", "POST"), false));
  s.feed(data(1, std::string(65536, 'x')));
  CHECK_EQ(goaway_code(s.read()), 3);
}

TEST(response_data_waits_for_window_and_streams_take_turns) {
  Session s;
  s.handshake(settings({{0x4, 0}}));  // stream windows start at 0
  for (std::uint32_t id : {1u, 3u}) {
    s.feed(s.request(id, Session::get()));
    CHECK(!s.conn->begin_response(id, 200, false));
    CHECK(!s.conn->end_response(false));
    CHECK(!s.conn->data(id, std::string(20, char('a' + id)), true));
  }
  std::vector<Frame> f = s.read();
  CHECK(of_type(f, 0x0).empty());
  CHECK_EQ(s.conn->pending(1), 20u);
  // 5 bytes of window each: 5 bytes each go out
  s.feed(window_update(1, 5) + window_update(3, 5));
  f = s.read();
  CHECK_EQ(body_of(f, 1), std::string(5, 'b'));
  CHECK_EQ(body_of(f, 3), std::string(5, 'd'));
  CHECK(s.rec.has("writable:1"));
  CHECK(s.rec.has("writable:3"));
  CHECK_EQ(s.conn->pending(1), 15u);
  // the rest, with END_STREAM
  s.feed(window_update(1, 1000) + window_update(3, 1000));
  f = s.read();
  CHECK_EQ(body_of(f, 1), std::string(15, 'b'));
  CHECK_EQ(int(of_type(f, 0x0, 3).back().flags), 1);
  CHECK_EQ(s.conn->pending(1), 0u);
}

TEST(round_robin_shares_a_trickling_connection_window) {
  Session s([](Limits& l) { l.h2_glitch_burst = 100000; });
  s.handshake(settings({{0x4, 1 << 20}}));
  // Use up the connection window on stream 1.
  s.feed(s.request(1, Session::get()));
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(1, std::string(65535 + 100, 'a'), true));
  s.feed(s.request(3, Session::get()));
  CHECK(!s.conn->begin_response(3, 200, false));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(3, std::string(100, 'b'), true));
  std::vector<Frame> f = s.read();
  CHECK_EQ(body_of(f, 1).size(), 65535u);
  CHECK_EQ(body_of(f, 3).size(), 0u);
  std::string order;
  for (int i = 0; i < 6; ++i) {
    s.feed(window_update(0, 10));
    for (const Frame& d : of_type(s.read(), 0x0)) order += d.stream == 1 ? '1' : '3';
  }
  CHECK_EQ(order, "131313");
}

TEST(data_frames_respect_the_peer_max_frame_size) {
  Session s;
  s.handshake(settings({{0x5, 20000}}));
  s.feed(s.request(1, Session::get()));
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(1, std::string(50000, 'x'), true));
  std::vector<Frame> d = of_type(s.read(), 0x0);
  CHECK_EQ(d.size(), 3u);
  CHECK_EQ(d[0].payload.size(), 20000u);
  CHECK_EQ(d[2].payload.size(), 10000u);
  CHECK_EQ(int(d[2].flags), 1);
}

TEST(initial_window_change_can_make_a_window_negative) {
  Session s;
  s.handshake(settings({{0x4, 10}}));
  s.feed(s.request(1, Session::get()));
  CHECK(!s.conn->begin_response(1, 200, false));
  CHECK(!s.conn->end_response(false));
  CHECK(!s.conn->data(1, std::string(30, 'x'), true));
  CHECK_EQ(body_of(s.read(), 1).size(), 10u);
  s.feed(settings({{0x4, 0}}));  // window 10 - 10 - 10 = -10 (6.9.2)
  s.feed(window_update(1, 12));  // -10 + 12 = 2
  CHECK_EQ(body_of(s.read(), 1).size(), 2u);
  s.feed(settings({{0x4, 100}}));  // +100
  CHECK_EQ(body_of(s.read(), 1).size(), 18u);
}

TEST(window_overflow_is_a_flow_control_error) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.feed(window_update(1, 0x7fffffff));
  CHECK_EQ(rst_code(s.read(), 1), 3);
  s.feed(window_update(0, 0x7fffffff));
  CHECK_EQ(goaway_code(s.read()), 3);
}

TEST(initial_window_overflow_is_a_connection_error) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.feed(window_update(1, 0x7fffffff - 65535));
  s.feed(settings({{0x4, 65536}}));
  CHECK_EQ(goaway_code(s.read()), 3);
}

TEST(paused_output_queues_data_and_resume_sends_it) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.read();
  s.conn->pause_output();
  s.respond(1, 200, "queued");
  std::vector<Frame> f = s.read();
  CHECK_EQ(s.responses(f).size(), 1u);  // HEADERS are not held
  CHECK(of_type(f, 0x0).empty());
  CHECK_EQ(s.conn->pending(1), 6u);
  s.conn->resume_output();
  CHECK_EQ(body_of(s.read(), 1), "queued");
}

// --- large bodies framed into the owner's buffer ------------------------------------------------

namespace {

// The owner's memory: filled with a marker, so that bytes the core did not write show up.
struct TestBuffer : ruvicorn::http2::OutputBuffer {
  std::string bytes;
  int calls = 0;
  bool refuse = false;
  char* allocate(std::size_t n) override {
    ++calls;
    if (refuse) return nullptr;
    bytes.assign(n, '\xee');
    return bytes.data();
  }
};

std::string pattern(std::size_t n, std::size_t seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = char('a' + (i * 7 + seed) % 26);
  return s;
}

void start_response(Session& s, std::uint32_t id, const char* length = nullptr) {
  CHECK(!s.conn->begin_response(id, 200, false));
  if (length != nullptr) CHECK(!s.conn->response_field("content-length", length));
  CHECK(!s.conn->end_response(false));
}

}  // namespace

TEST(large_body_goes_after_queued_output_into_the_buffer) {
  Session s;
  s.handshake(settings({{0x4, 1 << 20}}));
  s.feed(window_update(0, 1 << 20));
  s.feed(s.request(1, Session::get()));
  start_response(s, 1, "40000");   // the HEADERS wait in output()
  const std::string body = pattern(40000);
  TestBuffer buffer;
  CHECK(!s.conn->data(1, body, true, buffer));
  CHECK_EQ(buffer.calls, 1);
  CHECK(s.conn->output().empty());  // everything went into the buffer, in order
  std::vector<Frame> f = parse_frames(buffer.bytes);
  CHECK(buffer.bytes.empty());      // exactly the size asked for, every byte written
  CHECK_EQ(f.size(), 4u);
  CHECK_EQ(int(f[0].type), 0x1);
  CHECK_EQ(f[1].payload.size(), 16384u);
  CHECK_EQ(f[3].payload.size(), 40000u - 2 * 16384u);
  CHECK_EQ(int(f[2].flags), 0);
  CHECK_EQ(int(f[3].flags), 1);     // END_STREAM on the last frame only
  CHECK(body_of(f, 1) == body);
  CHECK(!s.conn->writable(1));
  s.conn->release(1);
  CHECK_EQ(s.conn->active_streams(), 0u);
}

TEST(large_body_beyond_the_window_queues_the_rest) {
  Session s;
  s.handshake(settings({{0x4, 20000}}));
  s.feed(s.request(1, Session::get()));
  start_response(s, 1);
  s.read();
  const std::string body = pattern(50000, 3);
  TestBuffer buffer;
  CHECK(!s.conn->data(1, body, true, buffer));
  std::vector<Frame> direct = parse_frames(buffer.bytes);
  CHECK(buffer.bytes.empty());
  CHECK(body_of(direct, 1) == body.substr(0, 20000));  // what the stream window allowed
  CHECK_EQ(int(direct.back().flags), 0);
  CHECK_EQ(s.conn->pending(1), 30000u);
  // The rest leaves through output() as the windows open, END_STREAM on its last frame.
  s.feed(window_update(1, 40000) + window_update(0, 40000));
  std::vector<Frame> rest = s.read();
  CHECK(body_of(rest, 1) == body.substr(20000));
  CHECK_EQ(int(of_type(rest, 0x0, 1).back().flags), 1);
  CHECK_EQ(s.conn->pending(1), 0u);
}

TEST(large_body_takes_the_usual_path_when_it_cannot_go_now) {
  Session s;
  s.handshake(settings({{0x4, 0}}));  // closed stream windows: nothing may go now
  s.feed(s.request(1, Session::get()));
  start_response(s, 1);
  TestBuffer buffer;
  CHECK(!s.conn->data(1, pattern(40000), false, buffer));
  CHECK_EQ(buffer.calls, 0);
  CHECK_EQ(s.conn->pending(1), 40000u);
  // Data queued ahead: later data must not overtake it, so it queues too.
  s.feed(window_update(1, 100));
  CHECK(body_of(s.read(), 1) == pattern(100));
  CHECK(!s.conn->data(1, pattern(40000, 1), true, buffer));
  CHECK_EQ(buffer.calls, 0);
  CHECK_EQ(s.conn->pending(1), 79900u);

  // Paused output: queued as well.
  s.feed(s.request(3, Session::get()));
  s.feed(settings({{0x4, 1 << 20}}));
  s.read();
  s.conn->pause_output();
  start_response(s, 3);
  CHECK(!s.conn->data(3, pattern(40000), true, buffer));
  CHECK_EQ(buffer.calls, 0);
  CHECK_EQ(s.conn->pending(3), 40000u);

  // No memory from the owner: the frames go into output().
  s.conn->resume_output();
  s.feed(window_update(0, 1 << 20));
  s.read();
  s.feed(s.request(5, Session::get()));
  start_response(s, 5);
  buffer.refuse = true;
  CHECK(!s.conn->data(5, pattern(30000), true, buffer));
  CHECK_EQ(buffer.calls, 1);
  CHECK(body_of(s.read(), 5) == pattern(30000));
}

TEST(large_body_keeps_content_length_accounting) {
  Session s;
  s.handshake(settings({{0x4, 1 << 20}}));
  s.feed(window_update(0, 1 << 20));
  s.feed(s.request(1, Session::get()));
  start_response(s, 1, "50000");
  TestBuffer first, second, third;
  CHECK(s.conn->data(1, pattern(60000), true, first));  // longer than content-length
  CHECK_EQ(first.calls, 0);
  CHECK(!s.conn->data(1, pattern(40000), false, first));
  CHECK(s.conn->data(1, pattern(5000), true, second));  // ends short of it
  CHECK_EQ(second.calls, 0);
  CHECK(!s.conn->data(1, pattern(10000), true, second));
  std::vector<Frame> f = parse_frames(first.bytes);
  for (Frame& frame : parse_frames(second.bytes)) f.push_back(std::move(frame));
  CHECK(body_of(f, 1) == pattern(40000) + pattern(10000));
  CHECK_EQ(int(f.back().flags), 1);
  CHECK(s.conn->data(1, pattern(1), true, third));  // after the end
  CHECK_EQ(third.calls, 0);
}

TEST(large_body_ending_the_response_then_release_stops_the_request_body) {
  Session s;
  s.handshake(settings({{0x4, 1 << 20}}));
  s.feed(window_update(0, 1 << 20));
  s.feed(s.request(1, Session::get("/", "POST"), false));  // its body never comes
  start_response(s, 1);
  s.read();
  TestBuffer buffer;
  CHECK(!s.conn->data(1, pattern(40000), true, buffer));
  CHECK_EQ(int(parse_frames(buffer.bytes).back().flags), 1);
  s.conn->release(1);  // the app is done after its complete response
  std::vector<Frame> f = s.read();
  CHECK_EQ(rst_code(f, 1), 0);  // 8.1: NO_ERROR stops the unread request body
  CHECK_EQ(s.conn->active_streams(), 0u);
}

// --- resets, slots, goaway ---------------------------------------------------------------------

TEST(client_reset_tells_the_owner_and_keeps_the_slot_until_release) {
  Session s([](Limits& l) { l.h2_max_concurrent_streams = 2; });
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.feed(s.request(3, Session::get()));
  s.feed(rst_stream(1, 8));
  CHECK(s.rec.has("reset:1:8"));
  CHECK_EQ(s.conn->active_streams(), 2u);
  CHECK(!s.conn->writable(1));
  CHECK(!s.conn->data(1, "x", true));  // a no-op for the owner, not an error
  // both slots held: a third stream is refused
  s.feed(s.request(5, Session::get()));
  CHECK_EQ(rst_code(s.read(), 5), 7);
  CHECK(!s.rec.has("request:5"));
  CHECK_EQ(s.conn->stats().refused, 1u);
  s.conn->release(1);
  CHECK_EQ(s.conn->active_streams(), 1u);
  s.feed(s.request(7, Session::get()));
  CHECK(s.rec.has("request:7"));
  // DATA on the stream the client reset: a connection error STREAM_CLOSED (5.1 closed)
  s.feed(data(1, "late"));
  CHECK_EQ(goaway_code(s.read()), 5);
}

TEST(frames_after_the_client_reset_while_the_slot_is_held) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get(), false));
  s.feed(rst_stream(1, 8));
  s.feed(data(1, "late"));  // the owner has not released it yet: a stream error
  CHECK_EQ(rst_code(s.read(), 1), 5);
  s.feed(data(1, "later"));  // after our RST_STREAM: ignored
  CHECK(s.read().size() <= 1u);  // at most a connection WINDOW_UPDATE
  s.feed(s.request(3, Session::get(), false));
  s.feed(rst_stream(3, 8));
  s.feed(s.request(3, Session::get()));
  std::vector<Frame> f = s.read();
  CHECK_EQ(rst_code(f, 3), 5);
  CHECK_EQ(goaway_code(f), -1);
}

TEST(data_after_both_ends_closed_is_a_connection_error) {
  for (bool released : {false, true}) {
    Session s;
    s.handshake();
    s.feed(s.request(1, Session::get()));
    s.respond(1, 200, "x");
    if (released) s.conn->release(1);
    s.feed(data(1, "late"));
    CHECK_EQ(goaway_code(s.read()), 5);
  }
}

TEST(owner_reset_and_release_before_the_end) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.feed(s.request(3, Session::get()));
  s.read();
  s.conn->reset(1, ErrorCode::kCancel);
  std::vector<Frame> f = s.read();
  CHECK_EQ(rst_code(f, 1), 8);
  CHECK(!s.rec.has("reset:1"));  // the owner's own reset is not echoed
  s.conn->release(1);
  // released without a complete response: INTERNAL_ERROR
  s.conn->release(3);
  CHECK_EQ(rst_code(s.read(), 3), 2);
  CHECK_EQ(s.conn->active_streams(), 0u);
}

TEST(release_after_a_complete_response_stops_the_request_body) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get("/", "POST"), false));
  s.respond(1, 200, "done");
  CHECK_EQ(rst_code(s.read(), 1), -1);  // the app may still read the body
  s.conn->release(1);
  CHECK_EQ(rst_code(s.read(), 1), 0);  // RST_STREAM(NO_ERROR), 8.1
  CHECK_EQ(s.conn->active_streams(), 0u);
  s.feed(data(1, "late"));  // ignored: we reset it
  CHECK(s.read().size() <= 1u);  // at most a connection WINDOW_UPDATE
  CHECK(!s.rec.has("data"));
}

TEST(goaway_refuses_later_streams_and_done_when_drained) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.conn->goaway();
  std::vector<Frame> f = s.read();
  CHECK_EQ(goaway_code(f), 0);
  CHECK_EQ(of_type(f, 0x7)[0].u32(0), 1u);
  s.feed(s.request(3, Session::get()));
  CHECK_EQ(rst_code(s.read(), 3), 7);
  CHECK(!s.conn->done());
  s.respond(1, 200, "x");
  s.conn->release(1);
  CHECK(s.conn->done());
  s.conn->goaway();  // again: nothing
  CHECK(of_type(s.read(), 0x7).empty());
}

TEST(client_goaway_is_reported) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.feed(goaway(1, 0));
  CHECK(s.rec.has("goaway:0:1"));
  CHECK(!s.conn->done());
  s.respond(1, 200, "x");
  s.conn->release(1);
  CHECK(s.conn->done());
}

TEST(connection_error_resets_every_open_stream_first) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.feed(s.request(3, Session::get()));
  s.respond(3, 200, "x");
  s.feed(frame(0x6, 0, 1, "12345678"));  // PING on a stream
  CHECK_EQ(s.rec.joined(),
           "request:1 GET /|end:1|request:3 GET /|end:3|reset:1:1|error:PROTOCOL_ERROR");
  CHECK_EQ(goaway_code(s.read()), 1);
  s.feed(s.request(5, Session::get()));  // nothing more is read
  CHECK(!s.rec.has("request:5"));
}

TEST(ping_is_answered_and_our_ping_acknowledged) {
  Session s;
  s.handshake();
  s.feed(ping("abcdefgh"));
  std::vector<Frame> p = of_type(s.read(), 0x6);
  CHECK_EQ(p.size(), 1u);
  CHECK_EQ(int(p[0].flags), 1);
  CHECK_EQ(p[0].payload, "abcdefgh");
  s.conn->ping();
  CHECK(s.conn->ping_outstanding());
  p = of_type(s.read(), 0x6);
  s.feed(ping(p[0].payload, true));
  CHECK(!s.conn->ping_outstanding());
}

// --- stream states (RFC 9113 5.1) --------------------------------------------------------------

TEST(frames_on_idle_and_closed_streams) {
  struct Case {
    const char* name;
    std::function<std::string(Session&)> frames;
    int goaway;  // expected GOAWAY code, or -1
    int rst;     // expected RST_STREAM code on stream 1, or -1
  };
  const std::vector<Case> cases = {
      {"DATA idle", [](Session&) { return data(1, "x"); }, 1, -1},
      {"RST idle", [](Session&) { return rst_stream(1, 8); }, 1, -1},
      {"WINDOW_UPDATE idle", [](Session&) { return window_update(1, 1); }, 1, -1},
      {"CONTINUATION idle", [](Session&) { return continuation(1, "", true); }, 1, -1},
      {"HEADERS even", [](Session& s) { return s.request(2, Session::get()); }, 1, -1},
      {"DATA half-closed",
       [](Session& s) { return s.request(1, Session::get()) + data(1, "x"); }, -1, 5},
      {"HEADERS half-closed",
       [](Session& s) {
         std::string f = s.request(1, Session::get());
         return f + s.request(1, Session::get());
       }, -1, 5},
      {"decreasing id",
       [](Session& s) {
         std::string f = s.request(5, Session::get());
         return f + s.request(3, Session::get());
       }, 1, -1},
      {"frame inside a header block",
       [](Session& s) {
         return s.request(1, Session::get(), true).replace(4, 1, "\x01") + ping();
       },
       1, -1},
      {"PUSH_PROMISE",
       [](Session&) { return frame(0x5, 0x4, 1, std::string("\0\0\0\x02", 4)); }, 1, -1},
      {"frame too large",
       [](Session&) { return frame(0xfe, 0, 0, std::string(16385, 'x')); }, 6, -1},
      {"PRIORITY self",
       [](Session& s) { return s.request(1, Session::get(), false) + priority(1, 1); }, -1, 1},
      {"WINDOW_UPDATE 0 stream",
       [](Session& s) { return s.request(1, Session::get(), false) + window_update(1, 0); }, -1,
       1},
  };
  for (const Case& c : cases) {
    Session s;
    s.handshake();
    s.feed(c.frames(s));
    std::vector<Frame> f = s.read();
    if (goaway_code(f) != c.goaway || rst_code(f, 1) != c.rst)
      check::fail(__FILE__, __LINE__, std::string(c.name) + ": goaway " +
                                          std::to_string(goaway_code(f)) + " rst " +
                                          std::to_string(rst_code(f, 1)));
  }
}

TEST(headers_on_a_stream_closed_after_its_response_is_stream_closed) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.respond(1, 200, "x");
  s.conn->release(1);
  s.feed(s.request(1, Session::get()));
  CHECK_EQ(goaway_code(s.read()), 5);
}

TEST(priority_frames_are_ignored_and_keep_no_state) {
  Session s;
  s.handshake();
  std::string many;
  for (std::uint32_t i = 0; i < 20000; ++i) many += priority(2 * i + 101, 2 * i + 103);
  s.feed(many);
  CHECK_EQ(s.conn->active_streams(), 0u);
  CHECK_EQ(goaway_code(s.read()), -1);
  // and streams below those ids can still open (PRIORITY does not open streams)
  s.feed(s.request(1, Session::get()));
  CHECK(s.rec.has("request:1"));
}

TEST(hpack_errors_are_compression_errors) {
  Session s;
  s.handshake();
  s.feed(headers(1, std::string("\x40", 1)));
  CHECK_EQ(goaway_code(s.read()), 9);
}

// --- limits: 431, 413 --------------------------------------------------------------------------

TEST(header_list_over_the_limit_gets_431_from_the_core) {
  Session s([](Limits& l) { l.h2_max_header_list_size = 4000; });
  s.handshake();
  Fields req = Session::get();
  for (int i = 0; i < 5; ++i)
    req.emplace_back("x-big-" + std::to_string(i), std::string(1000, 'v'));
  s.feed(s.request(1, req, false));
  std::vector<Frame> f = s.read();
  std::vector<Response> r = s.responses(f);
  CHECK_EQ(r.size(), 1u);
  CHECK_EQ(r[0].get(":status"), "431");
  CHECK(body_of(f, 1).find("Request Header Fields Too Large") == 0);
  CHECK_EQ(rst_code(f, 1), 0);  // and the body it may still send is not wanted
  CHECK(s.rec.events.empty());
  CHECK_EQ(s.conn->active_streams(), 0u);
  // too many fields: 431 as well
  Session c([](Limits& l) { l.max_header_count = 3; });
  c.handshake();
  Fields many = Session::get();
  for (int i = 0; i < 4; ++i) many.emplace_back("x" + std::to_string(i), "v");
  c.feed(c.request(1, many));
  CHECK_EQ(c.responses(c.read())[0].get(":status"), "431");
}

TEST(body_over_max_body_size_gets_413) {
  Session s([](Limits& l) { l.max_body_size = 10; });
  s.handshake();
  Fields req = Session::get("/", "POST");
  req.emplace_back("content-length", "11");
  s.feed(s.request(1, req, false));
  std::vector<Frame> f = s.read();
  CHECK_EQ(s.responses(f)[0].get(":status"), "413");
  CHECK(s.rec.events.empty());
  // without a content-length: 413 once the DATA go past the limit; the app sees a reset
  s.feed(s.request(3, Session::get("/", "POST"), false));
  s.feed(data(3, "123456"));
  s.feed(data(3, "789012"));
  f = s.read();
  CHECK_EQ(s.responses(f)[0].get(":status"), "413");
  CHECK(s.rec.has("reset:3:8"));
  CHECK_EQ(rst_code(f, 3), 0);
  s.conn->release(3);
  CHECK_EQ(s.conn->active_streams(), 0u);
}

TEST(content_length_must_match_the_data) {
  Session s;
  s.handshake();
  Fields req = Session::get("/", "POST");
  req.emplace_back("content-length", "3");
  s.feed(s.request(1, req, false));
  s.feed(data(1, "ab", true));
  CHECK_EQ(rst_code(s.read(), 1), 1);
  CHECK_EQ(s.rec.joined(), "request:1 POST /|reset:1:1");  // malformed: neither data nor end
  s.feed(s.request(3, req, false));
  s.feed(data(3, "abcd"));
  CHECK_EQ(rst_code(s.read(), 3), 1);
}

TEST(error_response_after_the_head_resets_the_stream) {
  Session s;
  s.handshake();
  s.feed(s.request(1, Session::get()));
  s.feed(s.request(3, Session::get()));
  s.read();
  s.conn->error_response(1, HttpError{500, "boom", false});
  std::vector<Frame> f = s.read();
  CHECK_EQ(s.responses(f)[0].get(":status"), "500");
  CHECK_EQ(body_of(f, 1), "Internal Server Error: boom");
  CHECK(!s.conn->begin_response(3, 200, false));
  CHECK(!s.conn->end_response(false));
  s.conn->error_response(3, HttpError{500, "late", false});
  CHECK_EQ(rst_code(s.read(), 3), 2);
}

// --- abuse budgets -----------------------------------------------------------------------------

TEST(rapid_reset_ends_in_enhance_your_calm) {
  Session s([](Limits& l) {
    l.h2_reset_burst = 50;
    l.h2_reset_rate = 10;
  });
  s.handshake();
  s.rec.on_reset_hook = [&](std::uint32_t id) { s.conn->release(id); };
  std::string flood;
  for (std::uint32_t id = 1; id < 2 * 60; id += 2)
    flood += s.request(id, Session::get()) + rst_stream(id, 8);
  s.feed(flood);
  CHECK_EQ(goaway_code(s.read()), 11);
  CHECK(s.rec.has("error:ENHANCE_YOUR_CALM"));
  // the same rate, spread over time, is fine
  Session t([](Limits& l) {
    l.h2_reset_burst = 50;
    l.h2_reset_rate = 10;
  });
  t.handshake();
  t.rec.on_reset_hook = [&](std::uint32_t id) { t.conn->release(id); };
  for (std::uint32_t id = 1; id < 2 * 60; id += 2) {
    t.now += 0.2;
    t.feed(t.request(id, Session::get()) + rst_stream(id, 8));
  }
  CHECK_EQ(goaway_code(t.read()), -1);
  CHECK_EQ(t.conn->active_streams(), 0u);
}

TEST(continuation_flood_is_cut_by_frame_count_and_block_size) {
  Session s([](Limits& l) { l.h2_max_continuation_frames = 4; });
  s.handshake();
  std::string b = s.block(Session::get());
  std::string flood = headers(1, b.substr(0, 1), true, false);
  for (int i = 0; i < 10; ++i) flood += continuation(1, std::string(1, b[1]), false);
  s.feed(flood);
  CHECK_EQ(goaway_code(s.read()), 11);
  Session t([](Limits& l) { l.h2_max_header_block_size = 20000; });
  t.handshake();
  t.feed(headers(1, std::string(16000, '\x82'), true, false) +
         continuation(1, std::string(16000, '\x82'), false));
  CHECK_EQ(goaway_code(t.read()), 11);
  // within both limits: a block in three frames is fine
  Session u;
  u.handshake();
  std::string whole = u.block(Session::get("/split"));
  u.feed(headers(1, whole.substr(0, 2), true, false) + continuation(1, whole.substr(2, 3), false) +
         continuation(1, whole.substr(5), true));
  CHECK_EQ(u.rec.joined(), "request:1 GET /split|end:1");
}

TEST(hpack_bomb_costs_one_431_then_calm) {
  // One large dynamic-table entry referenced many times in one-byte indexed fields.
  Session s([](Limits& l) {
    l.h2_max_header_list_size = 8000;
    l.h2_glitch_burst = 5;
    l.h2_glitch_rate = 1;
  });
  s.handshake();
  // a ~4 KB field added to the dynamic table, then 1000 one-byte references to it (~4 MB)
  std::string bomb = s.block(Session::get()) + literal("x", std::string(3900, 'v'), true);
  for (int i = 0; i < 1000; ++i) bomb += char(0xbe);  // indexed: dynamic entry 62
  s.feed(headers(1, bomb, true));
  std::vector<Frame> f = s.read();
  CHECK_EQ(s.responses(f)[0].get(":status"), "431");
  CHECK(s.rec.events.empty());
  std::string more;
  for (std::uint32_t id = 3; id < 40; id += 2)
    more += headers(id, std::string(200, char(0xbe)), true);
  s.feed(more);
  CHECK_EQ(goaway_code(s.read()), 11);
}

TEST(ping_and_settings_floods_end_in_calm) {
  for (bool use_ping : {true, false}) {
    Session s([](Limits& l) {
      l.h2_control_burst = 100;
      l.h2_control_rate = 10;
    });
    s.handshake();
    std::string flood;
    for (int i = 0; i < 200; ++i) flood += use_ping ? ping() : settings({});
    s.feed(flood);
    std::vector<Frame> f = s.read();
    CHECK_EQ(goaway_code(f), 11);
    CHECK(of_type(f, use_ping ? 0x6 : 0x4).size() <= 102u);
  }
}

TEST(control_frames_piling_up_unread_end_in_calm) {
  Session s([](Limits& l) { l.h2_max_control_backlog = 1000; });
  s.handshake();
  s.conn->pause_output();
  std::string pings;
  for (int i = 0; i < 100; ++i) pings += ping();
  s.feed(pings);
  std::vector<Frame> f = s.read();
  CHECK_EQ(goaway_code(f), 11);
  CHECK(of_type(f, 0x6).size() < 60u);
}

TEST(empty_frames_and_window_update_floods_are_glitches) {
  auto flood_of = [](const std::function<std::string(Session&)>& make) {
    Session s([](Limits& l) {
      l.h2_glitch_burst = 100;
      l.h2_glitch_rate = 1;
    });
    s.handshake();
    s.feed(make(s));
    return goaway_code(s.read());
  };
  CHECK_EQ(flood_of([](Session& s) {
             std::string f = s.request(1, Session::get("/", "POST"), false);
             for (int i = 0; i < 200; ++i) f += data(1, "");
             return f;
           }),
           11);
  CHECK_EQ(flood_of([](Session&) {
             std::string f;
             for (int i = 0; i < 200; ++i) f += window_update(0, 1);
             return f;
           }),
           11);
  CHECK_EQ(flood_of([](Session& s) {
             std::string b = s.block(Session::get());
             std::string f = headers(1, "", true, false);
             for (int i = 0; i < 5; ++i) f += continuation(1, "", false);
             return f + continuation(1, b, true);
           }),
           -1);  // a few are fine
}

TEST(made_you_reset_stream_errors_are_glitches_and_keep_slots) {
  Session s([](Limits& l) {
    l.h2_glitch_burst = 20;
    l.h2_glitch_rate = 1;
    l.h2_max_concurrent_streams = 100;
  });
  s.handshake();
  std::string f;
  // Each stream is opened, then the client provokes a stream error (WINDOW_UPDATE of 0).
  for (std::uint32_t id = 1; id < 2 * 30; id += 2)
    f += s.request(id, Session::get(), false) + window_update(id, 0);
  s.feed(f);
  std::vector<Frame> out = s.read();
  CHECK_EQ(goaway_code(out), 11);
  CHECK(rst_code(out, 1) == 1);
  // The reset streams were delivered, so they hold their slots until the owner releases them.
  CHECK(s.conn->active_streams() >= 20u);
  std::size_t held = s.conn->active_streams();
  s.conn->release(1);
  CHECK_EQ(s.conn->active_streams(), held - 1);
}

TEST(reset_streams_count_toward_concurrency_until_released) {
  Session s([](Limits& l) { l.h2_max_concurrent_streams = 3; });
  s.handshake();
  s.feed(s.request(1, Session::get(), false) + window_update(1, 0));  // server resets 1
  s.feed(s.request(3, Session::get()) + rst_stream(3, 8));           // client resets 3
  s.feed(s.request(5, Session::get()));
  s.feed(s.request(7, Session::get()));
  CHECK_EQ(rst_code(s.read(), 7), 7);
  s.conn->release(1);
  s.conn->release(3);
  s.feed(s.request(9, Session::get()));
  CHECK(s.rec.has("request:9"));
}

// --- h2c upgrade, header timeout ---------------------------------------------------------------

TEST(start_upgraded_serves_stream_one) {
  Session s;
  std::string settings_payload = std::string("\0\x03\0\0\0\x64", 6);
  CHECK(!s.conn->start_upgraded(settings_payload));
  CHECK_EQ(s.conn->active_streams(), 1u);
  s.respond(1, 200, "upgraded");
  s.feed(preface() + settings({}));
  std::vector<Frame> f = s.read();
  CHECK_EQ(int(f[0].type), 4);  // our SETTINGS first
  CHECK_EQ(s.responses(f)[0].get(":status"), "200");
  CHECK_EQ(body_of(f, 1), "upgraded");
  s.conn->release(1);
  s.feed(s.request(3, Session::get()));
  CHECK(s.rec.has("request:3"));
  Session bad;
  CHECK(bad.conn->start_upgraded("abc"));
  CHECK(bad.conn->start_upgraded(std::string("\0\x02\0\0\0\x05", 6)));
}

TEST(unfinished_header_block_times_out) {
  Session s;
  s.handshake();
  s.feed(headers(1, s.block(Session::get()), true, false));
  CHECK(s.conn->header_block_open());
  s.conn->timeout_header_block();
  std::vector<Frame> f = s.read();
  CHECK_EQ(goaway_code(f), 11);
  CHECK_EQ(of_type(f, 0x7)[0].u32(0), 0u);  // stream 1 was not processed
  CHECK(s.conn->done());
}

// --- regressions found by fuzz_h2_connection -------------------------------------------------

TEST(fuzz_data_after_the_core_error_response_is_refused) {
  // error_response() completes the response: later data() must not put DATA after END_STREAM.
  Session s;
  s.handshake();
  s.feed(s.request(3, Session::get()));
  s.read();
  s.conn->error_response(3, HttpError{500, "x", false});
  CHECK_EQ(s.conn->data(3, "more", false).status, 500);
  std::vector<Frame> f = s.read();
  CHECK_EQ(int(of_type(f, 0x0).back().flags), 1);
  CHECK_EQ(of_type(f, 0x0).size(), 1u);
}

TEST(fuzz_on_reset_comes_once_per_stream) {
  // A stream answered 413 by the core (on_reset) and then the connection failing: one on_reset.
  Session s([](Limits& l) {
    l.max_body_size = 64;
    l.h2_glitch_burst = 3;
    l.h2_glitch_rate = 1;
  });
  s.handshake();
  s.feed(s.request(1, Session::get("/", "POST"), false));
  s.feed(data(1, std::string(100, 'x')));
  s.feed(s.request(3, Session::get("/", "POST"), false));
  std::string empties;
  for (int i = 0; i < 10; ++i) empties += data(3, "");
  s.feed(empties);
  CHECK_EQ(s.rec.joined(),
           "request:1 POST /|reset:1:8|request:3 POST /|reset:3:11|error:ENHANCE_YOUR_CALM");
}

TEST(fuzz_no_writable_for_streams_the_owner_never_saw) {
  // A 431 answered by the core, waiting for window, then the window opens: no on_writable.
  Session s([](Limits& l) { l.h2_max_header_list_size = 200; });
  s.handshake(settings({{0x4, 0}}));
  Fields req = Session::get();
  req.emplace_back("x-big", std::string(300, 'v'));
  s.feed(s.request(1, req));
  CHECK_EQ(s.responses(s.read())[0].get(":status"), "431");
  s.feed(window_update(1, 1000));
  CHECK(!body_of(s.read(), 1).empty());
  CHECK(s.rec.events.empty());
}

CHECK_MAIN()
