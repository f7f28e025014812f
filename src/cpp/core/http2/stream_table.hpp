// The live streams of a connection: an open-addressing map from stream id to Stream. Streams and
// the slot array come from the thread's pools (ruvicorn/buffer_pool.hpp). An erased stream is
// kept as a spare for the next one (up to kSpareStreams; more go back to the pool), and the slots
// stay while the connection is busy: opening and closing streams then neither allocates nor
// visits the pools. trim() gives spares and slots back, so an idle connection holds neither.
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
      SlotPool::take(slots_);  // all empty: given back by trim() with no stream left
      if (slots_.empty()) slots_.resize(kInitialSlots);
      set_mask(slots_.size());
    } else if ((size_ + 1) * 2 > slots_.size()) {
      rehash(slots_.size() * 2);
    }
    std::unique_ptr<Stream> stream;
    if (spare_ != nullptr) {
      stream = std::move(spare_);
      spare_ = std::move(stream->next_spare);
      --spares_;
    } else {
      stream = ObjectPool<Stream>::take();
    }
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
    keep_spare(std::move(slots_[i].stream));
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
    // A table grown for a burst of streams is not kept for the next few.
    if (--size_ == 0 && slots_.size() > kPooledSlots) free_slots();
  }

  std::size_t size() const { return size_; }

  // Gives the spare streams back to the pool and shrinks the slots to what the live streams
  // need (none: back to the pool).
  void trim() {
    while (spare_ != nullptr) {
      std::unique_ptr<Stream> s = std::move(spare_);
      spare_ = std::move(s->next_spare);
      ObjectPool<Stream>::give(std::move(s));
    }
    spares_ = 0;
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
  // A larger table (hundreds of streams at once) is freed rather than pooled or kept: the next
  // connection to take it, or this one's next streams, may need only a few.
  static constexpr std::size_t kPooledSlots = 64;
  // Spare streams a busy connection keeps: what a client usually has in flight (h2load -m10,
  // a browser's page); the rest of a burst goes back to the pool.
  static constexpr std::uint32_t kSpareStreams = 32;

  void keep_spare(std::unique_ptr<Stream> stream) {
    stream->recycle();  // its queue and trailers freed
    if (spares_ >= kSpareStreams) {
      ObjectPool<Stream>::give(std::move(stream));
      return;
    }
    stream->next_spare = std::move(spare_);
    spare_ = std::move(stream);
    ++spares_;
  }
  void free_slots() {
    mask_ = 0;
    shift_ = 32;
    std::vector<Slot>().swap(slots_);
  }
  void clear() {
    for (Slot& s : slots_) {
      if (s.id != 0) keep_spare(std::move(s.stream));
      s = Slot{};
    }
    size_ = 0;
    trim();  // the slots (all empty now) and the spares back to the pools
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

  std::vector<Slot> slots_;  // a power of two in size, or empty
  std::size_t mask_ = 0;
  unsigned shift_ = 32;
  std::uint32_t spares_ = 0;
  std::size_t size_ = 0;
  std::unique_ptr<Stream> spare_;  // the spare streams, linked through Stream::next_spare
};

}  // namespace ruvicorn::http2
