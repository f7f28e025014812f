// The QPACK encoder (RFC 9204 4.5) without a dynamic table: static references and literals.
#include <charconv>

#include "hpack/integer.hpp"
#include "hpack/literal.hpp"
#include "qpack/static_table.hpp"
#include "ruvicorn/qpack.hpp"
#include "util/static_index.hpp"

namespace ruvicorn::qpack {

namespace {

using hpack::encode_int;
using hpack::encode_string;

constexpr StaticIndex<kStaticCount> kIndex(kStatic);
constexpr std::size_t kStatusName = 24;  // ":status" "103", the first :status entry

// 7.1.3: values that must not be indexed by intermediaries either.
bool sensitive(std::string_view name) {
  switch (name.size()) {
    case 6: return name == "cookie";
    case 10: return name == "set-cookie";
    case 13: return name == "authorization";
    case 19: return name == "proxy-authorization";
    default: return false;
  }
}

void value_literal(std::string_view value, std::string& out) {
  encode_string(out, 0x00, 0x80, 7, value);
}

}  // namespace

void Encoder::begin(std::string& out) {
  out.push_back('\0');  // Required Insert Count 0
  out.push_back('\0');  // Sign 0, Delta Base 0
}

void Encoder::status(int code, std::string& out) {
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, code).ptr;
  const std::string_view value(digits, static_cast<std::size_t>(end - digits));
  const auto m = kIndex.find(":status", value);
  if (m.exact != kIndex.kNone) {
    encode_int(out, 0xc0, 6, m.exact);  // indexed, static (4.5.2)
    return;
  }
  encode_int(out, 0x50, 4, kStatusName);  // literal, static name reference (4.5.4)
  value_literal(value, out);
}

void Encoder::field(std::string_view name, std::string_view value, std::string& out) {
  const auto m = kIndex.find(name, value);
  if (m.exact != kIndex.kNone) {
    encode_int(out, 0xc0, 6, m.exact);
    return;
  }
  const bool never = sensitive(name);
  if (m.name != kIndex.kNone) {
    encode_int(out, 0x50 | (never ? 0x20 : 0), 4, m.name);  // 01 N T=1 index(4)
  } else {
    encode_string(out, 0x20 | (never ? 0x10 : 0), 0x08, 3, name);  // 001 N H length(3)
  }
  value_literal(value, out);
}

}  // namespace ruvicorn::qpack
