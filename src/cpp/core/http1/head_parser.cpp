#include "http1/head_parser.hpp"

#include <algorithm>

namespace ruvicorn::http1 {

BasicHeadParser::BasicHeadParser(const Limits& limits) : limits_(limits), scan_(limits_) {}

std::size_t grown_slots(std::size_t have, std::size_t count, std::size_t most) {
  std::size_t size = std::max(have, kFirstHeaderSlots);
  while (size < count) size *= 2;
  return std::min(size, most);
}

Header* BasicHeadParser::header_slots(std::size_t count) {
  if (headers_.size() < count)
    headers_.resize(grown_slots(headers_.size(), count, limits_.max_header_count + 1));
  return headers_.data();
}

ParseStatus BasicHeadParser::parse(std::string_view data, RequestHead& head, HttpError& error) {
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
  bool ok = parse_complete(bytes, head) && head_conforms(bytes, head, limits_);
  scan_.reset();
  if (ok) return ParseStatus::kComplete;
  // The back end refused (or let through something the policy forbids): the strict reading
  // decides, so both back ends answer alike. It also accepts heads llhttp stops on for framing
  // reasons (e.g. "Content-Length: 5, 5"), which the shared framing code judges.
  head = RequestHead{};
  if (parse_head_strict(bytes, header_slots(limits_.max_header_count + 1),
                        limits_.max_header_count, head, error))
    return ParseStatus::kComplete;
  head = RequestHead{};
  return ParseStatus::kError;
}

}  // namespace ruvicorn::http1
