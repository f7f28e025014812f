// The HPACK dynamic table (RFC 7541 2.3.2, 4): entries' bytes end to end in a buffer of twice the
// table size. New bytes go at the end; when the end is reached the live bytes (at most the table
// size) move to the front, which happens at most once per max_size bytes added.
#include <cstdint>
#include <cstring>

#include "ruvicorn/hpack.hpp"

namespace ruvicorn::hpack {

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

void DynamicTable::clear() {
  first_ = count_ = size_ = 0;
  begin_ = end_ = 0;
}

void DynamicTable::set_max_size(std::size_t max_size) {
  max_size_ = max_size;
  while (size_ > max_size_) evict_one();
  if (bytes_ && capacity_ < 2 * max_size_) reserve();
}

void DynamicTable::reserve() {
  // Every entry costs at least kEntryOverhead, so max_size / 32 + 1 slots never fill.
  std::vector<Entry> entries(max_size_ / kEntryOverhead + 1);
  auto bytes = std::make_unique<char[]>(2 * max_size_);
  std::size_t end = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    Entry e = entries_[(first_ + i) % entries_.size()];
    if (e.name_len + e.value_len != 0) {
      std::memcpy(bytes.get() + end, bytes_.get() + e.offset, e.name_len + e.value_len);
    }
    e.offset = static_cast<std::uint32_t>(end);
    end += e.name_len + e.value_len;
    entries[i] = e;
  }
  entries_ = std::move(entries);
  bytes_ = std::move(bytes);
  capacity_ = 2 * max_size_;
  first_ = 0;
  begin_ = 0;
  end_ = end;
}

void DynamicTable::add(std::string_view name, std::string_view value) {
  const std::size_t len = name.size() + value.size();
  if (len + kEntryOverhead > max_size_) {  // RFC 7541 4.4
    clear();
    return;
  }
  if (!bytes_) reserve();
  if (end_ + len > capacity_) {
    // Compact first, while every entry (and so any of them `name` or `value` points into) is
    // still intact; evicting only moves begin_ and overwrites nothing.
    const auto base = reinterpret_cast<std::uintptr_t>(bytes_.get());
    auto moved = [&](std::string_view s) {
      const auto at = reinterpret_cast<std::uintptr_t>(s.data());
      if (at >= base + begin_ && at < base + end_) return std::string_view(s.data() - begin_, s.size());
      return s;
    };
    name = moved(name);
    value = moved(value);
    std::memmove(bytes_.get(), bytes_.get() + begin_, end_ - begin_);
    for (std::size_t i = 0, slot = first_; i < count_; ++i) {
      entries_[slot].offset -= static_cast<std::uint32_t>(begin_);
      if (++slot == entries_.size()) slot = 0;
    }
    end_ -= begin_;
    begin_ = 0;
  }
  while (size_ + len + kEntryOverhead > max_size_) evict_one();
  // end_ + len <= 2 * max_size_: the live bytes never exceed max_size_. The sources lie before
  // end_ (or outside the buffer), so they do not overlap the destination.
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
