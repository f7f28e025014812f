#include "http3/frame_reader.hpp"

#include <algorithm>
#include <cstring>

namespace ruvicorn::http3 {

namespace {

// How many more bytes a frame header needs, given its first `n` bytes (0: it is complete).
std::size_t header_bytes_missing(const char* p, std::size_t n) {
  if (n == 0) return 1;
  const std::size_t type = varint_size_from_first(static_cast<unsigned char>(p[0]));
  if (n < type) return type - n;
  if (n == type) return 1;
  const std::size_t length = varint_size_from_first(static_cast<unsigned char>(p[type]));
  return n < type + length ? type + length - n : 0;
}

}  // namespace

FrameReader::Step FrameReader::next(std::string_view& data, std::string_view& chunk) {
  if (in_payload_) {
    if (remaining_ == 0) {
      in_payload_ = false;
      return Step::kFrameEnd;
    }
    if (data.empty()) return Step::kNeedMore;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
    chunk = data.substr(0, n);
    data.remove_prefix(n);
    remaining_ -= n;
    return Step::kPayload;
  }
  if (partial_size_ == 0 && read_frame_header(data, header_)) {
    data.remove_prefix(header_.size);  // the usual case: the whole header in this read
  } else {
    while (true) {
      const std::size_t missing = header_bytes_missing(partial_, partial_size_);
      if (missing == 0) break;
      if (data.empty()) return Step::kNeedMore;
      const std::size_t n = std::min(missing, data.size());
      std::memcpy(partial_ + partial_size_, data.data(), n);
      partial_size_ += n;
      data.remove_prefix(n);
    }
    read_frame_header(std::string_view(partial_, partial_size_), header_);
    partial_size_ = 0;
  }
  remaining_ = header_.length;
  in_payload_ = true;
  return Step::kFrameStart;
}

}  // namespace ruvicorn::http3
