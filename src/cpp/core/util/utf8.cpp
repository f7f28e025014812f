#include "ruvicorn/utf8.hpp"

#include <cstring>

namespace ruvicorn {

bool Utf8Validator::feed(const std::uint8_t* p, std::size_t n) {
  if (failed_) return false;
  const std::uint8_t* const end = p + n;
  bytes_ += n;
  while (p < end) {
    if (need_ == 0) {
      // ASCII fast path: 8 bytes at a time while no byte has its top bit set.
      while (end - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        if (w & 0x8080808080808080ull) break;
        p += 8;
      }
      while (p < end && *p < 0x80) ++p;
      if (p == end) break;
      const std::uint8_t b = *p++;
      if (b > widest_lead_) widest_lead_ = b;
      // Table 3-7 of the Unicode standard / RFC 3629 section 4.
      if (b >= 0xC2 && b <= 0xDF) {
        need_ = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        need_ = 2;
        if (b == 0xE0) lo_ = 0xA0;       // overlong
        else if (b == 0xED) hi_ = 0x9F;  // UTF-16 surrogates
      } else if (b >= 0xF0 && b <= 0xF4) {
        need_ = 3;
        if (b == 0xF0) lo_ = 0x90;       // overlong
        else if (b == 0xF4) hi_ = 0x8F;  // above U+10FFFF
      } else {
        failed_ = true;
        return false;
      }
    } else {
      const std::uint8_t b = *p++;
      if (b < lo_ || b > hi_) {
        failed_ = true;
        return false;
      }
      lo_ = 0x80;
      hi_ = 0xBF;
      --need_;
      ++continuations_;
    }
  }
  return true;
}

bool utf8_valid(std::string_view s) {
  Utf8Validator v;
  return v.feed(s) && v.complete();
}

}  // namespace ruvicorn
