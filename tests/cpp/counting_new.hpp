// Replaces the global operator new/delete of a test executable with versions that count heap
// allocations, their bytes, and the bytes live now (include from exactly one file of the
// executable).
#pragma once
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

inline std::atomic<long> g_allocations{0};
inline std::atomic<long> g_allocated_bytes{0};
inline std::atomic<long> g_live_bytes{0};  // as the allocator rounds them (malloc_usable_size)

namespace counting_new {
inline void* allocate(std::size_t n) {
  ++g_allocations;
  g_allocated_bytes += static_cast<long>(n);
  void* p = std::malloc(n ? n : 1);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes += static_cast<long>(malloc_usable_size(p));
  return p;
}
inline void release(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes -= static_cast<long>(malloc_usable_size(p));
  std::free(p);
}
}  // namespace counting_new

void* operator new(std::size_t n) { return counting_new::allocate(n); }
void operator delete(void* p) noexcept { counting_new::release(p); }
void operator delete(void* p, std::size_t) noexcept { counting_new::release(p); }
void* operator new[](std::size_t n) { return counting_new::allocate(n); }
void operator delete[](void* p) noexcept { counting_new::release(p); }
void operator delete[](void* p, std::size_t) noexcept { counting_new::release(p); }
