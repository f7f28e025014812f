#include "http1/head_parser.hpp"

#include <algorithm>

#include "ruvicorn/buffer_pool.hpp"

namespace ruvicorn::http1 {

namespace {
constexpr std::size_t kInitialSlots = 32;  // most requests carry fewer fields
}  // namespace

BasicHeadParser::BasicHeadParser(const Limits& limits) : limits_(limits), scan_(limits_) {}

void BasicHeadParser::release_slots() {
  BufferPool<std::vector<Header>>::give(headers_, max_pooled_bytes());
}

void BasicHeadParser::reserve_slots(std::size_t n) {
  n = std::min(n, limits_.max_header_count) + 1;
  if (headers_.size() >= n) return;
  // Doubling: a client sending ever more fields costs O(log) resizes, not one per request.
  headers_.resize(std::min(std::max(n, 2 * headers_.size()), limits_.max_header_count + 1));
}

ParseStatus BasicHeadParser::parse(std::string_view data, RequestHead& head, HttpError& error) {
  BufferPool<std::vector<Header>>::take(headers_);  // slots from the last head (any connection's)
  if (headers_.empty()) headers_.resize(std::min(kInitialSlots, limits_.max_header_count) + 1);
  // Fast path: a head that arrives whole is parsed once by the back end and its line structure
  // and limits are verified from the parsed positions.
  if (scan_.fresh() && parse_complete(data, head) && head_conforms(data, head, limits_))
    return ParseStatus::kComplete;
  ParseStatus status = scan_.scan(data, error);
  if (status == ParseStatus::kIncomplete) return status;
  if (status == ParseStatus::kError) {
    scan_.reset();
    return status;
  }
  std::string_view bytes = data.substr(0, scan_.head_end());
  // The scan counted the lines: a back end that ran out of slots on the fast path fits now.
  reserve_slots(scan_.header_lines());
  bool ok = parse_complete(bytes, head) && head_conforms(bytes, head, limits_);
  scan_.reset();
  if (ok) return ParseStatus::kComplete;
  // The back end refused (or let through something the policy forbids): the strict reading
  // decides, so both back ends answer alike. It also accepts heads llhttp stops on for framing
  // reasons (e.g. "Content-Length: 5, 5"), which the shared framing code judges.
  head = RequestHead{};
  if (parse_head_strict(bytes, headers_.data(), headers_.size() - 1, head, error))
    return ParseStatus::kComplete;
  head = RequestHead{};
  return ParseStatus::kError;
}

}  // namespace ruvicorn::http1
