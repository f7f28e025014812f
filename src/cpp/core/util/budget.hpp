// A token bucket over the `now` the owner passes to feed(): `burst` tokens, refilled at `rate` per
// second. The abuse budgets of HTTP/2 and HTTP/3 (Rapid Reset, glitches, control frames) are each
// one of these.
#pragma once
#include <cstdint>

namespace ruvicorn {

class Budget {
 public:
  Budget(std::uint32_t burst, std::uint32_t rate)
      : tokens_(static_cast<double>(burst)), burst_(burst), rate_(rate) {}

  // Takes one token; false when the bucket is empty (the caller ends the connection).
  bool take(double now) {
    if (last_ < 0) {
      last_ = now;  // the first take() sets the clock
    } else if (now > last_) {
      tokens_ += (now - last_) * rate_;
      if (tokens_ > burst_) tokens_ = burst_;
      last_ = now;
    }
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  // 24 bytes: a connection keeps three of these.
  double tokens_;
  double last_ = -1;  // negative: no take() yet (`now` is a monotonic clock, never negative)
  std::uint32_t burst_;
  std::uint32_t rate_;
};

}  // namespace ruvicorn
