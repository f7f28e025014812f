// Client-to-server masking (RFC 6455 5.3): payload[i] ^ key[i % 4], a word at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ruvicorn {

// dst[i] = src[i] ^ key[(pos + i) % 4] for i < n, where `pos` is how many payload bytes of the
// frame came before `src`. dst may equal src. Eight bytes per step with the key rotated to `pos`
// and repeated twice in a 64-bit word (byte order does not matter: the word is built in memory).
inline void ws_mask_copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                         const std::uint8_t key[4], std::size_t pos) {
  std::uint8_t k[8];
  for (int i = 0; i < 8; ++i) k[i] = key[(pos + i) & 3];
  std::uint64_t m;
  std::memcpy(&m, k, 8);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, src + i, 32);
    w[0] ^= m;
    w[1] ^= m;
    w[2] ^= m;
    w[3] ^= m;
    std::memcpy(dst + i, w, 32);
  }
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= m;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < n; ++i) dst[i] = src[i] ^ k[i & 7];
}

}  // namespace ruvicorn
