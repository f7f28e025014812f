#include "ruvicorn/date_cache.hpp"

#include <cstdio>

namespace ruvicorn {

namespace {
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

std::string_view DateCache::now() { return at(std::time(nullptr)); }

std::string_view DateCache::at(std::time_t t) {
  if (t != second_) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    int n = std::snprintf(text_, sizeof text_, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                          kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900,
                          tm.tm_hour, tm.tm_min, tm.tm_sec);
    len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    second_ = t;
  }
  return {text_, len_};
}

}  // namespace ruvicorn
