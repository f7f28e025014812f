// String literals (RFC 7541 5.2): a length with an N-bit prefix and a Huffman flag, then the bytes.
// HPACK's have a 7-bit prefix; QPACK (RFC 9204 4.1.2) uses the same form with other prefixes.
#pragma once
#include <string>
#include <string_view>

#include "hpack/integer.hpp"
#include "ruvicorn/huffman.hpp"

namespace ruvicorn::hpack {

// Appends `s` with `first` as the representation's high bits, Huffman-coded (with `huffman_flag`
// set) when that is shorter.
inline void encode_string(std::string& out, unsigned char first, unsigned char huffman_flag,
                          unsigned prefix_bits, std::string_view s) {
  const std::size_t coded = huffman_encoded_size(s);
  if (coded < s.size()) {
    encode_int(out, first | huffman_flag, prefix_bits, coded);
    huffman_encode(s, out);
  } else {
    encode_int(out, first, prefix_bits, s.size());
    out.append(s);
  }
}

}  // namespace ruvicorn::hpack
