// Replaces the global operator new/delete of a test executable with versions that count heap
// allocations and their bytes (include from exactly one file of the executable).
#pragma once
#include <atomic>
#include <cstdlib>
#include <new>

inline std::atomic<long> g_allocations{0};
inline std::atomic<long> g_allocated_bytes{0};

void* operator new(std::size_t n) {
  ++g_allocations;
  g_allocated_bytes += static_cast<long>(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void* operator new[](std::size_t n) {
  ++g_allocations;
  g_allocated_bytes += static_cast<long>(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
