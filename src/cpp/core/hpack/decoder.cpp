// The HPACK decoder (RFC 7541 3, 6). Cost is bounded by the header list limit, not by what a
// block expands to: a field is copied only after it passed the limit, and once the list is over
// the limit every representation costs O(its own bytes) (plus, for a literal that is indexed,
// the copy into the dynamic table, at most the table size).
#include <algorithm>
#include <cstring>

#include "hpack/integer.hpp"
#include "hpack/static_table.hpp"
#include "ruvicorn/buffer_pool.hpp"
#include "ruvicorn/hpack.hpp"
#include "util/free_memory.hpp"

namespace ruvicorn::hpack {

namespace {

constexpr std::size_t kChunkSize = 4096;  // later chunks (at least)
char kEmpty[1];                           // where empty strings point

// A decoded string: its length is always known; its bytes only when `present`.
struct Str {
  std::string_view bytes;
  std::size_t length = 0;
  bool present = false;
  bool stable = false;  // bytes stay until the next decode(): block, static table or arena
};

DecodeError int_error(IntStatus s) {
  return {s == IntStatus::kTruncated ? "truncated integer" : "integer overflow"};
}

}  // namespace

Decoder::Decoder(std::size_t table_limit, std::size_t max_list_size)
    : table_(table_limit), table_limit_(table_limit), max_list_size_(max_list_size) {}

namespace {
// The arena's first chunk is the one filled; later ones (of a large block) are freed.
void start_over(Decoder::Arena& a) {
  free_memory(a.more);
  a.chunk = a.first;
  a.chunk_size = sizeof a.first;
  a.used = 0;
}
}  // namespace

Decoder::Arena& Decoder::arena() {
  if (!arena_) {
    arena_ = ObjectPool<Arena>::take();
    start_over(*arena_);
  }
  return *arena_;
}

char* Decoder::arena_alloc(std::size_t n) {
  if (n == 0) return kEmpty;
  Arena& a = arena();
  if (a.chunk_size - a.used < n) {
    const std::size_t size = std::max(n, std::min(kChunkSize, max_list_size_));
    a.more.push_back({std::make_unique<char[]>(size), size});
    a.chunk = a.more.back().bytes.get();
    a.chunk_size = size;
    a.used = 0;
  }
  return a.chunk + a.used;
}

// One block's walk. Decoder state (table, arena) lives in the Decoder; the rest here.
class BlockReader {
 public:
  BlockReader(Decoder& d, std::string_view block, std::vector<Header>& fields)
      : d_(d),
        p_(reinterpret_cast<const unsigned char*>(block.data())),
        end_(p_ + block.size()),
        fields_(fields) {}

  DecodeError run(bool& oversize) {
    bool at_start = true;  // size updates only before the first field (RFC 7541 4.2)
    while (p_ < end_) {
      const unsigned char b = *p_;
      DecodeError err;
      if (b & 0x80) {
        err = indexed();
      } else if (b & 0x40) {
        err = literal(6, true);
      } else if (b & 0x20) {
        if (!at_start) return {"dynamic table size update after a field"};
        std::uint64_t size;
        if (auto s = decode_int(p_, end_, 5, size); s != IntStatus::kOk) return int_error(s);
        if (size > d_.table_limit_) return {"dynamic table size update above the limit"};
        d_.table_.set_max_size(size);
        continue;
      } else {
        err = literal(4, false);  // without indexing (0000) or never indexed (0001) alike
      }
      if (err) return err;
      at_start = false;
    }
    oversize = over_;
    return {};
  }

 private:
  // Room left in the list for a field with `known` bytes of name and value so far, or false when
  // the field cannot be kept.
  bool keep_room(std::size_t known, std::size_t& room) const {
    const std::size_t left = d_.max_list_size_ - list_;
    if (over_ || left < kEntryOverhead + known) return false;
    room = left - kEntryOverhead - known;
    return true;
  }

  // Index `i` (nonzero) of the static or dynamic table.
  DecodeError lookup(std::uint64_t i, Header& h, bool& stable) const {
    if (i <= kStaticCount) {
      h = kStatic[i];
      stable = true;
      return {};
    }
    if (i - kStaticCount > d_.table_.count()) return {"index past the dynamic table"};
    h = d_.table_.at(i - kStaticCount - 1);
    stable = false;
    return {};
  }

  std::string_view copy(std::string_view s) {
    char* dst = d_.arena_alloc(s.size());
    if (!s.empty()) std::memcpy(dst, s.data(), s.size());
    d_.arena_used(s.size());
    return {dst, s.size()};
  }

  // Keeps the field if the list has room for it (copying what is not stable), else marks the
  // list oversize: nothing after that is kept.
  void keep(const Str& name, const Str& value) {
    std::size_t room;
    if (!keep_room(name.length, room) || value.length > room) {
      over_ = true;
      return;
    }
    list_ += name.length + value.length + kEntryOverhead;
    fields_.push_back({name.stable ? name.bytes : copy(name.bytes),
                       value.stable ? value.bytes : copy(value.bytes)});
  }

  DecodeError indexed() {  // RFC 7541 6.1
    std::uint64_t i;
    if (auto s = decode_int(p_, end_, 7, i); s != IntStatus::kOk) return int_error(s);
    if (i == 0) return {"index 0"};
    Header h;
    bool stable;
    if (DecodeError err = lookup(i, h, stable)) return err;
    keep({h.name, h.name.size(), true, stable}, {h.value, h.value.size(), true, stable});
    return {};
  }

