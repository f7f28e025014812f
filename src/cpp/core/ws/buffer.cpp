#include <algorithm>
#include <cstring>

#include "ruvicorn/ws_frame.hpp"

namespace ruvicorn {

std::uint8_t* WsBuffer::prepare(std::size_t n) {
  if (cap_ - size_ < n) {
    // Doubling keeps appends amortised O(1); storage is kept for the next message.
    const std::size_t want = std::max({size_ + n, cap_ * 2, std::size_t(256)});
    auto fresh = std::make_unique<std::uint8_t[]>(want);
    if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_);
    data_ = std::move(fresh);
    cap_ = want;
  }
  return data_.get() + size_;
}

void WsBuffer::release() {
  data_.reset();
  size_ = 0;
  cap_ = 0;
}

}  // namespace ruvicorn
