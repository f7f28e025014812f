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

// Header slots a parser starts with: browsers send 10-20 headers, load generators 1-3.
inline constexpr std::size_t kFirstHeaderSlots = 16;

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

  // At least `count` header slots (count <= max_header_count + 1), kept for the next requests.
  // They grow on demand, doubling from kFirstHeaderSlots: an idle connection holds a few hundred
  // bytes of them, not max_header_count + 1 (3.2 KiB at the default 100).
  Header* header_slots(std::size_t count);
  const Header* headers() const { return headers_.data(); }

  const Limits limits_;

 private:
  std::vector<Header> headers_;
  HeadScan scan_;
};

// The next size of a slot array that must hold `count` (doubling, at most `most`).
std::size_t grown_slots(std::size_t have, std::size_t count, std::size_t most);

}  // namespace ruvicorn::http1
