// A flow-control window (RFC 9113 6.9), the same for the connection and for each stream, in both
// directions. Signed: a SETTINGS_INITIAL_WINDOW_SIZE decrease can leave a stream's send window
// negative (6.9.2), and it then takes WINDOW_UPDATEs to make room again.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ruvicorn::http2 {

struct Window {
  static constexpr std::int64_t kMax = 0x7fffffff;  // 2^31-1 (6.9.1)

  std::int64_t value = 0;

  // A WINDOW_UPDATE increment or a SETTINGS_INITIAL_WINDOW_SIZE delta (possibly negative). False,
  // and unchanged, when the window would exceed 2^31-1: FLOW_CONTROL_ERROR on the connection or
  // the stream the window belongs to.
  bool adjust(std::int64_t delta) {
    if (value + delta > kMax) return false;
    value += delta;
    return true;
  }
  // Bytes sent or received under the window (the caller checked fits() for received bytes).
  void consume(std::size_t n) { value -= static_cast<std::int64_t>(n); }
  bool fits(std::size_t n) const { return static_cast<std::int64_t>(n) <= value; }
  // What may be sent now: never negative.
  std::size_t available() const { return value > 0 ? static_cast<std::size_t>(value) : 0; }
};

}  // namespace ruvicorn::http2
