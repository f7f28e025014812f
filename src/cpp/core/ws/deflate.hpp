// zlib raw-deflate streams for permessage-deflate (RFC 7692 7.2): the sync-flush tail
// 00 00 ff ff is removed after compressing and appended by the reader before the last inflate.
#pragma once
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ruvicorn/ws_frame.hpp"

namespace ruvicorn {

class WsInflater {
 public:
  explicit WsInflater(int window_bits);
  ~WsInflater();
  WsInflater(const WsInflater&) = delete;
  WsInflater& operator=(const WsInflater&) = delete;

  bool ok() const { return ok_; }
  // Inflates `n` bytes, appending to `out`, which never grows past `limit` bytes (0: no limit).
  // Errors: 1009 when the output would pass `limit`, 1007 for data that is not valid deflate.
  WsError inflate(const std::uint8_t* p, std::size_t n, WsBuffer& out, std::size_t limit);
  void reset();  // forget the window (no context takeover)

 private:
  z_stream z_{};
  bool ok_ = false;
};

class WsDeflater {
 public:
  WsDeflater(int window_bits, int level, int mem_level);
  ~WsDeflater();
  WsDeflater(const WsDeflater&) = delete;
  WsDeflater& operator=(const WsDeflater&) = delete;

  bool ok() const { return ok_; }
  // Appends `in` compressed and sync-flushed, without the 00 00 ff ff tail, to `out`.
  bool compress(std::string_view in, WsBuffer& out);
  void reset();

 private:
  z_stream z_{};
  bool ok_ = false;
};

}  // namespace ruvicorn
