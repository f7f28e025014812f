// The IMF-fixdate for the Date header (RFC 9110 5.6.7), formatted at most once per second.
#pragma once
#include <ctime>
#include <string_view>

namespace ruvicorn {

class DateCache {
 public:
  // "Tue, 24 Nov 2026 22:34:45 GMT" for the current second.
  std::string_view now();
  // For tests: the text for a given time.
  std::string_view at(std::time_t t);

 private:
  std::time_t second_ = -1;
  char text_[32] = {};
  std::size_t len_ = 0;
};

}  // namespace ruvicorn
