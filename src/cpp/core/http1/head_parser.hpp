// The part of a HeadParser both back ends share: the incremental line scan (limits, CRLF, end of
// head), the conformance check of what the back end returns, and the strict reading that explains
// every rejection. A back end only parses a complete head.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

#include "http1/head_syntax.hpp"
#include "ruvicorn/parser.hpp"

namespace ruvicorn::http1 {

class BasicHeadParser : public HeadParser {
 public:
  explicit BasicHeadParser(const Limits& limits);
  // After kIncomplete the next call must pass the same head with more bytes appended (that is
  // what Connection does); after kComplete or kError a new head may start.
  ParseStatus parse(std::string_view data, RequestHead& head, HttpError& error) final;

 protected:
  // Parses the head at the start of `data` (complete, possibly followed by other bytes) and sets
  // out.head_length. false: the back end rejects it or wants more bytes.
  virtual bool parse_complete(std::string_view data, RequestHead& out) = 0;

  // Room for `n` header fields (n <= max_header_count) in headers_. The slots grow on demand,
  // reused for every later request: a connection pays for the headers it sends, not for
  // --limit-request-fields (32768 slots would cost 1 MiB per parser).
  void reserve_slots(std::size_t n);

  const Limits limits_;
  std::vector<Header> headers_;  // at least one slot more than any head so far needed

 private:
  HeadScan scan_;
};

}  // namespace ruvicorn::http1
