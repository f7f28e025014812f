// The HTTP/3 server connection (RFC 9114) over fed stream bytes: requests and responses, frames
// split at every byte, the control and QPACK streams, every connection and stream error the RFC
// names for bad input, the concurrency limit, GOAWAY, client resets and their budget.
#include <string>

#include "check.hpp"
#include "h3_session.hpp"

using namespace h3test;

namespace {

struct Fixture {
  Limits limits;
  ResponseConfig config;
  Recorder rec;
  Sent sent;
  std::unique_ptr<Connection> conn;
  double now = 1.0;

  Fixture() { config.date_header = false; }
  Connection& c() {
    if (!conn) {
      conn = std::make_unique<Connection>(limits, config);
      conn->start(3);
    }
    return *conn;
  }
  void feed(std::uint64_t stream, std::string_view data, bool fin = false) {
    c().feed(stream, data, fin, rec, now);
    sent.take(c().output());
  }
  void flush() { sent.take(c().output()); }
  ErrorCode error() const { return rec.error.code; }
  bool failed() { return c().failed(); }
  // The client's control stream (id 2) with its SETTINGS.
  void client_control() { feed(2, varint(0x00) + settings({{0x6, 65536}})); }
};

}  // namespace

TEST(control_stream_announces_settings) {
  Fixture f;
  f.flush();
  const std::string& control = f.sent.data[3];
  CHECK_EQ(static_cast<int>(control[0]), 0x00);  // stream type: control
  const auto frames = frames_of(std::string_view(control).substr(1));
  CHECK_EQ(frames.size(), 1u);
  CHECK_EQ(frames[0].first, frame::kSettings);
  Settings s;
  CHECK(!decode_settings(frames[0].second, s));
  CHECK_EQ(s.qpack_max_table_capacity, 0u);
  CHECK_EQ(s.qpack_blocked_streams, 0u);
  CHECK_EQ(s.max_field_section_size, 65536u);
}

TEST(get_and_response) {
  Fixture f;
  f.client_control();
  f.feed(0, headers(get("/a?b=1")), true);
  CHECK(f.rec.saw("request 0"));
  CHECK(f.rec.saw("end 0"));
  CHECK_EQ(field(f.rec.requests[0], ":path"), "/a");
  CHECK_EQ(field(f.rec.requests[0], "host"), "example.com");  // :authority, first
  CHECK_EQ(f.rec.requests[0][2].first, "host");
  Connection& c = f.c();
  CHECK(!c.begin_response(0, 200, false));
  CHECK(!c.response_field("Content-Type", "text/plain"));
  CHECK(!c.response_field("Connection", "close"));  // dropped (4.2)
  CHECK(!c.response_field("content-length", "5"));
  CHECK(!c.end_response(false));
  CHECK(!c.data(0, "hello", true));
  f.flush();
  const auto frames = frames_of(f.sent.data[0]);
  CHECK_EQ(frames.size(), 2u);
  CHECK_EQ(frames[0].first, frame::kHeaders);
  const Pairs head = decode(frames[0].second);
  CHECK_EQ(field(head, ":status"), "200");
  CHECK_EQ(field(head, "content-type"), "text/plain");
  CHECK_EQ(field(head, "server"), "ruvicorn");
  CHECK_EQ(field(head, "content-length"), "5");
  CHECK_EQ(field(head, "connection"), "<none>");
  CHECK_EQ(frames[1].first, frame::kData);
  CHECK_EQ(frames[1].second, "hello");
  CHECK(f.sent.fin[0]);
  CHECK_EQ(c.active_streams(), 1u);
  c.release(0);
  CHECK_EQ(c.active_streams(), 0u);
}

TEST(request_split_at_every_byte) {
  Fixture f;
  Pairs fields = get("/upload", "POST");
  fields.emplace_back("content-length", "11");
  fields.emplace_back("cookie", "a=1");
  fields.emplace_back("cookie", "b=2");
  const std::string bytes = make_frame(0x21, "grease") + headers(fields) + make_frame(frame::kData, "hello ") +
                            make_frame(0x2f, "") + make_frame(frame::kData, "world");
  for (char ch : bytes) f.feed(4, std::string_view(&ch, 1));
  f.feed(4, "", true);
  CHECK(f.rec.saw("request 4"));
  CHECK(f.rec.saw("end 4"));
  CHECK_EQ(f.rec.bodies[4], "hello world");
  CHECK_EQ(field(f.rec.requests[4], "cookie"), "a=1; b=2");
  CHECK_EQ(f.c().unconsumed(), 11u);
  f.c().consume(4, 11);
  CHECK_EQ(f.c().unconsumed(), 0u);
}

