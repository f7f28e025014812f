// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), usable
// incrementally so a text message split across WebSocket frames is checked as it arrives.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ruvicorn {

class Utf8Validator {
 public:
  // Checks the next piece. Returns false at the first byte that cannot be part of valid UTF-8;
  // after that the validator stays failed until reset(). A sequence may be cut between pieces.
  bool feed(const std::uint8_t* p, std::size_t n);
  bool feed(std::string_view s) {
    return feed(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  // Everything fed so far is valid and no multi-byte sequence is left unfinished.
  bool complete() const { return need_ == 0 && !failed_; }
  bool failed() const { return failed_; }
  void reset() { need_ = 0; lo_ = 0x80; hi_ = 0xBF; failed_ = false; }

 private:
  std::uint8_t need_ = 0;  // continuation bytes still expected
  std::uint8_t lo_ = 0x80; // allowed range of the next continuation byte (narrowed after E0, ED,
  std::uint8_t hi_ = 0xBF; // F0 and F4 to exclude overlongs, surrogates and > U+10FFFF)
  bool failed_ = false;
};

// Whole-string check.
bool utf8_valid(std::string_view s);

}  // namespace ruvicorn
