// Buffers the connections of one thread take turns with instead of each keeping its own: an
// owner gives its buffer back when it goes idle (a head parsed, a response written, nothing left
// buffered) and takes one again when it next needs it. An idle connection then holds no buffer,
// and a busy keep-alive one allocates nothing per request: the pool hands the same few round.
// (An owner that is busy enough may also keep what it took between requests, clear_within(),
// and give it back only once idle: HTTP/2, whose requests would otherwise visit the pools
// about ten times each.)
// One pool per thread and buffer type (std::string, std::vector<T>), no locks, bounded by
// kBufferPoolBytes and kBufferPoolEntries (limits.hpp); what does not fit is freed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ruvicorn/limits.hpp"

namespace ruvicorn {

namespace detail {
// Takes and gives this thread's pools have seen, all kinds together (pool_traffic()).
inline std::uint64_t& traffic_of_this_thread() {
  static thread_local std::uint64_t n = 0;  // trivially destructible: valid to the end
  return n;
}

// One thread's free list of one kind of item, and the bytes it holds.
template <typename Item>
struct PoolLocal {
  std::vector<Item> free;
  std::size_t bytes = 0;
  std::uint64_t* traffic;  // the thread's counter, found once rather than on every call
  PoolLocal() : traffic(&traffic_of_this_thread()) { free.reserve(kBufferPoolEntries); }
  ~PoolLocal() { slot() = Slot{nullptr, true}; }
  // This thread's pool, or nullptr once it is destroyed (thread exit: an item given back later
  // is freed). One thread-local lookup on the usual path, of a trivial slot with no guard: a
  // request takes from and gives back to the pools several times, and each lookup from a
  // shared library is a call (__tls_get_addr).
  static PoolLocal* get() {
    Slot& s = slot();
    if (s.local != nullptr || s.gone) return s.local;
    static thread_local PoolLocal local;  // constructed on first use, destroyed at thread exit
    s.local = &local;
    return s.local;
  }

 private:
  struct Slot {
    PoolLocal* local;
    bool gone;
  };
  static Slot& slot() {
    static thread_local Slot s{nullptr, false};  // trivially destructible: valid to the end
    return s;
  }
};
}  // namespace detail

template <typename Buffer>
class BufferPool {
 public:
  // Moves `buffer`'s memory (and contents) into this thread's pool, leaving it empty and without
  // memory of its own. Memory above `max_bytes`, or that the pool has no room for, is freed.
  static void give(Buffer& buffer, std::size_t max_bytes) {
    const std::size_t bytes = heap_bytes(buffer);
    if (bytes == 0) return;
    Local* local = Local::get();
    if (local != nullptr) ++*local->traffic;
    if (local == nullptr || bytes > max_bytes || local->free.size() >= kBufferPoolEntries ||
        local->bytes + bytes > kBufferPoolBytes) {
      Buffer().swap(buffer);
      return;
    }
    local->free.emplace_back();  // reserved: never reallocates
    local->free.back().swap(buffer);
    local->bytes += bytes;
  }
  // Hands `buffer` a pooled one (with whatever contents it was given back with) if it is empty,
  // has no memory of its own and the pool is not empty; otherwise leaves it as it is (a string
  // may hold a few bytes without heap memory).
  static void take(Buffer& buffer) {
    if (!buffer.empty() || heap_bytes(buffer) != 0) return;
    Local* local = Local::get();
    if (local == nullptr) return;
    ++*local->traffic;
    if (local->free.empty()) return;
    buffer.swap(local->free.back());
    local->free.pop_back();
    local->bytes -= heap_bytes(buffer);
  }
  // What this thread's pool holds (for tests).
  static std::size_t pooled_bytes() {
    const Local* local = Local::get();
    return local == nullptr ? 0 : local->bytes;
  }
  static std::size_t pooled_count() {
    const Local* local = Local::get();
    return local == nullptr ? 0 : local->free.size();
  }

  // Heap bytes `buffer` owns: 0 for an empty vector or a string in its inline storage.
  static std::size_t heap_bytes(const Buffer& buffer) {
    static const std::size_t inline_capacity = Buffer().capacity();
    const std::size_t capacity = buffer.capacity();
    return capacity > inline_capacity ? capacity * sizeof(typename Buffer::value_type) : 0;
  }

 private:
  using Local = detail::PoolLocal<Buffer>;
};

// The same for objects that are not buffers (HTTP/2 streams): an owner that goes idle gives its
// spare ones back, the next that needs one takes it. At most kBufferPoolEntries per thread and
// type; the rest are freed.
template <typename T>
class ObjectPool {
 public:
  // A pooled object (in whatever state it was given back), or a new one.
  static std::unique_ptr<T> take() {
    Local* local = Local::get();
    if (local != nullptr) ++*local->traffic;
    if (local == nullptr || local->free.empty()) return std::make_unique<T>();
    std::unique_ptr<T> object = std::move(local->free.back());
    local->free.pop_back();
    return object;
  }
  static void give(std::unique_ptr<T> object) {
    Local* local = object == nullptr ? nullptr : Local::get();
    if (local != nullptr) ++*local->traffic;
    if (local != nullptr && local->free.size() < kBufferPoolEntries) {
      local->free.push_back(std::move(object));
    }
  }
  static std::size_t pooled_count() {
    const Local* local = Local::get();
    return local == nullptr ? 0 : local->free.size();
  }

 private:
  using Local = detail::PoolLocal<std::unique_ptr<T>>;
};

// A string's memory back to the pool (its contents dropped), and an empty pooled one for a
// string that has none.
inline void recycle(std::string& s, std::size_t max_bytes) {
  s.clear();
  BufferPool<std::string>::give(s, max_bytes);
}
inline void reuse(std::string& s) { BufferPool<std::string>::take(s); }

// Empties `buffer` for its owner's next use, keeping its memory unless that is above
// `max_bytes` (then freed): what a busy owner does between requests instead of a give and a
// take. Whatever it keeps it gives back once idle.
template <typename Buffer>
void clear_within(Buffer& buffer, std::size_t max_bytes) {
  buffer.clear();
  if (BufferPool<Buffer>::heap_bytes(buffer) > max_bytes) Buffer().swap(buffer);
}

// Takes and gives (that reached a pool, or freed what a pool would not keep) this thread has
// made, of every kind: for tests that check that a busy connection makes none per request.
inline std::uint64_t pool_traffic() { return detail::traffic_of_this_thread(); }

}  // namespace ruvicorn
