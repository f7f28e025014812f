// HPACK (RFC 7541): the header compression of HTTP/2. A Decoder turns one complete header block
// into fields; an Encoder turns response fields into a block. Each connection has one of each
// (their dynamic tables are per direction). No sockets, no frames: bytes in, fields or bytes out.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/header.hpp"

namespace ruvicorn::hpack {

// Every decoding error is a connection error COMPRESSION_ERROR (RFC 9113 4.3); `reason` is static
// text for the GOAWAY debug data and logs.
struct DecodeError {
  std::string_view reason;  // empty: no error
  constexpr explicit operator bool() const { return !reason.empty(); }
};

// RFC 7541 4.1: an entry's size is name + value + 32; the same measure bounds a header list
// (SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113 6.5.2).
constexpr std::size_t kEntryOverhead = 32;

// The dynamic table (RFC 7541 2.3.2): newest entry first, evicted from the oldest end. Entries are
// stored in one contiguous ring of bytes, so the table never allocates per entry.
class DynamicTable {
 public:
  explicit DynamicTable(std::size_t max_size);
  // Number of entries and their RFC 7541 4.1 size.
  std::size_t count() const { return entries_.size(); }
  std::size_t size() const { return size_; }
  std::size_t max_size() const { return max_size_; }
  // Entry i (0 = newest). The views stay valid until the next add() or set_max_size().
  Header at(std::size_t i) const;
  // Inserts at the front, evicting as needed; an entry larger than max_size empties the table
  // (RFC 7541 4.4).
  void add(std::string_view name, std::string_view value);
  void set_max_size(std::size_t max_size);  // evicts as needed (RFC 7541 4.3)

 private:
  struct Entry {
    std::size_t offset;  // into ring_ (may wrap)
    std::uint32_t name_len, value_len;
  };
  void evict_one();
  std::string_view view(std::size_t offset, std::size_t len) const;

  std::size_t max_size_;
  std::size_t size_ = 0;
  std::deque<Entry> entries_;   // front: newest
  std::string ring_;            // capacity max_size_ bytes (names and values without overhead)
  std::size_t head_ = 0;        // where the next entry's bytes go
  mutable std::string scratch_; // an entry that wraps around the ring is copied here to be read
};

class Decoder {
 public:
  // `table_limit`: our SETTINGS_HEADER_TABLE_SIZE (the most a size update may ask for).
  // `max_list_size`: our SETTINGS_MAX_HEADER_LIST_SIZE, counted as RFC 7541 4.1 does.
  Decoder(std::size_t table_limit, std::size_t max_list_size);

  // Decodes one complete header block (the concatenated HEADERS/CONTINUATION fragments) into
  // `fields` (cleared first), in order. Names and values are views into `block` (literals sent
  // without Huffman coding), into static storage (static table), or into this decoder's arena
  // (Huffman-decoded strings and dynamic-table entries, copied once); all stay valid until the
  // next decode(). When the decoded list would exceed max_list_size the block is still decoded
  // to its end, so the dynamic table stays in step with the peer's, but no further field is kept
  // or copied and `oversize` is set: the cost of a block is bounded by the limit, not by what it
  // expands to (HPACK bombs).
  DecodeError decode(std::string_view block, std::vector<Header>& fields, bool& oversize);

  const DynamicTable& table() const { return table_; }

 private:
  DynamicTable table_;
  std::size_t table_limit_;
  std::size_t max_list_size_;
  std::string arena_;  // reserved once at max_list_size_: never reallocates, so views stay valid
};

class Encoder {
 public:
  explicit Encoder(std::size_t table_size = 4096);

  // The peer's SETTINGS_HEADER_TABLE_SIZE: our table shrinks to it and the next block starts with
  // a dynamic table size update (RFC 7541 4.2, 6.3).
  void set_peer_table_size(std::size_t size);

  // One block: begin(), then status (responses) and fields in order, then the bytes in `out`.
  // Names must already be valid lower-case tokens (the caller validates). Fields that repeat
  // across responses on a connection (content-type, server, ...) are indexed so that the next
  // response refers to them in a byte or two; fields that should never be indexed
  // (set-cookie, authorization, cookie) are sent as never-indexed literals. Strings are
  // Huffman-coded when that is shorter.
  void begin(std::string& out);
  void status(int code, std::string& out);  // ":status"
  void field(std::string_view name, std::string_view value, std::string& out);

  const DynamicTable& table() const { return table_; }

 private:
  DynamicTable table_;
  std::size_t pending_update_ = SIZE_MAX;  // SIZE_MAX: no size update owed
  std::size_t min_update_ = SIZE_MAX;      // smallest size since the last block (RFC 7541 4.2)
};

// Huffman coding (RFC 7541 5.2, Appendix B). decode: false on an invalid code, EOS, or padding
// longer than 7 bits or not all ones. Both append to `out`.
bool huffman_decode(std::string_view in, std::string& out);
std::size_t huffman_encoded_size(std::string_view in);
void huffman_encode(std::string_view in, std::string& out);

}  // namespace ruvicorn::hpack
