// HPACK (RFC 7541): the header compression of HTTP/2. A Decoder turns one complete header block
// into fields; an Encoder turns response fields into a block. Each connection has one of each
// (their dynamic tables are per direction). No sockets, no frames: bytes in, fields or bytes out.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/header.hpp"
#include "ruvicorn/huffman.hpp"  // the Huffman code, shared with QPACK

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

// The dynamic table (RFC 7541 2.3.2): newest entry first, evicted from the oldest end. The
// entries' bytes lie end to end, oldest first, in one buffer that is compacted when its end is
// reached (amortised O(1) per byte), so the table never allocates per entry and every entry is
// contiguous. Memory follows use, not max_size: the buffer and the entry ring start empty and
// grow (by doubling) to 1.5 to 3 times the bytes actually held, at most 1.25 x max_size (more only
// while a new entry's name refers to a large entry it evicts); a table whose peer indexes a few
// hundred bytes costs about that much.
class DynamicTable {
 public:
  explicit DynamicTable(std::size_t max_size);
  // Number of entries and their RFC 7541 4.1 size.
  std::size_t count() const { return count_; }
  std::size_t size() const { return size_; }
  std::size_t max_size() const { return max_size_; }
  // Heap bytes held (entry bytes and ring), for memory accounting.
  std::size_t capacity() const { return capacity_ + entries_.capacity() * sizeof(Entry); }
  // Entry i (0 = newest, i < count()). The views stay valid until the next add(),
  // set_max_size() or clear().
  Header at(std::size_t i) const;
  // Inserts at the front, evicting as needed; an entry larger than max_size empties the table
  // (RFC 7541 4.4). `name` and `value` may be views of an entry of this table (a literal whose
  // name is a dynamic-table reference), even one this insertion evicts.
  void add(std::string_view name, std::string_view value);
  void set_max_size(std::size_t max_size);  // evicts as needed (RFC 7541 4.3)
  void clear();                             // evicts every entry

 private:
  struct Entry {
    std::uint32_t offset;  // into bytes_
    std::uint32_t name_len, value_len;
  };
  void evict_one();
  void evict_for(std::size_t len);  // room in size_ for an entry of len bytes (+ overhead)
  // Moves the live bytes to the front of a buffer of `capacity` bytes (the same one when it
  // already has that size), keeping `name`/`value` pointing at the same bytes if they are views
  // of an entry.
  void relocate(std::size_t capacity, std::string_view& name, std::string_view& value);
  std::size_t largest_capacity() const;  // what a full table's buffer grows to
  void resize_ring(std::size_t n);  // n >= count_ slots, the oldest entry first

  // 32-bit sizes and offsets (a table is at most a 32-bit SETTINGS value, and Entry's offsets
  // are 32-bit already): every connection keeps two tables.
  std::uint32_t max_size_;
  std::uint32_t size_ = 0;
  std::vector<Entry> entries_;  // a ring: the oldest at first_, count_ of them
  std::unique_ptr<char[]> bytes_;  // grown as entries are added, at most largest_capacity()
  std::uint32_t first_ = 0;
  std::uint32_t count_ = 0;
  std::uint32_t capacity_ = 0;
  std::uint32_t begin_ = 0;  // the live entries' bytes are [begin_, end_), oldest first
  std::uint32_t end_ = 0;
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
  // next decode() or release(). When the decoded list would exceed max_list_size the block is
  // still decoded to its end, so the dynamic table stays in step with the peer's, but no further
  // field is kept or copied and `oversize` is set: the cost of a block is bounded by the limit,
  // not by what it expands to (HPACK bombs).
  DecodeError decode(std::string_view block, std::vector<Header>& fields, bool& oversize);
  // The owner is done with the last block's fields (which this invalidates): the chunks a large
  // block added to the arena are freed; its first chunk stays for the next block.
  void finish();
  // Gives the arena back (to the thread's pool, ruvicorn/buffer_pool.hpp), which invalidates
  // what decode() handed out: for an owner that goes idle, so that an idle connection holds no
  // arena.
  void release();

  const DynamicTable& table() const { return table_; }

  // Bytes handed out by decode(): chunks that are never moved or resized while views into them
  // live. A string goes to a new chunk only when it does not fit what is left of the current
  // one, and only strings that pass the list limit are kept, so a block's chunks total about
  // 2 * max_list_size_ at most. Usual blocks fit in the first chunk; later ones (4 KiB or a
  // string's exact size) are freed by finish() or when the next block starts. The whole arena
  // comes from the thread's pool (ruvicorn/buffer_pool.hpp) when a block first needs it and
  // goes back on release(): a busy connection keeps its first chunk from block to block, an
  // idle one holds none of it.
  struct Chunk {
    std::unique_ptr<char[]> bytes;
    std::size_t size;
  };
  struct Arena {
    char first[2048];
    std::vector<Chunk> more;
    char* chunk = nullptr;  // the chunk being filled
    std::size_t chunk_size = 0;
    std::size_t used = 0;   // bytes used in it
    // Strings of a field that is not kept but must still enter the dynamic table (after the
    // list went over its limit): at most table_limit_ bytes, allocated when first needed in a
    // block and freed at its end.
    std::unique_ptr<char[]> scratch;
  };

