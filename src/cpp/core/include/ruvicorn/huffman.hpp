// The Huffman code of HPACK (RFC 7541 5.2, Appendix B), also used by QPACK (RFC 9204 4.1.2).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace ruvicorn::hpack {

// Returned by the bounded decoder for an invalid string.
inline constexpr std::size_t kHuffmanInvalid = static_cast<std::size_t>(-1);

// The longest possible decoding of n coded bytes (the shortest code has 5 bits).
constexpr std::size_t huffman_max_decoded_size(std::size_t n) { return n * 8 / 5; }

// Decodes `in`, writing at most `cap` bytes to `out` and validating the rest without writing
// it. Returns the whole decoded length (which exceeds `cap` when the output was cut short), or
// kHuffmanInvalid when `in` contains EOS, or ends with padding longer than 7 bits or not all
// ones. cap 0 only validates and measures: the caller decides where (and whether) to keep a
// string from its length, without decoding into an unbounded buffer.
std::size_t huffman_decode(std::string_view in, char* out, std::size_t cap);

// Appends the decoding of `in` to `out`; false (and `out` unchanged) on an invalid string.
bool huffman_decode(std::string_view in, std::string& out);

std::size_t huffman_encoded_size(std::string_view in);
// Writes exactly huffman_encoded_size(in) bytes at `out` (padding with the EOS prefix); returns
// the end.
char* huffman_encode(std::string_view in, char* out);
// Appends the encoding of `in` to `out`.
void huffman_encode(std::string_view in, std::string& out);

}  // namespace ruvicorn::hpack
