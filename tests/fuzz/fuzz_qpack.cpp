// Fuzz target for QPACK without a dynamic table (ruvicorn/qpack.hpp). Byte 0 picks the section
// limit; byte 1 how the rest is read: as a raw field section, as a little program that writes
// well-formed representations (so mutations reach past the first error), or as encoder and
// decoder stream instructions fed in pieces. Checks: decoded fields are readable (ASan catches a
// view past its bytes) and within the limit; every section decoded in full round-trips through
// our Encoder to the same list.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hpack/integer.hpp"
#include "ruvicorn/qpack.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace ruvicorn;
using namespace ruvicorn::qpack;

volatile unsigned g_sink;

using fuzz::violated;

// A section from `in`: op bytes pick a representation, the next bytes its contents.
std::string program_section(std::string_view in) {
  std::string s;
  std::size_t i = 0;
  auto next = [&]() -> unsigned { return i < in.size() ? static_cast<unsigned char>(in[i++]) : 0; };
  auto literal = [&](unsigned char first, unsigned char huffman, unsigned prefix) {
    const std::size_t len = std::min<std::size_t>(next() % 48, in.size() - std::min(i, in.size()));
    const std::string_view text = in.substr(std::min(i, in.size()), len);
    i += len;
    if (next() & 1) {
      std::string coded;
      hpack::huffman_encode(text, coded);
      hpack::encode_int(s, first | huffman, prefix, coded.size());
      s += coded;
    } else {
      hpack::encode_int(s, first, prefix, text.size());
      s.append(text);
    }
  };
  hpack::encode_int(s, 0, 8, next() % 4 == 0 ? next() % 3 : 0);  // Required Insert Count
  hpack::encode_int(s, next() % 8 == 0 ? 0x80 : 0, 7, next() % 3);
  while (i < in.size() && s.size() < 4096) {
    const unsigned op = next();
    switch (op % 6) {
      case 0: hpack::encode_int(s, 0xc0, 6, next() % 110); break;  // static, some out of range
      case 1:
        hpack::encode_int(s, 0x50 | (op & 0x20), 4, next() % 110);
        literal(0x00, 0x80, 7);
        break;
      case 2:
        literal(0x20 | (op & 0x10), 0x08, 3);
        literal(0x00, 0x80, 7);
        break;
      case 3: hpack::encode_int(s, 0x80, 6, next() % 8); break;  // dynamic: an error
      case 4: s.push_back(static_cast<char>(next())); break;     // a raw byte
      default: hpack::encode_int(s, op & 0x10, 4, next() % 8); break;  // post-base: an error
    }
  }
  return s;
}

void check_section(std::string_view section, std::size_t limit) {
  Decoder d(limit);
  std::vector<Header> fields;
  bool oversize = false;
  if (d.decode(section, fields, oversize)) return;
  std::size_t size = 0;
  for (const Header& h : fields) {
    for (char c : h.name) g_sink += static_cast<unsigned char>(c);
    for (char c : h.value) g_sink += static_cast<unsigned char>(c);
    size += h.name.size() + h.value.size() + kFieldOverhead;
  }
  if (size > limit) violated("decoded fields exceed the section limit");
  if (oversize) return;
  std::vector<std::pair<std::string, std::string>> before;
  for (const Header& h : fields) before.emplace_back(h.name, h.value);
  std::string again;
  Encoder::begin(again);
  for (const auto& [n, v] : before) Encoder::field(n, v, again);
  Decoder second(limit);
  std::vector<Header> round;
  if (second.decode(again, round, oversize) || oversize) violated("our own section fails");
  if (round.size() != before.size()) violated("round trip changed the field count");
  for (std::size_t k = 0; k < round.size(); ++k) {
    if (round[k].name != before[k].first || round[k].value != before[k].second) {
      violated("round trip changed a field");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const std::size_t kLimits[] = {0, 32, 64, 200, 4096, 65536, 1 << 20, 100};
  const std::size_t limit = kLimits[data[0] % 8];
  const std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (data[1] % 4) {
    case 0: check_section(in, limit); break;
    case 1: case 2: check_section(program_section(in), limit); break;
    default: {
      // The same bytes as encoder and decoder stream instructions, in pieces of varying size.
      EncoderStreamReader enc;
      DecoderStreamReader dec;
      bool enc_failed = false, dec_failed = false;
      for (std::size_t at = 0; at < in.size();) {
        const std::size_t n = 1 + (static_cast<unsigned char>(in[at]) % 7);
        const std::string_view piece = in.substr(at, n);
        if (!enc_failed) enc_failed = static_cast<bool>(enc.feed(piece));
        if (!dec_failed) dec_failed = static_cast<bool>(dec.feed(piece));
        at += n;
      }
      break;
    }
  }
  return 0;
}