TEST(frames_out_of_place_are_connection_errors) {
  struct Case {
    std::string bytes;
    ErrorCode code;
  };
  const Case cases[] = {
      {make_frame(frame::kData, "x"), ErrorCode::kFrameUnexpected},                   // DATA first
      {headers(get()) + make_frame(frame::kSettings, ""), ErrorCode::kFrameUnexpected},
      {make_frame(frame::kGoaway, varint(0)), ErrorCode::kFrameUnexpected},
      {make_frame(frame::kMaxPushId, varint(0)), ErrorCode::kFrameUnexpected},
      {make_frame(frame::kCancelPush, varint(0)), ErrorCode::kFrameUnexpected},
      {make_frame(frame::kPushPromise, varint(0)), ErrorCode::kFrameUnexpected},
      {make_frame(0x2, ""), ErrorCode::kFrameUnexpected},  // HTTP/2's PRIORITY
      {make_frame(0x6, "12345678"), ErrorCode::kFrameUnexpected},  // PING
      {make_frame(0x8, varint(1)), ErrorCode::kFrameUnexpected},   // WINDOW_UPDATE
      {make_frame(0x9, ""), ErrorCode::kFrameUnexpected},          // CONTINUATION
      {headers(get()) + headers({{"x-t", "1"}}) + make_frame(frame::kData, "x"),
       ErrorCode::kFrameUnexpected},  // DATA after trailers
      {headers(get()) + headers({{"x-t", "1"}}) + headers({{"x-t", "2"}}),
       ErrorCode::kFrameUnexpected},  // HEADERS after trailers
      {make_frame(frame::kHeaders, "\x01\x00"), ErrorCode::kQpackDecompressionFailed},
      {make_frame(frame::kHeaders, std::string("\x00\x00\x80", 3)), ErrorCode::kQpackDecompressionFailed},
  };
  for (const Case& k : cases) {
    Fixture f;
    f.feed(0, k.bytes);
    CHECK(f.failed());
    CHECK_EQ(error_code_name(f.error()), error_code_name(k.code));
  }
}

TEST(truncated_frame_at_fin_is_frame_error) {
  Fixture f;
  const std::string h = headers(get());
  f.feed(0, std::string_view(h).substr(0, h.size() - 1), true);
  CHECK_EQ(error_code_name(f.error()), "H3_FRAME_ERROR");
  Fixture g;
  g.feed(0, headers(get()) + std::string(1, char(0x40)), true);  // a frame header cut short
  CHECK_EQ(error_code_name(g.error()), "H3_FRAME_ERROR");
}

TEST(stream_without_headers_is_incomplete) {
  Fixture f;
  f.feed(0, make_frame(0x21, ""), true);
  CHECK(!f.failed());
  CHECK(f.sent.has("reset", 0, ErrorCode::kRequestIncomplete));
  CHECK(f.rec.requests.empty());
}

TEST(malformed_requests_are_stream_errors) {
  const Pairs cases[] = {
      {{":method", "GET"}, {":path", "/"}},                                 // no :scheme
      {{":method", "GET"}, {":scheme", "https"}},                           // no :path
      {{":scheme", "https"}, {":path", "/"}},                               // no :method
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":path", "/"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":status", "200"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"x", "1"}, {":authority", "a"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"X-Upper", "1"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"connection", "close"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"transfer-encoding", "chunked"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"te", "gzip"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", ""}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"x", "a\nb"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":protocol", "websocket"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":authority", "a"}, {"host", "b"}},
  };
  for (const Pairs& fields : cases) {
    Fixture f;
    f.feed(0, headers(fields), true);
    CHECK(!f.failed());
    CHECK(f.rec.requests.empty());
    CHECK(f.sent.has("reset", 0, ErrorCode::kMessageError));
    CHECK_EQ(f.c().stats().stream_errors, 1u);
  }
}

