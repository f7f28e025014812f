// Integers with an N-bit prefix (RFC 7541 5.1), shared by the HPACK decoder and encoder (and by
// QPACK later, which uses the same representation).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ruvicorn::hpack {

enum class IntStatus { kOk, kTruncated, kOverflow };

// The largest integer a header block may carry: lengths, indices and table sizes all fit in
// 32 bits, and five continuation bytes already hold 35 bits (more is padding with zeros or an
// attack).
inline constexpr std::uint64_t kMaxInt = 0xffffffffu;
inline constexpr int kMaxContinuationBytes = 5;

// Reads the integer whose prefix is the low `prefix_bits` of *p, advancing p past it.
inline IntStatus decode_int(const unsigned char*& p, const unsigned char* end, unsigned prefix_bits,
                            std::uint64_t& value) {
  const unsigned max_prefix = (1u << prefix_bits) - 1;
  value = *p++ & max_prefix;
  if (value < max_prefix) return IntStatus::kOk;
  for (int i = 0; i < kMaxContinuationBytes; ++i) {
    if (p == end) return IntStatus::kTruncated;
    const unsigned char b = *p++;
    value += std::uint64_t(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return value <= kMaxInt ? IntStatus::kOk : IntStatus::kOverflow;
  }
  return IntStatus::kOverflow;
}

// Appends `value` with the high bits `first` (the representation's pattern) in its first byte.
inline void encode_int(std::string& out, unsigned char first, unsigned prefix_bits,
                       std::uint64_t value) {
  const unsigned max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<char>(first | value));
    return;
  }
  out.push_back(static_cast<char>(first | max_prefix));
  value -= max_prefix;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

}  // namespace ruvicorn::hpack
