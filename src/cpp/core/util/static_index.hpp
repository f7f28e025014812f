// A compile-time index over a static field table (HPACK's, RFC 7541 Appendix A; QPACK's, RFC 9204
// Appendix A): one hash probe finds a name's first entry, a chain links the entries that share the
// name, so an encoder never compares a field with every entry.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ruvicorn/header.hpp"

namespace ruvicorn {

template <std::size_t N>
class StaticIndex {
  static_assert(N < 255, "entries are indexed by one byte");

 public:
  static constexpr std::size_t kNone = SIZE_MAX;
  struct Match {
    std::size_t exact = kNone;  // the entry with both name and value
    std::size_t name = kNone;   // the first entry with the name
  };

  // Entries before `first` are not indexed (HPACK's index 0 is a placeholder).
  constexpr explicit StaticIndex(const Header (&table)[N], std::size_t first = 0)
      : table_(table) {
    for (std::size_t i = first; i < N; ++i) {
      std::size_t s = hash(table[i].name) & (kSlots - 1);
      while (slot_[s] != 0 && table[slot_[s] - 1].name != table[i].name) s = (s + 1) & (kSlots - 1);
      if (slot_[s] == 0) {
        slot_[s] = static_cast<std::uint8_t>(i + 1);
        continue;
      }
      std::size_t last = slot_[s] - 1u;
      while (next_[last] != 0) last = next_[last] - 1u;
      next_[last] = static_cast<std::uint8_t>(i + 1);
    }
  }

  Match find(std::string_view name, std::string_view value) const {
    Match m;
    std::size_t s = hash(name) & (kSlots - 1);
    while (true) {
      const std::size_t i = slot_[s];
      if (i == 0) return m;
      if (table_[i - 1].name == name) break;
      s = (s + 1) & (kSlots - 1);
    }
    m.name = slot_[s] - 1u;
    for (std::size_t i = m.name; i != kNone; i = next_[i] ? next_[i] - 1u : kNone) {
      if (table_[i].value == value) {
        m.exact = i;
        break;
      }
    }
    return m;
  }

 private:
  static constexpr std::size_t kSlots = 256;  // a power of two, over twice the entries

  static constexpr std::uint32_t hash(std::string_view s) {
    std::uint32_t h = 2166136261u;  // FNV-1a
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
  }

  const Header* table_;
  std::uint8_t slot_[kSlots] = {};  // 1 + a name's first entry, 0: empty
  std::uint8_t next_[N] = {};       // 1 + the next entry with the same name, 0: none
};

}  // namespace ruvicorn
