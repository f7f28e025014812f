// Connection's chunked body decoding (RFC 9112 7.1): our own byte-level state machine, resumable
// at any byte. Chunk sizes are bounded (16 hex digits, below 2^63), extensions and trailers are
// bounded and ignored, CRLF is required everywhere.
#include <algorithm>

#include "ruvicorn/connection.hpp"

namespace ruvicorn::http1 {

namespace {

enum Phase : int {
  kSize = 0,   // hex digits of the chunk size
  kExt,        // chunk extensions up to CR
  kSizeLF,     // LF after the size line
  kData,       // chunk data
  kDataCR,     // CR after the data
  kDataLF,     // LF after the data
  kTrailer,    // inside a trailer line (or at the start of one when chunk_line_ == 0)
  kTrailerLF,  // LF ending a trailer line
  kEndLF,      // LF of the blank line that ends the message
};

constexpr int kMaxSizeDigits = 16;
constexpr std::uint64_t kMaxChunk = std::uint64_t{1} << 63;

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<unsigned char>(c | 0x20);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

HttpError bad(std::string_view why) { return HttpError{400, why, true}; }

}  // namespace

bool Connection::step_chunked(ConnectionHandler& handler) {
  const std::size_t line_limit =
      limits_.max_header_field_size ? limits_.max_header_field_size : limits_.max_head_size;
  while (input_pos_ < input_.size()) {
    const unsigned char c = static_cast<unsigned char>(input_[input_pos_]);
    switch (chunk_state_) {
      case kSize: {
        int v = hex_value(c);
        if (v >= 0) {
          if (chunk_line_ == kMaxSizeDigits || remaining_ >= (kMaxChunk >> 4)) {
            fail(bad("chunk size too large"), handler);
            return false;
          }
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(v);
          ++chunk_line_;
          ++input_pos_;
          break;
        }
        if (chunk_line_ == 0 || (c != ';' && c != '\r')) {
          fail(bad("invalid chunk size"), handler);
          return false;
        }
        chunk_state_ = c == ';' ? kExt : kSizeLF;
        ++input_pos_;
        break;
      }
      case kExt:
        if (c == '\r') {
          chunk_state_ = kSizeLF;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          fail(bad("invalid character in chunk extension"), handler);
          return false;
        } else if (++chunk_line_ > line_limit) {
          fail(bad("chunk extension too long"), handler);
          return false;
        }
        ++input_pos_;
        break;
      case kSizeLF:
        if (c != '\n') {
          fail(bad("missing LF after chunk size"), handler);
          return false;
        }
        ++input_pos_;
        chunk_line_ = 0;
        if (remaining_ == 0) {
          chunk_state_ = kTrailer;
          break;
        }
        if (limits_.max_body_size != 0 && remaining_ > limits_.max_body_size - body_seen_) {
          fail(HttpError{413, "request body too large", true}, handler);
          return false;
        }
        chunk_state_ = kData;
        break;
      case kData: {
        std::size_t n = static_cast<std::size_t>(
            std::min<std::uint64_t>(remaining_, input_.size() - input_pos_));
        std::string_view chunk = input_.substr(input_pos_, n);
        input_pos_ += n;
        remaining_ -= n;
        body_seen_ += n;
        if (remaining_ == 0) chunk_state_ = kDataCR;
        body_piece(chunk, handler);
        return true;  // let run() look at the state the handler left
      }
      case kDataCR:
      case kDataLF:
        if (c != (chunk_state_ == kDataCR ? '\r' : '\n')) {
          fail(bad("missing CRLF after chunk data"), handler);
          return false;
        }
        chunk_state_ = chunk_state_ == kDataCR ? kDataLF : kSize;
        ++input_pos_;
        break;
      case kTrailer:
        // Trailer fields are read to find the end of the message, bounded, and dropped.
        if (c == '\r') {
          chunk_state_ = chunk_line_ == 0 ? kEndLF : kTrailerLF;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          fail(bad("invalid character in trailer section"), handler);
          return false;
        } else {
          ++chunk_line_;
          if (++trailer_bytes_ > limits_.max_head_size) {
            fail(HttpError{431, "trailer section too large", true}, handler);
            return false;
          }
        }
        ++input_pos_;
        break;
      case kTrailerLF:
      case kEndLF:
        if (c != '\n') {
          fail(bad("bare CR in chunked framing"), handler);
          return false;
        }
        ++input_pos_;
        if (chunk_state_ == kEndLF) {
          finish_body(handler);
          return true;
        }
        chunk_line_ = 0;
        chunk_state_ = kTrailer;
        break;
      default:
        fail(bad("invalid chunked framing"), handler);
        return false;
    }
  }
  return false;
}

}  // namespace ruvicorn::http1
