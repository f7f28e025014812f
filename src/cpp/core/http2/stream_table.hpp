// The live streams of a connection: an open-addressing map from stream id to Stream, with the
// Stream objects pooled, so that opening and closing streams allocates nothing once the pool and
// the table have grown to the connection's concurrency.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "http2/stream.hpp"
#include "util/free_memory.hpp"

namespace ruvicorn::http2 {

class StreamTable {
 public:
  StreamTable() { rehash(kInitialSlots); }

  Stream* find(std::uint32_t id) const {
    if (id == 0) return nullptr;
    for (std::size_t i = home(id);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == id) return s.stream;
      if (s.id == 0) return nullptr;
    }
  }

  // A fresh stream for a new id (not present).
  Stream* insert(std::uint32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    Stream* stream;
    if (free_.empty()) {
      all_.push_back(std::make_unique<Stream>());
      stream = all_.back().get();
    } else {
      stream = free_.back();
      free_.pop_back();
    }
    stream->id = id;
    place(id, stream);
    ++size_;
    return stream;
  }

  void erase(std::uint32_t id) {
    std::size_t i = home(id);
    while (slots_[i].id != id) {
      if (slots_[i].id == 0) return;
      i = (i + 1) & mask_;
    }
    slots_[i].stream->recycle();
    free_.push_back(slots_[i].stream);
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    for (std::size_t j = (i + 1) & mask_; slots_[j].id != 0; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].id);
      const bool movable = (j > i) ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  std::size_t size() const { return size_; }

  // Frees the pooled streams and shrinks the slots to what the live streams need.
  void trim() {
    std::sort(free_.begin(), free_.end());
    auto pooled = [this](const std::unique_ptr<Stream>& s) {
      return std::binary_search(free_.begin(), free_.end(), s.get());
    };
    all_.erase(std::remove_if(all_.begin(), all_.end(), pooled), all_.end());
    all_.shrink_to_fit();
    free_memory(free_);
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
    Stream* stream = nullptr;
  };
  static constexpr std::size_t kInitialSlots = 16;

  std::size_t home(std::uint32_t id) const {
    // Client stream ids are odd and mostly consecutive: hash id/2 multiplicatively.
    return static_cast<std::size_t>(((id >> 1) * 2654435761u) >> shift_) & mask_;
  }
  void place(std::uint32_t id, Stream* stream) {
    std::size_t i = home(id);
    while (slots_[i].id != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{id, stream};
  }
  void rehash(std::size_t count) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(count, Slot{});
    mask_ = count - 1;
    shift_ = 32;
    for (std::size_t c = count; c > 1; c >>= 1) --shift_;
    for (const Slot& s : old)
      if (s.id != 0) place(s.id, s.stream);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 32;
  std::size_t size_ = 0;
  std::vector<std::unique_ptr<Stream>> all_;  // owns every Stream, live or free
  std::vector<Stream*> free_;
};

}  // namespace ruvicorn::http2
