// Request-head parsing: every case runs on both back ends (picohttpparser, with its portable and
// its SSE4.2 scan, and llhttp), which must give the same result, the same views and the same error.
#include <memory>
#include <string>
#include <vector>

#include "check.hpp"
#include "ruvicorn/parser.hpp"

using namespace ruvicorn;
using namespace ruvicorn::http1;

namespace {

const ParserKind kKinds[] = {ParserKind::kPico, ParserKind::kLlhttp};
const char* kind_name(ParserKind k) { return k == ParserKind::kPico ? "pico" : "llhttp"; }

struct Outcome {
  ParseStatus status;
  int code = 0;
  std::string reason;
  RequestHead head;
  std::shared_ptr<HeadParser> parser;  // owns the header array the head points into
};

Outcome finish(std::shared_ptr<HeadParser> parser, std::string_view data) {
  Outcome o;
  o.parser = std::move(parser);
  HttpError err;
  o.status = o.parser->parse(data, o.head, err);
  o.code = err.status;
  o.reason = std::string(err.reason);
  return o;
}

Outcome parse_with(ParserKind kind, std::string_view data, const Limits& limits = {}) {
  return finish(make_parser(kind, limits), data);
}

// Checks that two parses agree on the status, the error and every view.
void check_same(const Outcome& a, const Outcome& b) {
  CHECK_EQ(static_cast<int>(a.status), static_cast<int>(b.status));
  CHECK_EQ(a.code, b.code);
  CHECK_EQ(a.reason, b.reason);
  if (a.status == ParseStatus::kComplete && b.status == ParseStatus::kComplete) {
    CHECK_EQ(a.head.method, b.head.method);
    CHECK_EQ(a.head.target, b.head.target);
    CHECK_EQ(a.head.http_minor, b.head.http_minor);
    CHECK_EQ(a.head.head_length, b.head.head_length);
    CHECK_EQ(a.head.header_count, b.head.header_count);
    for (std::size_t i = 0; i < a.head.header_count && i < b.head.header_count; ++i) {
      CHECK_EQ(a.head.headers[i].name, b.head.headers[i].name);
      CHECK_EQ(a.head.headers[i].value, b.head.headers[i].value);
    }
  }
}

// Parses with both back ends, and with picohttpparser's portable and SSE4.2 scans (the latter
// where the CPU has it); checks they all agree and returns pico's outcome.
Outcome both(std::string_view data, const Limits& limits = {}) {
  Outcome a = parse_with(ParserKind::kPico, data, limits);
  Outcome b = parse_with(ParserKind::kLlhttp, data, limits);
  check_same(a, b);
  for (PicoScan scan : {PicoScan::kPortable, PicoScan::kSse42})
    check_same(a, finish(make_pico_parser(limits, scan), data));
  if (a.status != b.status || a.code != b.code)
    std::fprintf(stderr, "  input: %s\n  pico %d/%d '%s' llhttp %d/%d '%s'\n", std::string(data).c_str(),
                 (int)a.status, a.code, a.reason.c_str(), (int)b.status, b.code, b.reason.c_str());
  return a;
}

int rejects(std::string_view data, const Limits& limits = {}) {
  Outcome o = both(data, limits);
  if (o.status != ParseStatus::kError)
    std::fprintf(stderr, "  expected an error for: %s\n", std::string(data).c_str());
  return o.status == ParseStatus::kError ? o.code : 0;
}

std::string reason_of(std::string_view data) { return both(data).reason; }

}  // namespace

TEST(simple_get) {
  std::string req = "GET /a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8 \r\n\r\nBODY";
  Outcome o = both(req);
  CHECK(o.status == ParseStatus::kComplete);
  CHECK_EQ(o.head.method, std::string_view("GET"));
  CHECK_EQ(o.head.target, std::string_view("/a%20b?x=1"));
  CHECK_EQ(o.head.http_minor, 1);
  CHECK_EQ(o.head.header_count, 2u);
  CHECK_EQ(o.head.headers[0].name, std::string_view("Host"));
  CHECK_EQ(o.head.headers[1].value, std::string_view("curl/8"));
  CHECK_EQ(o.head.head_length, req.size() - 4);
  // views point into the caller's bytes
  CHECK(o.head.method.data() == req.data());
}

TEST(http10_and_no_headers) {
  Outcome o = both("GET / HTTP/1.0\r\n\r\n");
  CHECK(o.status == ParseStatus::kComplete);
  CHECK_EQ(o.head.http_minor, 0);
  CHECK_EQ(o.head.header_count, 0u);
}

TEST(empty_value_and_tabs) {
  Outcome o = both("POST /x HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Tab:\tv\t\r\nX-Sp: a b \r\n\r\n");
  CHECK(o.status == ParseStatus::kComplete);
  CHECK_EQ(o.head.header_count, 4u);
  CHECK_EQ(o.head.headers[1].value, std::string_view(""));
  CHECK_EQ(o.head.headers[2].value, std::string_view("v"));
  CHECK_EQ(o.head.headers[3].value, std::string_view("a b"));
}

