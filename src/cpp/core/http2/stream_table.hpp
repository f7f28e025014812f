// The live streams of a connection: an open-addressing map from stream id to Stream. Streams and
// the slot array come from the thread's pools (ruvicorn/buffer_pool.hpp) and go back to them:
// a stream as soon as it is erased, the slots once no stream is left. Opening and closing
// streams then allocates nothing once the pools hold a few, and an idle connection holds
// neither.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "http2/stream.hpp"
#include "ruvicorn/buffer_pool.hpp"

namespace ruvicorn::http2 {

class StreamTable {
 public:
  StreamTable() = default;
  StreamTable(const StreamTable&) = delete;
  StreamTable& operator=(const StreamTable&) = delete;
  ~StreamTable() { clear(); }

  Stream* find(std::uint32_t id) const {
    if (id == 0 || size_ == 0) return nullptr;
    for (std::size_t i = home(id);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == id) return s.stream.get();
      if (s.id == 0) return nullptr;
    }
  }

  // A fresh stream for a new id (not present).
  Stream* insert(std::uint32_t id) {
    if (slots_.empty()) {
      SlotPool::take(slots_);  // all empty: given back only when no stream was left
      if (slots_.empty()) slots_.resize(kInitialSlots);
      set_mask(slots_.size());
    } else if ((size_ + 1) * 2 > slots_.size()) {
      rehash(slots_.size() * 2);
    }
    std::unique_ptr<Stream> stream = ObjectPool<Stream>::take();
    stream->id = id;
    Stream* raw = stream.get();
    place(id, std::move(stream));
    ++size_;
    return raw;
  }

  void erase(std::uint32_t id) {
    if (size_ == 0) return;
    std::size_t i = home(id);
    while (slots_[i].id != id) {
      if (slots_[i].id == 0) return;
      i = (i + 1) & mask_;
    }
    give_back(std::move(slots_[i].stream));
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    for (std::size_t j = (i + 1) & mask_; slots_[j].id != 0; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].id);
      const bool movable = (j > i) ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = std::move(slots_[j]);
        i = j;
      }
    }
    slots_[i] = Slot{};
    if (--size_ == 0) SlotPool::give(slots_, kPooledSlots * sizeof(Slot));
  }

  std::size_t size() const { return size_; }

  // Shrinks the slots to what the live streams need (none: back to the pool).
  void trim() {
    if (size_ == 0) {
      SlotPool::give(slots_, kPooledSlots * sizeof(Slot));
      return;
    }
    std::size_t slots = kInitialSlots;
    while ((size_ + 1) * 2 > slots) slots *= 2;
    if (slots < slots_.size()) rehash(slots);
  }

  // Calls fn(Stream&) for each live stream. fn must not insert or erase.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots_)
      if (s.id != 0) fn(*s.stream);
  }

 private:
  struct Slot {
    std::uint32_t id = 0;  // 0: empty (stream 0 is the connection, never a stream)
    std::unique_ptr<Stream> stream;
  };
  using SlotPool = BufferPool<std::vector<Slot>>;
  static constexpr std::size_t kInitialSlots = 16;
  // A larger table (hundreds of streams at once) is freed rather than pooled: the next
  // connection to take it may need only a few.
  static constexpr std::size_t kPooledSlots = 64;

  static void give_back(std::unique_ptr<Stream> stream) {
    stream->recycle();  // its queue and trailers freed
    ObjectPool<Stream>::give(std::move(stream));
  }
  void clear() {
    for (Slot& s : slots_)
      if (s.id != 0) give_back(std::move(s.stream));
    size_ = 0;
    std::vector<Slot>().swap(slots_);
  }
  std::size_t home(std::uint32_t id) const {
    // Client stream ids are odd and mostly consecutive: hash id/2 multiplicatively.
    return static_cast<std::size_t>(((id >> 1) * 2654435761u) >> shift_) & mask_;
  }
  void place(std::uint32_t id, std::unique_ptr<Stream> stream) {
    std::size_t i = home(id);
    while (slots_[i].id != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{id, std::move(stream)};
  }
  void set_mask(std::size_t count) {
    mask_ = count - 1;
    shift_ = 32;
    for (std::size_t c = count; c > 1; c >>= 1) --shift_;
  }
  void rehash(std::size_t count) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(count);
    set_mask(count);
    for (Slot& s : old)
      if (s.id != 0) place(s.id, std::move(s.stream));
  }

  std::vector<Slot> slots_;  // a power of two in size, or empty when no stream is live
  std::size_t mask_ = 0;
  unsigned shift_ = 32;
  std::size_t size_ = 0;
};

}  // namespace ruvicorn::http2
