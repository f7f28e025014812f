// QPACK (RFC 9204): the field compression of HTTP/3, as this server uses it. We announce
// SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0 and SETTINGS_QPACK_BLOCKED_STREAMS = 0, so a conforming
// client never refers to a dynamic table of ours (RFC 9204 3.2.3), and we never insert into the
// client's: our sections use the static table and literals only. Streams are never blocked and no
// state is shared between sections. Decoding still rejects whatever a client may send that this
// allows it not to: dynamic references, inserts, acknowledgments of sections that needed none.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/header.hpp"
#include "ruvicorn/huffman.hpp"  // the Huffman code, shared with HPACK

namespace ruvicorn::qpack {

// Error codes (RFC 9204 6); every one is a connection error.
enum class ErrorCode : std::uint64_t {
  kDecompressionFailed = 0x200,
  kEncoderStreamError = 0x201,
  kDecoderStreamError = 0x202,
};

struct DecodeError {
  ErrorCode code = ErrorCode::kDecompressionFailed;
  std::string_view reason;  // static text; empty: no error
  constexpr explicit operator bool() const { return !reason.empty(); }
};

// RFC 9114 4.2.2 counts a field section as RFC 7541 4.1 does: name + value + 32 per field.
constexpr std::size_t kFieldOverhead = 32;

class Decoder {
 public:
  // `max_section_size`: our SETTINGS_MAX_FIELD_SECTION_SIZE.
  explicit Decoder(std::size_t max_section_size);

  // Decodes one encoded field section (a HEADERS frame payload) into `fields` (cleared first), in
  // order. Names and values are views into `section` (raw literals), into static storage, or
  // into this decoder's arena (Huffman-decoded literals); all valid until the next decode().
  // When the fields would exceed max_section_size, decoding stops there and `oversize` is set:
  // the section's cost is bounded by the limit (and by its own length), never by what it says.
  DecodeError decode(std::string_view section, std::vector<Header>& fields, bool& oversize);

 private:
  friend class SectionReader;  // qpack/decoder.cpp
  std::size_t max_section_size_;
  std::unique_ptr<char[]> arena_;  // Huffman-decoded strings of the current section
  std::size_t arena_size_ = 0;
  std::size_t arena_used_ = 0;
};

// The client's encoder stream (RFC 9204 4.3), after its stream type. With our capacity at 0, the
// only valid instruction is Set Dynamic Table Capacity to 0; an insert is an encoder stream error.
// Its first byte decides (any capacity above 0 is an error), so nothing is ever kept.
class EncoderStreamReader {
 public:
  DecodeError feed(std::string_view data);
};

// The client's decoder stream (RFC 9204 4.4), about our encoder. Stream Cancellation is accepted;
// a Section Acknowledgment or an Insert Count Increment is a decoder stream error, since no
// section of ours ever referred to the dynamic table. An instruction split across reads is kept
// (a few bytes).
class DecoderStreamReader {
 public:
  DecodeError feed(std::string_view data);

 private:
  std::string partial_;
};

// The encoder: stateless. A section is begin(), then ":status" (responses) and fields in order,
// appended to `out`. Names must already be valid lower-case tokens (the caller validates).
// Fields of the static table are referred to by index, names by name reference; the rest are
// literals, Huffman-coded when shorter. Secrets (set-cookie, cookie, authorization,
// proxy-authorization) carry the 'N' bit: intermediaries must not index them (RFC 9204 7.1.3).
class Encoder {
 public:
  static void begin(std::string& out);  // the prefix: Required Insert Count 0, Base 0
  static void status(int code, std::string& out);
  static void field(std::string_view name, std::string_view value, std::string& out);
};

}  // namespace ruvicorn::qpack
