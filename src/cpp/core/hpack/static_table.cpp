// Lookups in the static table through the compile-time index of util/static_index.hpp.
#include "hpack/static_table.hpp"

#include "util/static_index.hpp"

namespace ruvicorn::hpack {

namespace {
constexpr StaticIndex<kStaticCount + 1> kIndex(kStatic, 1);
}  // namespace

StaticMatch static_find(std::string_view name, std::string_view value) {
  const auto m = kIndex.find(name, value);
  StaticMatch out;
  if (m.exact != kIndex.kNone) out.exact = m.exact;
  if (m.name != kIndex.kNone) out.name_index = m.name;
  return out;
}

}  // namespace ruvicorn::hpack