 private:
  friend class BlockReader;  // the per-block state machine (hpack/decoder.cpp)
  Arena& arena();  // taken from the pool when the block first needs it
  char* arena_alloc(std::size_t n);  // n contiguous bytes (n <= max_list_size_)
  // Room left in the current chunk; takes the arena first, so that a block's first Huffman
  // string is decoded once, in place, rather than measured and then decoded again.
  std::size_t arena_left() {
    Arena& a = arena();
    return a.chunk_size - a.used;
  }
  char* arena_next() const { return arena_->chunk + arena_->used; }
  void arena_used(std::size_t n) {
    if (n != 0) arena_->used += n;
  }

  DynamicTable table_;
  std::size_t table_limit_;
  std::size_t max_list_size_;
  std::unique_ptr<Arena> arena_;
};

class Encoder {
 public:
  // `table_size`: the most of the peer's dynamic table this encoder uses (memory per
  // connection). The peer's table starts at 4096 (RFC 9113 6.5.2); a smaller `table_size` is
  // announced by a size update at the start of the first block.
  explicit Encoder(std::size_t table_size = 4096);

  // The peer's SETTINGS_HEADER_TABLE_SIZE: our table shrinks to it (or to table_size, the
  // smaller) and the next block starts with a dynamic table size update (RFC 7541 4.2, 6.3).
  void set_peer_table_size(std::size_t size);

  // One block: begin(), then status (responses) and fields in order; the bytes are appended to
  // `out`. Names must already be valid lower-case tokens (the caller validates). Fields that
  // repeat across responses on a connection (content-type, server, ...) are indexed so that the
  // next response refers to them in a byte or two; fields that should never be indexed
  // (set-cookie, authorization, cookie) are sent as never-indexed literals. Strings are
  // Huffman-coded when that is shorter. The policy is in hpack/encoder.cpp.
  void begin(std::string& out);
  void status(int code, std::string& out);  // ":status"
  void field(std::string_view name, std::string_view value, std::string& out);

  const DynamicTable& table() const { return table_; }

 private:
  // Caches from a hash of (name, value) and of name to the insertion number of the newest
  // entry seen with it: O(1) lookups in the dynamic table. Buckets of kWays slots; a slot may be
  // overwritten or stale (a miss costs only compression), and a hit is verified in the table.
  // The bucket count follows the table's entry count (rebuilt from the table when it doubles).
  // A table of kWays entries or fewer (an idle connection's: server, date, content-type) has
  // no caches: it is scanned.
  struct Slot {
    std::uint32_t hash = 0;
    std::uint32_t id = 0;  // insertion number (1 = the first entry ever added), 0: empty
  };
  static constexpr std::size_t kWays = 4;
  static constexpr std::size_t kFirstBuckets = 2;
  static constexpr std::size_t kMaxBuckets = 64;
  std::size_t find(const Slot* bucket, std::uint64_t hash, std::string_view name,
                   const std::string_view* value) const;
  void remember(Slot* bucket, std::uint64_t hash, std::uint32_t id);
  // The newest entry equal to (name, value) and the newest with that name, as find() gives
  // them, by walking the table (no caches yet).
  void scan(std::string_view name, std::string_view value, std::size_t& field,
            std::size_t& name_only) const;
  Slot* field_bucket(std::uint64_t hash) const {
    return &slots_[(hash & (buckets_ - 1)) * kWays];
  }
  Slot* name_bucket(std::uint64_t hash) const {
    return &slots_[(buckets_ + (hash & (buckets_ - 1))) * kWays];
  }
  void resize_caches(std::size_t buckets);  // and remember every entry of the table

  DynamicTable table_;
  std::size_t table_size_;
  std::size_t pending_update_ = SIZE_MAX;  // SIZE_MAX: no size update owed
  std::size_t min_update_ = SIZE_MAX;      // smallest size since the last block (RFC 7541 4.2)
  std::uint32_t inserted_ = 0;             // entries added so far
  // The field cache's buckets, then the name cache's (buckets_ * kWays slots each); allocated
  // with the first entry.
  std::unique_ptr<Slot[]> slots_;
  std::size_t buckets_ = 0;
};

}  // namespace ruvicorn::hpack
