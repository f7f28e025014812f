#include "ws/deflate.hpp"

#include <algorithm>
#include <climits>

namespace ruvicorn {

namespace {
// zlib counts in uInt: feed and drain at most this much per call.
constexpr std::size_t kMaxStep = std::size_t(1) << 30;
}  // namespace

WsInflater::WsInflater(int window_bits) {
  // Negative bits: raw deflate without zlib header (RFC 7692 7.2.2).
  ok_ = inflateInit2(&z_, -std::clamp(window_bits, 8, 15)) == Z_OK;
}

WsInflater::~WsInflater() {
  if (ok_) inflateEnd(&z_);
}

void WsInflater::reset() {
  if (ok_) inflateReset(&z_);
}

WsError WsInflater::inflate(const std::uint8_t* p, std::size_t n, WsBuffer& out,
                            std::size_t limit) {
  if (!ok_) return {WsClose::kInternalError, "inflate unavailable"};
  while (true) {
    const std::size_t step_in = std::min(n, kMaxStep);
    z_.next_in = const_cast<Bytef*>(p);
    z_.avail_in = static_cast<uInt>(step_in);
    // Output room: generous for the input at hand, but never more than one byte past the
    // limit, so a "deflate bomb" stops after at most limit + 1 bytes of output.
    std::size_t room = std::max<std::size_t>(4096, step_in * 4);
    room = std::min(room, kMaxStep);
    if (limit != 0) room = std::min(room, limit + 1 - out.size());
    std::uint8_t* dst = out.prepare(room);
    z_.next_out = dst;
    z_.avail_out = static_cast<uInt>(room);
    const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
    out.commit(room - z_.avail_out);
    const std::size_t used = step_in - z_.avail_in;
    p += used;
    n -= used;
    if (limit != 0 && out.size() > limit) return {WsClose::kMessageTooBig, "message too big"};
    if (rc == Z_STREAM_END) {
      // A final block (BFINAL) ended the stream; anything after it starts a new one.
      inflateReset(&z_);
      if (n == 0) return {};
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      if (z_.avail_out == 0) continue;  // output full: more room, then go on
      if (n == 0) return {};            // nothing left to do
      return {WsClose::kInvalidData, "invalid compressed data"};
    }
    if (rc == Z_MEM_ERROR) return {WsClose::kInternalError, "out of memory"};
    if (rc != Z_OK) return {WsClose::kInvalidData, "invalid compressed data"};
    if (n == 0 && z_.avail_out != 0) return {};  // input consumed, output flushed
    // zlib promises progress on Z_OK; never spin if it made none.
    if (used == 0 && z_.avail_out == room) {
      return {WsClose::kInvalidData, "invalid compressed data"};
    }
  }
}

WsDeflater::WsDeflater(int window_bits, int level, int mem_level) {
  ok_ = deflateInit2(&z_, std::clamp(level, -1, 9), Z_DEFLATED, -std::clamp(window_bits, 8, 15),
                     std::clamp(mem_level, 1, 9), Z_DEFAULT_STRATEGY) == Z_OK;
}

WsDeflater::~WsDeflater() {
  if (ok_) deflateEnd(&z_);
}

void WsDeflater::reset() {
  if (ok_) deflateReset(&z_);
}

bool WsDeflater::compress(std::string_view in, WsBuffer& out) {
  if (!ok_) return false;
  if (in.empty()) {
    // RFC 7692 7.2.3.6: an empty stored block; zlib would emit nothing for a repeated flush.
    *out.prepare(1) = 0x00;
    out.commit(1);
    return true;
  }
  auto p = reinterpret_cast<const Bytef*>(in.data());
  std::size_t n = in.size();
  while (true) {
    const std::size_t step_in = std::min(n, kMaxStep);
    z_.next_in = const_cast<Bytef*>(p);
    z_.avail_in = static_cast<uInt>(step_in);
    const bool last = step_in == n;
    const std::size_t room = std::min(step_in + step_in / 8 + 64, kMaxStep);
    std::uint8_t* dst = out.prepare(room);
    z_.next_out = dst;
    z_.avail_out = static_cast<uInt>(room);
    const int rc = ::deflate(&z_, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    out.commit(room - z_.avail_out);
    const std::size_t used = step_in - z_.avail_in;
    p += used;
    n -= used;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    if (rc == Z_BUF_ERROR && used == 0 && z_.avail_out == room) return false;  // no progress
    // With a flush, free output space left over means zlib has written everything.
    if (last && n == 0 && z_.avail_out != 0) break;
  }
  // RFC 7692 7.2.1: drop the empty stored block's LEN/NLEN that the sync flush ends with.
  const std::size_t size = out.size();
  if (size < 4) return false;
  const std::uint8_t* tail = out.data() + size - 4;
  if (tail[0] != 0 || tail[1] != 0 || tail[2] != 0xff || tail[3] != 0xff) return false;
  out.truncate(size - 4);
  return true;
}

}  // namespace ruvicorn