TEST(obs_text_in_value_is_accepted) {
  Outcome o = both("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n");
  CHECK(o.status == ParseStatus::kComplete);
}

TEST(known_methods) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
                        "PROPFIND", "M-SEARCH", "QUERY", "CONNECT"}) {
    std::string req = std::string(m) + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK(both(req).status == ParseStatus::kComplete);
  }
}

TEST(absolute_and_asterisk_targets) {
  CHECK(both("GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n").status ==
        ParseStatus::kComplete);
  CHECK(both("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").status == ParseStatus::kComplete);
}

TEST(incomplete_heads) {
  for (const char* s : {"", "G", "GET", "GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\n",
                        "GET / HTTP/1.1\r\nHost: h", "GET / HTTP/1.1\r\nHost: h\r\n",
                        "GET / HTTP/1.1\r\nHost: h\r\n\r"}) {
    CHECK(both(s).status == ParseStatus::kIncomplete);
  }
}

TEST(incremental_parse_matches_whole) {
  std::string req = "GET /p HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
  for (ParserKind kind : kKinds) {
    auto parser = make_parser(kind, Limits{});
    RequestHead head;
    HttpError err;
    for (std::size_t n = 1; n < req.size(); ++n)
      CHECK(parser->parse(std::string_view(req).substr(0, n), head, err) == ParseStatus::kIncomplete);
    CHECK(parser->parse(req, head, err) == ParseStatus::kComplete);
    CHECK_EQ(head.header_count, 3u);
    // and the next head starts afresh
    CHECK(parser->parse(req, head, err) == ParseStatus::kComplete);
    std::printf("  incremental ok on %s\n", kind_name(kind));
  }
}