TEST(content_length_must_match_the_body) {
  Fixture f;
  Pairs more = get("/", "POST");
  more.emplace_back("content-length", "3");
  f.feed(0, headers(more) + make_frame(frame::kData, "abcd"));
  CHECK(f.sent.has("reset", 0, ErrorCode::kMessageError));
  CHECK(f.rec.saw("reset 0"));  // the app saw the request, then the disconnect
  Fixture g;
  g.feed(0, headers(more) + make_frame(frame::kData, "ab"), true);
  CHECK(g.sent.has("reset", 0, ErrorCode::kMessageError));
  CHECK(!g.rec.saw("end 0"));
}

TEST(oversize_header_frame_is_refused_before_it_is_buffered) {
  Fixture f;
  f.limits.h3_max_field_section_size = 1024;
  std::string big = headers({{":method", "GET"}, {":scheme", "https"}, {":path", "/"},
                             {"x-big", std::string(4000, 'a')}});
  // Only the frame header and a few bytes: the 431 is already out, the rest will be dropped.
  f.feed(0, std::string_view(big).substr(0, 10));
  const auto frames = frames_of(f.sent.data[0]);
  CHECK_EQ(frames.size(), 2u);
  CHECK_EQ(field(decode(frames[0].second), ":status"), "431");
  CHECK(f.sent.fin[0]);
  CHECK(f.sent.has("stop", 0, ErrorCode::kNoError));
  f.feed(0, std::string_view(big).substr(10), true);
  CHECK(!f.failed());
  CHECK(f.rec.requests.empty());
}

TEST(oversize_decoded_section_gets_431) {
  Fixture f;
  f.limits.h3_max_field_section_size = 200;
  Pairs fields = get();
  for (int i = 0; i < 8; ++i) fields.emplace_back("x-field-" + std::to_string(i), "v");
  f.feed(0, headers(fields), true);  // small on the wire, over the limit decoded
  CHECK_EQ(field(decode(frames_of(f.sent.data[0])[0].second), ":status"), "431");
  CHECK(f.rec.requests.empty());
}

TEST(control_stream_rules) {
  struct Case {
    std::string bytes;
    bool fin;
    const char* code;
  };
  const Case cases[] = {
      {varint(0) + make_frame(frame::kGoaway, varint(0)), false, "H3_MISSING_SETTINGS"},
      {varint(0) + settings() + settings(), false, "H3_FRAME_UNEXPECTED"},
      {varint(0) + settings() + make_frame(frame::kData, ""), false, "H3_FRAME_UNEXPECTED"},
      {varint(0) + settings() + headers(get()), false, "H3_FRAME_UNEXPECTED"},
      {varint(0) + settings() + make_frame(0x6, "12345678"), false, "H3_FRAME_UNEXPECTED"},
      {varint(0) + settings({{0x2, 1}}), false, "H3_SETTINGS_ERROR"},  // HTTP/2's ENABLE_PUSH
      {varint(0) + settings({{0x6, 1}, {0x6, 2}}), false, "H3_SETTINGS_ERROR"},
      {varint(0) + make_frame(frame::kSettings, varint(0x6)), false, "H3_FRAME_ERROR"},
      {varint(0) + settings(), true, "H3_CLOSED_CRITICAL_STREAM"},
      {varint(0) + settings() + make_frame(frame::kCancelPush, varint(0)), false, "H3_ID_ERROR"},
      {varint(0) + settings() + make_frame(frame::kMaxPushId, varint(5)) +
           make_frame(frame::kMaxPushId, varint(4)),
       false, "H3_ID_ERROR"},
      {varint(0) + settings() + make_frame(frame::kGoaway, varint(8)) + make_frame(frame::kGoaway, varint(9)),
       false, "H3_ID_ERROR"},
      {varint(0) + settings() + make_frame(frame::kGoaway, varint(8) + "x"), false, "H3_FRAME_ERROR"},
      {varint(0) + settings() + make_frame(frame::kSettings, std::string(20000, '\0')), false,
       "H3_FRAME_UNEXPECTED"},
      {varint(0) + settings() + make_frame(frame::kGoaway, std::string(20000, '\0')), false,
       "H3_EXCESSIVE_LOAD"},
      {varint(1), false, "H3_STREAM_CREATION_ERROR"},  // a push stream from a client
      {varint(2) + "\x21", false, "QPACK_ENCODER_STREAM_ERROR"},
      {varint(2) + "\xc0", false, "QPACK_ENCODER_STREAM_ERROR"},
      {varint(3) + "\x81", false, "QPACK_DECODER_STREAM_ERROR"},
      {varint(3) + "\x01", false, "QPACK_DECODER_STREAM_ERROR"},
      {varint(2), true, "H3_CLOSED_CRITICAL_STREAM"},
  };
  for (const Case& k : cases) {
    Fixture f;
    f.feed(2, k.bytes, k.fin);
    CHECK(f.failed());
    CHECK_EQ(error_code_name(f.error()), k.code);
  }
  // A second control stream.
  Fixture f;
  f.client_control();
  f.feed(6, varint(0) + settings());
  CHECK_EQ(error_code_name(f.error()), "H3_STREAM_CREATION_ERROR");
  // Its reset ends the connection too.
  Fixture g;
  g.client_control();
  g.c().stream_reset(2, g.rec, 1.0);
  CHECK_EQ(error_code_name(g.error()), "H3_CLOSED_CRITICAL_STREAM");
}

