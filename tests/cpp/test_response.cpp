// ResponseWriter: framing rules, HEAD/1xx/204/304, HTTP/1.0, Content-Length enforcement, header
// validation, trailers and error responses.
#include <string>

#include "check.hpp"
#include "ruvicorn/response.hpp"

using namespace ruvicorn;
using namespace ruvicorn::http1;

namespace {

ResponseConfig plain() {
  ResponseConfig c;
  c.date_header = false;
  c.server_header = false;
  return c;
}

std::string head_of(ResponseWriter& w, const ResponseContext& ctx, int status,
                    std::initializer_list<std::pair<const char*, const char*>> headers) {
  std::string out;
  w.begin(ctx, status);
  for (auto& [n, v] : headers) CHECK(!w.header(n, v));
  CHECK(!w.end_head(out));
  return out;
}

}  // namespace

TEST(content_length_framing) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 200, {{"content-type", "text/plain"}, {"content-length", "5"}});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n"));
  CHECK(!w.body("hel", true, out));
  CHECK(!w.body("lo", false, out));
  CHECK(w.complete());
  CHECK(w.keep_alive());
  CHECK_EQ(w.body_bytes(), 5u);
  CHECK(out.size() > 5 && out.compare(out.size() - 5, 5, "hello") == 0);
}

TEST(chunked_when_no_length) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 200, {});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"));
  out.clear();
  CHECK(!w.body("hello world, this is 26 b!", true, out));
  CHECK(!w.body("", true, out));
  CHECK(!w.body("x", false, out));
  CHECK_EQ(out, std::string("1a\r\nhello world, this is 26 b!\r\n1\r\nx\r\n0\r\n\r\n"));
  CHECK(w.keep_alive());
}

TEST(app_transfer_encoding_not_repeated) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 200, {{"Transfer-Encoding", "chunked"}});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"));
}

TEST(http10_close_delimited) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  ResponseContext ctx{0, false, true};
  std::string out = head_of(w, ctx, 200, {});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"));
  CHECK(!w.body("abc", false, out));
  CHECK(!w.keep_alive());
  // HTTP/1.0 keep-alive with a length
  out = head_of(w, ctx, 200, {{"content-length", "0"}});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"));
  CHECK(!w.body("", false, out));
  CHECK(w.keep_alive());
}

TEST(no_body_statuses_and_head) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 204, {{"content-length", "0"}});
  CHECK_EQ(out, std::string("HTTP/1.1 204 No Content\r\n\r\n"));
  CHECK(!w.body("ignored", false, out));
  CHECK_EQ(out, std::string("HTTP/1.1 204 No Content\r\n\r\n"));
  CHECK(w.keep_alive());
  out = head_of(w, {}, 304, {{"etag", "\"x\""}});
  CHECK_EQ(out, std::string("HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\n\r\n"));
  out = head_of(w, {}, 304, {{"content-length", "10"}});
  CHECK_EQ(out, std::string("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n"));
  CHECK(!w.body("", false, out));
  ResponseContext head{1, true, true};
  out = head_of(w, head, 200, {{"content-length", "11"}});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n"));
  CHECK(!w.body("hello world", false, out));
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n"));
  CHECK(w.keep_alive());
  out = head_of(w, head, 200, {});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\n\r\n"));
  out = head_of(w, {}, 103, {{"link", "</a>; rel=preload"}});
  CHECK_EQ(out, std::string("HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n"));
}

TEST(content_length_mismatch_is_error) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 200, {{"content-length", "3"}});
  HttpError e = w.body("abcd", false, out);
  CHECK_EQ(e.status, 500);
  CHECK(!w.keep_alive());
  out = head_of(w, {}, 200, {{"content-length", "3"}});
  CHECK(!w.body("ab", true, out));
  e = w.body("", false, out);
  CHECK_EQ(e.status, 500);
  CHECK(!w.keep_alive());
}

TEST(header_validation) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  w.begin({}, 200);
  CHECK_EQ(w.header("bad name", "v").status, 500);
  CHECK_EQ(w.header("", "v").status, 500);
  CHECK_EQ(w.header("x", "a\r\nInjected: 1").status, 500);
  CHECK_EQ(w.header("x", "a\nb").status, 500);
  CHECK_EQ(w.header("x", std::string_view("a\0b", 3)).status, 500);
  CHECK_EQ(w.header("content-length", "-1").status, 500);
  CHECK_EQ(w.header("content-length", "1x").status, 500);
  CHECK(!w.header("content-length", "4"));
  CHECK_EQ(w.header("content-length", "5").status, 500);
  CHECK(!w.header("x-ok", "tab\tand caf\xc3\xa9"));
}

TEST(connection_close_from_app_and_request) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 200, {{"Connection", "close"}, {"content-length", "0"}});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"));
  CHECK(!w.body("", false, out));
  CHECK(!w.keep_alive());
  ResponseContext close_req{1, false, false};
  out = head_of(w, close_req, 200, {{"content-length", "0"}});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"));
}