TEST(bare_lf_and_cr_rejected) {
  CHECK_EQ(rejects("GET / HTTP/1.1\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\n\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(reason_of("GET / HTTP/1.1\nHost: h\n\n"), std::string("bare LF line ending (CRLF required)"));
  // bare LF is caught before the head is complete
  CHECK_EQ(rejects("GET / HTTP/1.1\nHost"), 400);
}

TEST(obs_fold_rejected) {
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), 400);
  CHECK_EQ(reason_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"),
           std::string("obs-fold (header line folding) is not allowed"));
  CHECK_EQ(rejects("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
}

TEST(header_name_rules) {
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
  CHECK_EQ(reason_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"),
           std::string("whitespace before colon in header name"));
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost h\r\n\r\n"), 400);
  CHECK_EQ(reason_of("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), std::string("header line without colon"));
  CHECK_EQ(rejects("GET / HTTP/1.1\r\n: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nX(y): h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nX\xc3\xa9: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nX\"y: h\r\n\r\n"), 400);
}

TEST(header_value_ctl_rejected) {
  CHECK_EQ(rejects(std::string("GET / HTTP/1.1\r\nX: a\0b\r\nHost: h\r\n\r\n", 36)), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nX: a\x7f" "b\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nX: a\x1b" "b\r\n\r\n"), 400);
  CHECK_EQ(reason_of("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n"),
           std::string("invalid character in header value"));
}

TEST(request_line_rules) {
  CHECK_EQ(rejects("\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET /\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET\r\n\r\n"), 400);
  CHECK_EQ(rejects("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/1.x\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET / HTTP/11\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  CHECK_EQ(rejects("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(version_rules) {
  CHECK_EQ(rejects("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
  CHECK_EQ(rejects("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  CHECK_EQ(rejects("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
  CHECK_EQ(rejects("GET / HTTP/3.1\r\n\r\n"), 505);
}

TEST(unknown_method_is_501) {
  CHECK_EQ(rejects("FOO / HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
  CHECK_EQ(rejects("get / HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
  CHECK_EQ(rejects("PRI * HTTP/1.1\r\n\r\n"), 501);
  CHECK_EQ(rejects("DESCRIBE / HTTP/1.1\r\n\r\n"), 501);
}

TEST(limits_request_line_414) {
  Limits l;
  l.max_request_line = 30;
  std::string ok = "GET /" + std::string(16, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";  // 30 bytes
  CHECK(both(ok, l).status == ParseStatus::kComplete);
  std::string bad = "GET /" + std::string(17, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK_EQ(rejects(bad, l), 414);
  // an unfinished request line is refused as soon as it passes the limit
  CHECK_EQ(rejects("GET /" + std::string(40, 'a'), l), 414);
  CHECK(both("GET /" + std::string(16, 'a') + " HTTP/1.1\r", l).status == ParseStatus::kIncomplete);
}

TEST(limits_header_count_431) {
  Limits l;
  l.max_header_count = 3;
  CHECK(both("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", l).status == ParseStatus::kComplete);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", l), 431);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD", l), 431);
}

namespace {

std::string head_with_fields(std::size_t n) {
  std::string req = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < n; ++i) req += "X-F" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
  return req + "\r\n";
}

void check_fields(const RequestHead& head, std::size_t n) {
  CHECK_EQ(head.header_count, n);
  if (head.header_count != n) return;
  for (std::size_t i = 0; i < n; ++i) {
    CHECK_EQ(std::string(head.headers[i].name), "X-F" + std::to_string(i));
    CHECK_EQ(std::string(head.headers[i].value), "v" + std::to_string(i));
  }
}

}  // namespace

TEST(header_slots_grow_on_demand) {
  // --limit-request-fields 0 is 32768: the slots start small and grow with what arrives.
  Limits l;
  l.max_header_count = 32768;
  for (std::size_t n : {0u, 31u, 32u, 33u, 64u, 65u, 200u, 3000u}) {
    const std::string req = head_with_fields(n);  // the head's views point into it
    Outcome o = both(req, l);
    CHECK(o.status == ParseStatus::kComplete);
    check_fields(o.head, n);
  }
  // One parser, reused: many fields, then few, then more again, whole and byte by byte.
  for (ParserKind kind : kKinds) {
    auto parser = make_parser(kind, l);
    for (std::size_t n : {40u, 3u, 100u, 33u, 500u}) {
      std::string req = head_with_fields(n);
      RequestHead head;
      HttpError err;
      CHECK(parser->parse(req, head, err) == ParseStatus::kComplete);
      check_fields(head, n);
      for (std::size_t k = 1; k < req.size(); k += 7)
        CHECK(parser->parse(std::string_view(req).substr(0, k), head, err) == ParseStatus::kIncomplete);
      CHECK(parser->parse(req, head, err) == ParseStatus::kComplete);
      check_fields(head, n);
    }
  }
  // The limit still counts exactly, past the first slots.
  l.max_header_count = 40;
  CHECK(both(head_with_fields(40), l).status == ParseStatus::kComplete);
  CHECK_EQ(rejects(head_with_fields(41), l), 431);
  l.max_header_count = 0;
  CHECK(both(head_with_fields(0), l).status == ParseStatus::kComplete);
  CHECK_EQ(rejects(head_with_fields(1), l), 431);
}

TEST(limits_header_field_431) {
  Limits l;
  l.max_header_field_size = 10;
  CHECK(both("GET / HTTP/1.1\r\nHost: h\r\nA: 1234567\r\n\r\n", l).status == ParseStatus::kComplete);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\nA: 12345678\r\n\r\n", l), 431);
  // an unfinished line is refused once limit + 2 bytes hold no CRLF
  CHECK(both("GET / HTTP/1.1\r\nHost: h\r\nA: 12345678", l).status == ParseStatus::kIncomplete);
  CHECK_EQ(rejects("GET / HTTP/1.1\r\nHost: h\r\nA: 123456789", l), 431);
}

TEST(limits_head_size_431) {
  Limits l;
  l.max_head_size = 64;
  std::string big = "GET / HTTP/1.1\r\nHost: h\r\nA: " + std::string(60, 'x') + "\r\n\r\n";
  CHECK_EQ(rejects(big, l), 431);
  CHECK_EQ(rejects(big.substr(0, 70), l), 431);
  std::string fits = "GET / HTTP/1.1\r\nHost: h\r\nA: " + std::string(20, 'x') + "\r\n\r\n";
  CHECK(both(fits, l).status == ParseStatus::kComplete);
}

TEST(framing_headers_reach_framing_code) {
  // llhttp would stop on these; the shared framing code decides instead.
  CHECK(both("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n").status ==
        ParseStatus::kComplete);
  CHECK(both("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").status ==
        ParseStatus::kComplete);
  CHECK(both("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n").status ==
        ParseStatus::kComplete);
  CHECK(both("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n").status ==
        ParseStatus::kComplete);
  CHECK(both("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")
            .status == ParseStatus::kComplete);
  CHECK(both("GET / HTTP/1.1\r\nHost: h\r\nConnection: close, upgrade\r\nUpgrade: websocket\r\n\r\n")
            .status == ParseStatus::kComplete);
}

TEST(parser_kind_names) {
  ParserKind k = ParserKind::kLlhttp;
  CHECK(parser_kind_from_name("auto", k) && k == ParserKind::kPico);
  CHECK(parser_kind_from_name("llhttp", k) && k == ParserKind::kLlhttp);
  CHECK(parser_kind_from_name("picohttpparser", k) && k == ParserKind::kPico);
  CHECK(parser_kind_from_name("pico", k) && k == ParserKind::kPico);
  CHECK(!parser_kind_from_name("h11", k));
}

CHECK_MAIN()