TEST(valid_control_and_qpack_streams) {
  Fixture f;
  // Type and frames split at every byte; unknown frames and settings are ignored.
  const std::string control = varint(0) + settings({{0x1, 4096}, {0x33, 1}, {0x1f * 3 + 0x21, 7}}) +
                              make_frame(0x21, "grease") + make_frame(frame::kMaxPushId, varint(3)) +
                              make_frame(frame::kGoaway, varint(4));
  for (char ch : control) f.feed(2, std::string_view(&ch, 1));
  f.feed(6, varint(2) + "\x20");
  f.feed(10, varint(3) + "\x41");
  CHECK(!f.failed());
  CHECK(f.rec.saw("goaway"));
  // An unknown stream type is read no further (6.2.3), without a connection error.
  f.feed(14, varint(0x21) + "whatever");
  CHECK(!f.failed());
  CHECK(f.sent.has("stop", 14, ErrorCode::kStreamCreationError));
  f.feed(14, "more", true);
  CHECK(!f.failed());
}

TEST(concurrency_limit_and_release) {
  Fixture f;
  f.limits.h3_max_concurrent_streams = 2;
  f.feed(0, headers(get()), true);
  f.feed(4, headers(get()), true);
  f.feed(8, headers(get()), true);
  CHECK(f.rec.saw("request 0") && f.rec.saw("request 4"));
  CHECK(!f.rec.saw("request 8"));
  CHECK(f.sent.has("reset", 8, ErrorCode::kRequestRejected));
  CHECK(f.sent.has("stop", 8, ErrorCode::kRequestRejected));
  CHECK_EQ(f.c().stats().refused, 1u);
  f.feed(8, "late bytes");  // dropped: the stream was refused
  CHECK(!f.failed());
  // A finished response keeps the slot until the app's task ends (release).
  CHECK(!f.c().begin_response(0, 204, false));
  CHECK(!f.c().end_response(true));
  f.feed(12, headers(get()), true);
  CHECK(!f.rec.saw("request 12"));
  f.c().release(0);
  f.feed(16, headers(get()), true);
  CHECK(f.rec.saw("request 16"));
}

TEST(goaway_refuses_later_streams) {
  Fixture f;
  f.feed(0, headers(get()), true);
  f.c().goaway();
  f.flush();
  const auto frames = frames_of(std::string_view(f.sent.data[3]).substr(1));
  CHECK_EQ(frames.back().first, frame::kGoaway);
  CHECK_EQ(frames.back().second, varint(4));
  CHECK(!f.c().done());  // stream 0 still holds its slot
  f.feed(4, headers(get()), true);
  CHECK(f.sent.has("reset", 4, ErrorCode::kRequestRejected));
  f.c().release(0);
  CHECK(f.c().done());
}