TEST(date_server_and_defaults) {
  ResponseConfig cfg;
  cfg.default_headers = {{"x-powered-by", "tests"}};
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 200, {{"content-length", "0"}});
  CHECK(out.rfind("HTTP/1.1 200 OK\r\nserver: ruvicorn\r\ndate: ", 0) == 0);
  CHECK(out.find(" GMT\r\nx-powered-by: tests\r\ncontent-length: 0\r\n\r\n") != std::string::npos);
  out = head_of(w, {}, 200, {{"Server", "mine"}, {"Date", "then"}, {"content-length", "0"}});
  CHECK(out.find("server: ruvicorn") == std::string::npos);
  CHECK(out.find("date: ") == std::string::npos);
  CHECK(out.find("Server: mine\r\n") != std::string::npos);
}

TEST(default_server_and_date_replace_builtin_ones) {
  ResponseConfig cfg;
  cfg.default_headers = {{"Server", "custom"}, {"date", "fixed"}};
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 200, {{"content-length", "0"}});
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\nServer: custom\r\ndate: fixed\r\n"
                            "content-length: 0\r\n\r\n"));
}

TEST(uncached_status_line) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out = head_of(w, {}, 418, {{"content-length", "0"}});
  CHECK(out.rfind("HTTP/1.1 418 I'm a teapot\r\n", 0) == 0);
  out = head_of(w, {}, 299, {{"content-length", "0"}});
  CHECK(out.rfind("HTTP/1.1 299 Unknown\r\n", 0) == 0);
}

TEST(trailers) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out;
  w.begin({}, 200);
  w.expect_trailers();
  CHECK(!w.end_head(out));
  CHECK_EQ(out, std::string("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"));
  out.clear();
  CHECK(!w.body("ab", false, out));
  CHECK(!w.complete());
  CHECK(!w.trailers({{"x-checksum", "1"}}, true, out));
  CHECK(!w.trailers({{"x-more", "2"}}, false, out));
  CHECK(w.complete());
  CHECK_EQ(out, std::string("2\r\nab\r\n0\r\nx-checksum: 1\r\nx-more: 2\r\n\r\n"));
  CHECK_EQ(w.trailers({}, false, out).status, 500);  // after completion
  // with a length the trailers are dropped
  w.begin({}, 200);
  w.expect_trailers();
  CHECK(!w.header("content-length", "2"));
  out.clear();
  CHECK(!w.end_head(out));
  CHECK(!w.body("ab", false, out));
  CHECK(!w.trailers({{"x", "1"}}, false, out));
  CHECK(w.complete());
  CHECK(out.find("x: 1") == std::string::npos);
}

TEST(misuse_is_error) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out;
  w.begin({}, 200);
  CHECK_EQ(w.body("x", false, out).status, 500);
  w.begin({}, 200);
  CHECK(!w.end_head(out));
  CHECK_EQ(w.end_head(out).status, 500);
  CHECK_EQ(w.header("x", "y").status, 500);
  CHECK(!w.body("", false, out));
  CHECK_EQ(w.body("x", false, out).status, 500);
}

TEST(error_response_format) {
  ResponseConfig cfg = plain();
  ResponseWriter w(cfg);
  std::string out;
  w.error_response(HttpError{400, "whitespace before colon in header name", true}, out);
  std::string body = "Bad Request: whitespace before colon in header name";
  CHECK_EQ(out, "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: " +
                    std::to_string(body.size()) + "\r\nconnection: close\r\n\r\n" + body);
  ResponseConfig dated;
  ResponseWriter d(dated);
  out.clear();
  d.error_response(HttpError{431, "too many header fields", true}, out);
  CHECK(out.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  CHECK(out.find("\r\ndate: ") != std::string::npos);
  CHECK(out.find("Request Header Fields Too Large: too many header fields") != std::string::npos);
  out.clear();
  CHECK(!ResponseWriter::informational(100, {}, out));
  CHECK_EQ(out, std::string("HTTP/1.1 100 Continue\r\n\r\n"));
}

TEST(informational_responses) {
  std::string out;
  CHECK(!ResponseWriter::informational(
      103, {{"link", "</a.css>; rel=preload; as=style"}, {"link", "</b.js>; rel=preload"}}, out));
  CHECK_EQ(out, std::string("HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload; as=style\r\n"
                            "link: </b.js>; rel=preload\r\n\r\n"));
  out.clear();
  CHECK(ResponseWriter::informational(103, {{"link", "a\r\nx: y"}}, out));  // no header injection
  CHECK(ResponseWriter::informational(103, {{"bad name", "v"}}, out));
  CHECK(ResponseWriter::informational(101, {}, out));  // upgrades write their own head
  CHECK(ResponseWriter::informational(200, {}, out));
  CHECK(out.empty());
}

CHECK_MAIN()
