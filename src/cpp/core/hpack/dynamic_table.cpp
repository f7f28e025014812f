// The HPACK dynamic table (RFC 7541 2.3.2, 4): entries' bytes end to end in one buffer. New bytes
// go at the end; when the end is reached, the entries the new one evicts go and the live bytes
// move to the front of the same buffer, or of a larger one while the buffer is under 1.5 times
// what it will hold (so a compaction moves at most 2 bytes per byte added). At its usual largest
// (1.25 x max_size) a compaction moves at most 4 bytes per byte added since the last one.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "ruvicorn/hpack.hpp"
#include "util/free_memory.hpp"

namespace ruvicorn::hpack {

namespace {
constexpr std::size_t kFirstCapacity = 128;  // a few typical entries
constexpr std::size_t kFirstRing = 4;
}  // namespace

DynamicTable::DynamicTable(std::size_t max_size) : max_size_(max_size) {}

Header DynamicTable::at(std::size_t i) const {
  std::size_t slot = first_ + count_ - 1 - i;
  if (slot >= entries_.size()) slot -= entries_.size();
  const Entry& e = entries_[slot];
  const char* p = bytes_.get() + e.offset;
  return {std::string_view(p, e.name_len), std::string_view(p + e.name_len, e.value_len)};
}

void DynamicTable::evict_one() {
  const Entry& e = entries_[first_];
  begin_ += e.name_len + e.value_len;
  size_ -= e.name_len + e.value_len + kEntryOverhead;
  if (++first_ == entries_.size()) first_ = 0;
  --count_;
}

void DynamicTable::evict_for(std::size_t len) {
  while (size_ + len + kEntryOverhead > max_size_) evict_one();
}

void DynamicTable::clear() {
  first_ = count_ = size_ = 0;
  begin_ = end_ = 0;
}

std::size_t DynamicTable::largest_capacity() const {
  return std::size_t{max_size_} + max_size_ / 4;
}

void DynamicTable::set_max_size(std::size_t max_size) {
  max_size_ = max_size;
  while (size_ > max_size_) evict_one();
  if (capacity_ <= largest_capacity()) return;
  // A smaller table gives back what it can no longer use.
  if (count_ == 0) {
    bytes_.reset();
    capacity_ = 0;
    begin_ = end_ = 0;
    free_memory(entries_);
    first_ = 0;
    return;
  }
  std::string_view none;
  relocate(largest_capacity(), none, none);
  if (entries_.size() > max_size_ / kEntryOverhead + 1) resize_ring(max_size_ / kEntryOverhead + 1);
}

void DynamicTable::relocate(std::size_t capacity, std::string_view& name,
                            std::string_view& value) {
  std::unique_ptr<char[]> fresh;
  if (capacity != capacity_) fresh = std::make_unique<char[]>(capacity);
  char* const dst = fresh ? fresh.get() : bytes_.get();
  const std::size_t live = end_ - begin_;
  if (live != 0) {
    const char* const from = bytes_.get() + begin_;
    const auto lo = reinterpret_cast<std::uintptr_t>(from);
    auto moved = [&](std::string_view& s) {
      const auto at = reinterpret_cast<std::uintptr_t>(s.data());
      if (at >= lo && at < lo + live) s = std::string_view(dst + (at - lo), s.size());
    };
    moved(name);
    moved(value);
    std::memmove(dst, from, live);
  }
  for (std::size_t i = 0, slot = first_; i < count_; ++i) {
    entries_[slot].offset -= static_cast<std::uint32_t>(begin_);
    if (++slot == entries_.size()) slot = 0;
  }
  begin_ = 0;
  end_ = live;
  if (fresh) {
    bytes_ = std::move(fresh);
    capacity_ = capacity;
  }
}

void DynamicTable::resize_ring(std::size_t n) {
  std::vector<Entry> ring(n);
  for (std::size_t i = 0, slot = first_; i < count_; ++i) {
    ring[i] = entries_[slot];
    if (++slot == entries_.size()) slot = 0;
  }
  entries_ = std::move(ring);
  first_ = 0;
}

void DynamicTable::add(std::string_view name, std::string_view value) {
  const std::size_t len = name.size() + value.size();
  if (len + kEntryOverhead > max_size_) {  // RFC 7541 4.4
    clear();
    return;
  }
  if (end_ + len > capacity_) {
    // Room at the end: the entries this one evicts go, then the live bytes move to the front of
    // this buffer, or of a larger one while it is under 1.5 times what it will hold. Unless `name`
    // is a view of an entry (a literal whose name is a dynamic-table reference): then nothing
    // is evicted before the move, which keeps every entry's bytes intact and the view with them.
    const auto lo = reinterpret_cast<std::uintptr_t>(bytes_.get());
    auto inside = [&](std::string_view s) {
      const auto at = reinterpret_cast<std::uintptr_t>(s.data());
      return at >= lo && at < lo + capacity_;
    };
    if (!bytes_ || !(inside(name) || inside(value))) evict_for(len);
    const std::size_t need = end_ - begin_ + len;
    std::size_t capacity = capacity_;
    if (need + need / 2 > capacity && capacity < largest_capacity()) {
      capacity = std::max(capacity, kFirstCapacity);
      while (capacity < need + need / 2) capacity *= 2;
      capacity = std::min(capacity, largest_capacity());
    }
    // Entries held for a view may need more (below 2 x max_size: each part is under max_size).
    capacity = std::max(capacity, need);
    relocate(capacity, name, value);
  }
  // Evicting only moves begin_: no byte is overwritten, so views into the table stay valid.
  evict_for(len);
  // end_ + len fits now. The sources lie before end_ (or outside the buffer), so they do not
  // overlap the destination.
  if (count_ == entries_.size()) {
    // Every entry costs at least kEntryOverhead: max_size / 32 + 1 slots never fill.
    resize_ring(std::min(std::max(kFirstRing, 2 * entries_.size()),
                         max_size_ / kEntryOverhead + 1));
  }
  char* dst = bytes_.get() + end_;
  if (!name.empty()) std::memcpy(dst, name.data(), name.size());
  if (!value.empty()) std::memcpy(dst + name.size(), value.data(), value.size());
  std::size_t slot = first_ + count_;
  if (slot >= entries_.size()) slot -= entries_.size();
  entries_[slot] = Entry{static_cast<std::uint32_t>(end_), static_cast<std::uint32_t>(name.size()),
                         static_cast<std::uint32_t>(value.size())};
  ++count_;
  end_ += len;
  size_ += len + kEntryOverhead;
}

}  // namespace ruvicorn::hpack