TEST(client_reset_disconnects_and_is_budgeted) {
  Fixture f;
  f.feed(0, headers(get("/", "POST")));
  f.c().stream_reset(0, f.rec, 1.0);
  f.flush();
  CHECK(f.rec.saw("reset 0"));
  CHECK(f.sent.has("reset", 0, ErrorCode::kRequestCancelled));
  CHECK(!f.c().writable(0));
  CHECK_EQ(f.c().active_streams(), 1u);  // until the app's task ends
  f.c().release(0);
  CHECK_EQ(f.c().active_streams(), 0u);
  // STOP_SENDING: the client does not want the response.
  f.feed(4, headers(get()), true);
  f.c().stop_sending(4, f.rec, 1.0);
  f.flush();
  CHECK(f.rec.saw("reset 4"));
  CHECK(f.sent.has("reset", 4, ErrorCode::kRequestCancelled));
  // A stream reset before any of it arrived: our side is reset too (QUIC can then free it).
  f.c().stream_reset(8, f.rec, 1.0);
  f.flush();
  CHECK(f.sent.has("reset", 8, ErrorCode::kRequestCancelled));
  f.feed(8, headers(get()), true);  // bytes the reset overtook: dropped
  CHECK(!f.rec.saw("request 8"));
  // Rapid reset: a burst over the budget ends the connection.
  Fixture g;
  g.limits.h2_reset_burst = 10;
  g.limits.h2_reset_rate = 1;
  for (std::uint64_t i = 0; i < 20 && !g.failed(); ++i) {
    g.feed(i * 4, headers(get()));
    g.c().stream_reset(i * 4, g.rec, 1.0);
    g.c().release(i * 4);
  }
  CHECK_EQ(error_code_name(g.error()), "H3_EXCESSIVE_LOAD");
}

TEST(trailers_informational_head_and_errors) {
  Fixture f;
  f.feed(0, headers(get()), true);
  Connection& c = f.c();
  CHECK(!c.informational(0, 103, {{"link", "</s.css>; rel=preload"}}));
  CHECK(c.informational(0, 101, {}).status == 500);
  CHECK(!c.begin_response(0, 200, false));
  CHECK(!c.end_response(false));
  CHECK(!c.data(0, "body", false));
  CHECK(!c.trailers(0, {{"x-checksum", "1"}}));
  f.flush();
  const auto frames = frames_of(f.sent.data[0]);
  CHECK_EQ(frames.size(), 4u);
  CHECK_EQ(field(decode(frames[0].second), ":status"), "103");
  CHECK_EQ(field(decode(frames[0].second), "link"), "</s.css>; rel=preload");
  CHECK_EQ(field(decode(frames[1].second), ":status"), "200");
  CHECK_EQ(frames[2].second, "body");
  CHECK_EQ(field(decode(frames[3].second), "x-checksum"), "1");
  CHECK(f.sent.fin[0]);
  // HEAD: the FIN goes with the HEADERS; the body the app sends is dropped.
  f.feed(4, headers(get("/", "HEAD")), true);
  CHECK(!c.begin_response(4, 200, true));
  CHECK(!c.response_field("content-length", "10"));
  CHECK(!c.end_response(false));
  CHECK(!c.data(4, "0123456789", true));
  f.flush();
  CHECK_EQ(frames_of(f.sent.data[4]).size(), 1u);
  CHECK_EQ(field(decode(frames_of(f.sent.data[4])[0].second), "content-length"), "10");
  // App errors: nothing queued.
  f.feed(8, headers(get()), true);
  CHECK(!c.begin_response(8, 200, false));
  CHECK(c.response_field("bad name", "x").status == 500);
  CHECK(!c.begin_response(8, 200, false));
  CHECK(!c.response_field("content-length", "2"));
  CHECK(!c.end_response(false));
  CHECK(c.data(8, "abc", false).status == 500);
  c.error_response(8, HttpError{500, "x", false});  // after the head: a reset
  f.flush();
  CHECK(f.sent.has("reset", 8, ErrorCode::kInternalError));
}

TEST(body_limit_and_head_deadline) {
  Fixture f;
  f.limits.max_body_size = 4;
  Pairs big = get("/", "POST");
  big.emplace_back("content-length", "10");
  f.feed(0, headers(big));
  CHECK_EQ(field(decode(frames_of(f.sent.data[0])[0].second), ":status"), "413");
  f.feed(4, headers(get("/", "POST")) + make_frame(frame::kData, "12345"));
  CHECK(f.rec.saw("reset 4"));
  CHECK_EQ(field(decode(frames_of(f.sent.data[4])[0].second), ":status"), "413");
  // A head trickled for longer than the deadline is reset.
  const std::string h = headers(get());
  f.feed(8, std::string_view(h).substr(0, 3));
  f.c().expire_heads(100.0, 10.0);
  f.flush();
  CHECK(f.sent.has("reset", 8, ErrorCode::kRequestIncomplete));
  f.feed(8, std::string_view(h).substr(3), true);
  CHECK(!f.rec.saw("request 8"));
}

CHECK_MAIN()