  // A string literal (RFC 7541 5.2). Raw strings are views of the block. A Huffman string is
  // decoded into the arena when the field may still be kept (`keep_cap`: the most it may
  // expand to), else into the scratch buffer when the dynamic table needs it (`table_cap`,
  // `for_table`), else only validated and measured.
  DecodeError string(Str& out, bool keepable, std::size_t keep_cap, bool for_table,
                     std::size_t table_cap) {
    if (p_ == end_) return {"truncated string"};
    const bool huffman = (*p_ & 0x80) != 0;
    std::uint64_t len;
    if (auto s = decode_int(p_, end_, 7, len); s != IntStatus::kOk) return int_error(s);
    if (len > static_cast<std::size_t>(end_ - p_)) return {"string longer than the block"};
    const std::string_view in(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    if (!huffman) {
      out = {in, in.size(), true, true};
      return {};
    }
    const std::size_t most = huffman_max_decoded_size(in.size());
    std::size_t n = kHuffmanInvalid;  // not decoded yet
    if (keepable) {
      // Into what is left of the current chunk; a string that does not fit is decoded again
      // into a new chunk of its exact size, so chunks are not sized by worst cases.
      std::size_t cap = std::min({most, keep_cap, d_.arena_left()});
      char* dst = cap ? d_.arena_next() : nullptr;
      n = huffman_decode(in, dst, cap);
      if (n == kHuffmanInvalid) return {"invalid Huffman code"};
      if (n > cap && n <= keep_cap) {
        cap = n;
        dst = d_.arena_alloc(n);
        huffman_decode(in, dst, cap);
      }
      if (n <= cap) {
        d_.arena_used(n);
        out = {{n ? dst : "", n}, n, true, true};
        return {};
      }
    }
    if (for_table && (n == kHuffmanInvalid || n <= table_cap)) {
      std::unique_ptr<char[]>& scratch = d_.arena().scratch;
      if (!scratch) scratch = std::make_unique<char[]>(d_.table_limit_);
      const std::size_t cap = std::min(most, table_cap);
      char* dst = scratch.get() + scratch_used_;
      n = huffman_decode(in, dst, cap);
      if (n == kHuffmanInvalid) return {"invalid Huffman code"};
      if (n <= cap) {
        scratch_used_ += n;
        out = {{dst, n}, n, true, false};
        return {};
      }
    } else if (n == kHuffmanInvalid) {
      n = huffman_decode(in, nullptr, 0);
      if (n == kHuffmanInvalid) return {"invalid Huffman code"};
    }
    out = {{}, n, false, false};
    return {};
  }

  // Literal field (RFC 7541 6.2): the name indexed or literal, the value literal; `indexing`:
  // added to the dynamic table (6.2.1).
  DecodeError literal(unsigned prefix_bits, bool indexing) {
    std::uint64_t i;
    if (auto s = decode_int(p_, end_, prefix_bits, i); s != IntStatus::kOk) return int_error(s);
    scratch_used_ = 0;
    // The entry needs its strings only if it fits the table (RFC 7541 4.4).
    const std::size_t table_max = d_.table_.max_size();
    const bool to_table = indexing && table_max >= kEntryOverhead;
    const std::size_t table_room = to_table ? table_max - kEntryOverhead : 0;
    std::size_t room = 0;
    Str name;
    if (i != 0) {
      Header h;
      bool stable;
      if (DecodeError err = lookup(i, h, stable)) return err;
      name = {h.name, h.name.size(), true, stable};
    } else {
      const bool keepable = keep_room(0, room);
      if (DecodeError err = string(name, keepable, room, to_table, table_room)) return err;
    }
    Str value;
    const bool keepable = keep_room(name.length, room);
    const bool value_to_table = to_table && name.present && name.length <= table_room;
    const std::size_t value_table_cap = value_to_table ? table_room - name.length : 0;
    if (DecodeError err = string(value, keepable, room, value_to_table, value_table_cap)) {
      return err;
    }
    keep(name, value);  // if not, a string it left in the arena stays there, unused, until
                        // the block ends: nothing more is kept after it
    if (indexing) {
      if (name.length + value.length + kEntryOverhead > table_max) {
        d_.table_.clear();  // RFC 7541 4.4
      } else {
        d_.table_.add(name.bytes, value.bytes);  // both present: they fit the table
      }
    }
    return {};
  }

  Decoder& d_;
  const unsigned char* p_;
  const unsigned char* const end_;
  std::vector<Header>& fields_;
  std::size_t list_ = 0;          // RFC 7541 4.1 size of the fields kept
  bool over_ = false;             // the list went over max_list_size_: keep nothing more
  std::size_t scratch_used_ = 0;  // of the current literal's strings in the arena's scratch
};

DecodeError Decoder::decode(std::string_view block, std::vector<Header>& fields, bool& oversize) {
  fields.clear();
  oversize = false;
  if (arena_) start_over(*arena_);
  BlockReader reader(*this, block, fields);
  const DecodeError error = reader.run(oversize);
  if (arena_) arena_->scratch.reset();  // only an oversize list needs it: not kept
  return error;
}

void Decoder::finish() {
  if (arena_ && !arena_->more.empty()) start_over(*arena_);
}

void Decoder::release() {
  if (!arena_) return;
  start_over(*arena_);
  arena_->scratch.reset();
  ObjectPool<Arena>::give(std::move(arena_));
}

}  // namespace ruvicorn::hpack
