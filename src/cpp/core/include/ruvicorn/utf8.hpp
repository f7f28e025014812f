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
  void reset() { *this = Utf8Validator(); }

  // What the check learned on the way, so that a caller can build its own string from the
  // bytes without decoding them again (valid once complete()):
  bool ascii() const { return widest_lead_ == 0; }
  // How many code points were fed.
  std::size_t code_points() const { return bytes_ - continuations_; }
  // The narrowest fixed width that holds every code point: 1 (up to U+00FF), 2 (up to U+FFFF,
  // no surrogates: RFC 3629) or 4 bytes. Exact: a code point of that range was fed.
  int width() const { return widest_lead_ < 0xC4 ? 1 : widest_lead_ < 0xF0 ? 2 : 4; }

 private:
  std::uint8_t need_ = 0;  // continuation bytes still expected
  std::uint8_t lo_ = 0x80; // allowed range of the next continuation byte (narrowed after E0, ED,
  std::uint8_t hi_ = 0xBF; // F0 and F4 to exclude overlongs, surrogates and > U+10FFFF)
  bool failed_ = false;
  std::uint8_t widest_lead_ = 0;   // the largest lead byte of a multi-byte sequence, 0: none
  std::size_t bytes_ = 0;
  std::size_t continuations_ = 0;
};

// Whole-string check.
bool utf8_valid(std::string_view s);

}  // namespace ruvicorn
