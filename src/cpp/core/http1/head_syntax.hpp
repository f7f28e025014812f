// Shared request-head rules used by both parser back ends, so that picohttpparser and llhttp accept
// exactly the same heads and reject the rest with the same status and message.
//
// Policy (strict where peers disagree, RFC 9112):
//  - lines end in CRLF only: a bare LF or bare CR is a 400 (RFC 9112 2.2 allows but does not require
//    accepting bare LF; accepting it is a request-smuggling risk behind lenient proxies);
//  - request line: method SP target SP HTTP/1.0|HTTP/1.1, single spaces; other HTTP/d.d: 505;
//  - method: a token from llhttp's HTTP method list (others: 501, RFC 9110 9.1);
//  - header: token ":" OWS value OWS; no obs-fold, no whitespace before the colon, value bytes are
//    HTAB, SP, VCHAR or obs-text only (no NUL, CR, LF, other CTLs or DEL);
//  - limits: request line (414), header line and header count (431), whole head (431).
#pragma once
#include <cstddef>
#include <string_view>

#include "ruvicorn/error.hpp"
#include "ruvicorn/limits.hpp"
#include "ruvicorn/parser.hpp"
#include "ruvicorn/tokens.hpp"

namespace ruvicorn::http1 {

// llhttp's HTTP methods (the set both back ends accept).
bool is_known_method(std::string_view method);

// Finds the end of a head line by line, incrementally: each call scans only bytes it has not seen,
// so a client sending a byte at a time costs O(bytes), and the limits hold before the head is
// complete. reset() before a new head.
class HeadScan {
 public:
  explicit HeadScan(const Limits& limits) : limits_(limits) {}
  void reset() { pos_ = line_start_ = lines_ = request_line_len_ = 0; }
  bool fresh() const { return pos_ == 0; }
  // kComplete: head_end() is the length of the head. kIncomplete: need more. kError: `error` set.
  ParseStatus scan(std::string_view data, HttpError& error);
  std::size_t head_end() const { return pos_; }
  std::size_t header_lines() const { return lines_ > 0 ? lines_ - 1 : 0; }
  std::size_t request_line_len() const { return request_line_len_; }

 private:
  const Limits& limits_;
  std::size_t pos_ = 0;         // next byte to look at
  std::size_t line_start_ = 0;  // start of the current line
  std::size_t lines_ = 0;       // complete lines so far (request line included)
  std::size_t request_line_len_ = 0;
};

// Checks what a back end may have let through (double spaces, obs-fold, bare LF, HTTP/1.x with
// x > 1, unknown methods, bytes outside the policy) and the limits, from the positions of the
// parsed pieces alone (O(header count)): true means HeadScan would accept the same head, so the
// scan can be skipped when a whole head arrives at once.
bool head_conforms(std::string_view data, const RequestHead& head, const Limits& limits);

// The reference reading of the policy, byte by byte: fills `head` (headers into `storage`, at most
// `capacity`) or names the first problem. Used to explain every rejection (so both back ends give
// the same message) and where llhttp stops for reasons that belong to framing (Content-Length
// lists, Transfer-Encoding), which the shared framing code decides instead.
bool parse_head_strict(std::string_view data, Header* storage, std::size_t capacity,
                       RequestHead& head, HttpError& error);

}  // namespace ruvicorn::http1
