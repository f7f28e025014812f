// Huffman coding (RFC 7541 5.2). Decoding reads up to 63 bits ahead in one register; one table
// lookup on the next 12 bits yields one or two symbols (codes of at most 12 bits: nearly all of
// header text), and a longer code is found by a short search over the lengths, using that the code
// is canonical (gen_huffman.py).
#include <cstdint>
#include <cstring>

#include "hpack/huffman_table.hpp"
#include "ruvicorn/huffman.hpp"

namespace ruvicorn::hpack {

namespace {

namespace t = huffman_table;

inline std::uint64_t load_be64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

// kBounded: write only the first `cap` symbols (the caller's buffer may be short).
template <bool kBounded>
std::size_t decode(const unsigned char* p, const unsigned char* end, char* out, std::size_t cap) {
  std::uint64_t bits = 0;  // the next `count` input bits, left-justified
  unsigned count = 0;
  std::size_t n = 0;
  for (;;) {
    if (count < 30) {  // a code has at most 30 bits
      if (end - p >= 8) {
        // Bits past the whole bytes counted here are real input too; the next refill ORs the
        // same bits again.
        bits |= load_be64(p) >> count;
        const unsigned take = (63 - count) >> 3;
        p += take;
        count += take * 8;
      } else {
        while (count < 56 && p < end) {  // count stays below 64: see `window`
          bits |= std::uint64_t(*p++) << (56 - count);
          count += 8;
        }
      }
    }
    // Past the input, read ones: a valid padding then looks like the start of EOS, a code too
    // long for the bits left, which ends the loop.
    const std::uint64_t window = bits | (~std::uint64_t(0) >> count);
    const std::uint32_t fast = t::kFast[window >> (64 - t::kFastBits)];
    const unsigned both = (fast >> 21) & 31;
    if ((fast >> 26) == 2 && both <= count && (!kBounded || n + 2 <= cap)) {
      out[n] = static_cast<char>(fast);
      out[n + 1] = static_cast<char>(fast >> 8);
      n += 2;
      bits <<= both;
      count -= both;
      continue;
    }
    unsigned length;
    unsigned symbol;
    if ((fast >> 26) != 0) {
      length = (fast >> 16) & 31;
      symbol = fast & 0xff;
    } else {
      const std::uint64_t w = window >> 32;
      length = t::kFastBits + 1;
      while (w >= t::kLimit[length]) ++length;
      symbol = t::kSymbol[t::kBase[length] + static_cast<std::int64_t>(w >> (32 - length))];
    }
    if (length > count) break;         // only at the end of the input (count >= 30 otherwise)
    if (symbol == 256) return kHuffmanInvalid;  // EOS inside the string (RFC 7541 5.2)
    if (!kBounded || n < cap) out[n] = static_cast<char>(symbol);
    ++n;
    bits <<= length;
    count -= length;
  }
  // Padding: at most 7 bits, all ones (the most significant bits of EOS).
  if (count > 7 || (bits | (~std::uint64_t(0) >> count)) != ~std::uint64_t(0)) {
    return kHuffmanInvalid;
  }
  return n;
}

}  // namespace

std::size_t huffman_decode(std::string_view in, char* out, std::size_t cap) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  if (cap >= huffman_max_decoded_size(in.size())) return decode<false>(p, p + in.size(), out, cap);
  return decode<true>(p, p + in.size(), out, cap);
}

bool huffman_decode(std::string_view in, std::string& out) {
  const std::size_t old = out.size();
  const std::size_t most = huffman_max_decoded_size(in.size());
  out.resize(old + most);
  const std::size_t n = huffman_decode(in, out.data() + old, most);
  if (n == kHuffmanInvalid) {
    out.resize(old);
    return false;
  }
  out.resize(old + n);
  return true;
}

std::size_t huffman_encoded_size(std::string_view in) {
  std::size_t bits = 0;
  for (unsigned char c : in) bits += t::kLength[c];
  return (bits + 7) / 8;
}

char* huffman_encode(std::string_view in, char* out) {
  std::uint64_t bits = 0;  // the low `count` bits are pending output
  unsigned count = 0;
  for (unsigned char c : in) {
    bits = (bits << t::kLength[c]) | t::kCode[c];
    count += t::kLength[c];
    while (count >= 8) {
      count -= 8;
      *out++ = static_cast<char>(bits >> count);
    }
  }
  if (count > 0) *out++ = static_cast<char>((bits << (8 - count)) | (0xffu >> count));
  return out;
}

void huffman_encode(std::string_view in, std::string& out) {
  const std::size_t old = out.size();
  out.resize(old + huffman_encoded_size(in));
  huffman_encode(in, out.data() + old);
}

}  // namespace ruvicorn::hpack
