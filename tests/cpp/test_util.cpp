#include "check.hpp"
#include "ruvicorn/date_cache.hpp"
#include "ruvicorn/error.hpp"

using namespace ruvicorn;

TEST(date_is_imf_fixdate) {
  DateCache cache;
  CHECK_EQ(cache.at(0), std::string_view("Thu, 01 Jan 1970 00:00:00 GMT"));
  CHECK_EQ(cache.at(1795991685), std::string_view("Sun, 29 Nov 2026 22:34:45 GMT"));
}

TEST(date_now_has_fixed_length) { DateCache cache; CHECK_EQ(cache.now().size(), 29u); }

TEST(status_reasons) {
  CHECK_EQ(status_reason(200), std::string_view("OK"));
  CHECK_EQ(status_reason(431), std::string_view("Request Header Fields Too Large"));
  CHECK_EQ(status_reason(799), std::string_view("Unknown"));
}

CHECK_MAIN()
