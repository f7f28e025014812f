// Takes one stream's frames apart as its bytes arrive (RFC 9114 7.1): a frame header is taken
// whole (from the read, or from a few bytes kept across reads), then its payload is handed out
// piece by piece as it comes. The caller decides per frame whether to keep, forward or skip the
// payload, so nothing here buffers more than a frame header.
#pragma once
#include <cstddef>
#include <string_view>

#include "http3/frame.hpp"

namespace ruvicorn::http3 {

class FrameReader {
 public:
  enum class Step {
    kNeedMore,    // `data` is used up
    kFrameStart,  // header() is a new frame's; its payload follows
    kPayload,     // `chunk` is the next piece of the current frame's payload
    kFrameEnd,    // the current frame's payload is complete
  };

  Step next(std::string_view& data, std::string_view& chunk);
  const FrameHeader& header() const { return header_; }
  // A frame's header or payload is incomplete: a stream that ends here truncated a frame.
  bool mid_frame() const { return partial_size_ != 0 || in_payload_; }

 private:
  FrameHeader header_;
  std::uint64_t remaining_ = 0;  // payload bytes of the current frame still to come
  bool in_payload_ = false;
  char partial_[2 * kMaxVarintSize];  // a frame header split across reads
  std::size_t partial_size_ = 0;
};

}  // namespace ruvicorn::http3
