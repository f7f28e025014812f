// Lookups in the static table: an open-addressing hash of its distinct names, built at compile
// time, so the encoder does not compare a field's name with 61 strings.
#include "hpack/static_table.hpp"

#include <cstdint>

namespace ruvicorn::hpack {

namespace {

constexpr std::size_t kSlots = 128;  // a power of two, over twice the 52 distinct names

constexpr std::uint32_t name_hash(std::string_view s) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

struct NameSlots {
  std::uint8_t index[kSlots] = {};  // first static index of a name, 0 = empty slot
};

constexpr NameSlots build_slots() {
  NameSlots slots;
  for (std::size_t i = 1; i <= kStaticCount; ++i) {
    if (kStatic[i].name == kStatic[i - 1].name) continue;  // same name as the previous entry
    std::size_t s = name_hash(kStatic[i].name) & (kSlots - 1);
    while (slots.index[s] != 0) s = (s + 1) & (kSlots - 1);
    slots.index[s] = static_cast<std::uint8_t>(i);
  }
  return slots;
}

constexpr NameSlots kSlotsTable = build_slots();

}  // namespace

StaticMatch static_find(std::string_view name, std::string_view value) {
  StaticMatch m;
  for (std::size_t s = name_hash(name) & (kSlots - 1);; s = (s + 1) & (kSlots - 1)) {
    const std::size_t i = kSlotsTable.index[s];
    if (i == 0) return m;
    if (kStatic[i].name == name) {
      m.name_index = i;
      break;
    }
  }
  for (std::size_t i = m.name_index; i <= kStaticCount && kStatic[i].name == name; ++i) {
    if (kStatic[i].value == value) {
      m.exact = i;
      break;
    }
  }
  return m;
}

}  // namespace ruvicorn::hpack
