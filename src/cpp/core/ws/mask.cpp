// The public entry to the word-at-a-time masking loop (ws/mask.hpp).
#include "ws/mask.hpp"

#include "ruvicorn/ws_frame.hpp"

namespace ruvicorn {

void ws_apply_mask(const std::uint8_t* data, std::size_t n, const std::uint8_t (&key)[4],
                   std::uint8_t* out) {
  ws_mask_copy(out, data, n, key, 0);
}

}  // namespace ruvicorn
