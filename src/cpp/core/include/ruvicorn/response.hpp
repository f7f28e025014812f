// Serialises HTTP/1.1 responses: status line, headers (validated), Date/Server/default headers,
// and the body framing (Content-Length, chunked, or close-delimited for HTTP/1.0), with the rules
// for HEAD, 1xx, 204 and 304. Output is appended to a caller-owned std::string.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruvicorn/error.hpp"
#include "ruvicorn/tokens.hpp"

namespace ruvicorn {

struct ResponseConfig {
  bool date_header = true;     // --date-header
  bool server_header = true;   // --server-header
  std::string server_name = "ruvicorn";
  // --header name:value, sent with every response (before the app's headers).
  std::vector<std::pair<std::string, std::string>> default_headers;
  // --http3: the Alt-Svc value (RFC 7838) HTTP/1.1 and HTTP/2 responses advertise HTTP/3 with,
  // e.g. 'h3=":443"; ma=86400'. Empty: none. An Alt-Svc of the app or the defaults replaces it.
  std::string alt_svc;
};

// Whether a Server, Date or Alt-Svc field of the configured defaults or of the application
// replaces the built-in one (every protocol version applies the same rule).
struct BuiltinOverrides {
  bool server = false;
  bool date = false;
  bool alt_svc = false;
  void note(std::string_view name) {
    if (name.size() == 6 && iequals(name, "server")) server = true;
    else if (name.size() == 4 && iequals(name, "date")) date = true;
    else if (name.size() == 7 && iequals(name, "alt-svc")) alt_svc = true;
  }
};

}  // namespace ruvicorn

namespace ruvicorn::http1 {

// What the response writer must know about the request it answers.
struct ResponseContext {
  int http_minor = 1;
  bool head_request = false;   // HEAD: no body bytes, Content-Length kept
  bool keep_alive = true;      // the request allows keep-alive
};

class ResponseWriter {
 public:
  explicit ResponseWriter(const ResponseConfig& config);

  // Starts a response. Must be followed by header()* and end_head().
  void begin(const ResponseContext& context, int status);
  // Validates one header (token name; no CR, LF or NUL in the value) and records the framing
  // headers (Content-Length, Transfer-Encoding, Connection: close). Errors are 500-class app errors.
  HttpError header(std::string_view name, std::string_view value);
  // The app announced trailers (http.response.trailers): forces chunked framing.
  void expect_trailers() { trailers_expected_ = true; }
  // Appends the status line and headers to `out`.
  HttpError end_head(std::string& out);
  // Appends body bytes (chunk-framed when chunked); `more == false` ends the body. Sending more or
  // fewer bytes than Content-Length is an error (the owner closes the connection).
  HttpError body(std::string_view data, bool more, std::string& out);
  // body() without the payload copy, for owners that write a large payload object as is: appends
  // what precedes the payload (chunk-size line) to `out` and returns in `frame` whether the payload
  // is sent at all (not for HEAD/204/304) and what must follow it (chunk CRLF, last chunk).
  struct BodyFrame {
    bool payload = false;
    char suffix[8] = {};
    std::size_t suffix_len = 0;
  };
  HttpError body_frame(std::size_t size, bool more, std::string& out, BodyFrame& frame);
  // Appends the last chunk with trailer fields (chunked only; dropped when not chunked).
  HttpError trailers(const std::vector<std::pair<std::string_view, std::string_view>>& fields,
                     bool more, std::string& out);

  bool started() const { return state_ != State::kIdle; }
  bool complete() const { return state_ == State::kDone; }
  // After complete(): may the connection carry another request?
  bool keep_alive() const { return keep_alive_; }
  int status() const { return status_; }
  std::uint64_t body_bytes() const { return body_sent_; }
  void reset();  // idle again (the head's scratch goes back to the thread's pool)

  // Server, Date and the default headers as every response carries them, except that an own
  // Server or Date header of the app (`app_server`, `app_date`) or of the defaults replaces ours.
  // For heads written outside this writer (the WebSocket 101).
  void append_common_headers(bool app_server, bool app_date, std::string& out) const;
  // The same with every override of the app (Alt-Svc too).
  void append_common_headers(BuiltinOverrides app, std::string& out) const;

  // A complete error response with a short plain-text body naming the problem; always closes.
  void error_response(const HttpError& error, std::string& out) const;
  // An interim response (RFC 9110 15.2): 100 Continue, 103 Early Hints (RFC 8297) with its Link
  // fields. Not for 101 (upgrades write their own head). Never to an HTTP/1.0 client (the owner
  // checks).
  static HttpError informational(int status,
                                 const std::vector<std::pair<std::string_view, std::string_view>>& fields,
                                 std::string& out);

 private:
  enum class State { kIdle, kHeaders, kBody, kTrailers, kDone };
  enum class Framing { kNone, kLength, kChunked, kClose };


  const ResponseConfig& config_;
  std::string default_block_;  // pre-serialised default headers
  BuiltinOverrides default_overrides_;  // a default header replaces our Server or Date
  ResponseContext ctx_{};
  State state_ = State::kIdle;
  Framing framing_ = Framing::kNone;
  int status_ = 0;
  // Headers accumulated between begin() and end_head(); a pooled buffer only while it is used
  // (ruvicorn/buffer_pool.hpp), so that a writer between responses holds no memory.
  std::string head_;
  bool has_length_ = false;
  std::uint64_t length_ = 0;
  bool has_te_chunked_ = false;
  bool app_close_ = false;     // app sent Connection: close
  BuiltinOverrides app_overrides_;
  bool trailers_expected_ = false;
  bool trailer_opened_ = false;  // "0\r\n" written (trailers may come in several calls)
  bool keep_alive_ = true;
  std::uint64_t body_sent_ = 0;
};

}  // namespace ruvicorn::http1
