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
  void release_slots() override;

 protected:
  // Parses the head at the start of `data` (complete, possibly followed by other bytes) and sets
  // out.head_length. false: the back end rejects it or wants more bytes.
  virtual bool parse_complete(std::string_view data, RequestHead& out) = 0;

  // Room for `n` header fields (n <= max_header_count) in headers_. The slots grow on demand
  // and go back to the thread's pool between heads (release_slots): a connection pays for the
  // headers it sends while it parses them, not for --limit-request-fields (32768 slots would
  // cost 1 MiB per parser), and holds none while idle.
  void reserve_slots(std::size_t n);
  // The most slot memory the pool keeps for the next head (larger slots are freed).
  std::size_t max_pooled_bytes() const { return limits_.high_water; }

  const Limits limits_;
  // While a head is parsed: at least one slot more than it needs (empty between heads).
  std::vector<Header> headers_;

 private:
  HeadScan scan_;
};

}  // namespace ruvicorn::http1
