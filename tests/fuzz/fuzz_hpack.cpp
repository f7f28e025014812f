// Fuzz target for the HPACK decoder and encoder. Byte 0 picks the limits (small tables and list
// limits, so evictions and oversize blocks happen), byte 1 how the rest is read: as raw header
// blocks, or as a little program that writes well-formed representations (so that mutations
// reach deep into valid blocks, not only the first error), or (0xff) as a Huffman string. Checks: the table never exceeds its
// limit, decoded fields are readable (ASan catches a view past its bytes) and within the list
// limit, and every block decoded in full round-trips: our Encoder's block for the same fields
// decodes (on a second decoder) to the same list, with both tables in step.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "hpack/integer.hpp"
#include "ruvicorn/hpack.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace ruvicorn;
using namespace ruvicorn::hpack;

volatile unsigned g_sink;

using fuzz::violated;

// Writes blocks from `in`: each op byte picks a representation, the next bytes its contents.
std::vector<std::string> program_blocks(std::string_view in) {
  std::vector<std::string> blocks(1);
  std::size_t i = 0;
  auto next = [&]() -> unsigned { return i < in.size() ? static_cast<unsigned char>(in[i++]) : 0; };
  auto literal = [&](std::string& out, std::size_t max) {
    const unsigned flags = next();
    const std::size_t len = std::min<std::size_t>(next() % (max + 1), in.size() - std::min(i, in.size()));
    std::string s(in.substr(std::min(i, in.size()), len));
    i += len;
    if (flags & 1) s.assign(len * (flags >> 4), static_cast<char>('a' + flags % 26));  // long runs
    if (flags & 2) {
      encode_int(out, 0x80, 7, huffman_encoded_size(s));
      huffman_encode(s, out);
    } else {
      encode_int(out, 0x00, 7, s.size());
      out += s;
    }
  };
  while (i < in.size() && blocks.size() < 16) {
    std::string& b = blocks.back();
    const unsigned op = next();
    switch (op % 8) {
      case 0: encode_int(b, 0x80, 7, 1 + next() % 61); break;         // static
      case 1: encode_int(b, 0x80, 7, 62 + next() % 8); break;         // dynamic (may be past)
      case 2:                                                         // literal name, indexed
        encode_int(b, 0x40, 6, 0);
        literal(b, 24);
        literal(b, 80);
        break;
      case 3:  // indexed name (static or dynamic), with, without or never indexing
      case 4:
      case 5: {
        const unsigned char first = op % 8 == 3 ? 0x40 : op % 8 == 4 ? 0x00 : 0x10;
        encode_int(b, first, first == 0x40 ? 6 : 4, 1 + next() % 66);
        literal(b, 80);
        break;
      }
      case 6: encode_int(b, 0x20, 5, next() * 17); break;  // size update (maybe misplaced)
      default: blocks.emplace_back(); break;
    }
  }
  return blocks;
}

std::size_t list_size(const std::vector<Header>& fields) {
  std::size_t n = 0;
  for (const Header& h : fields) n += h.name.size() + h.value.size() + kEntryOverhead;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t config = data[0];
  const std::uint8_t mode = data[1];
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  static const std::size_t kTables[] = {0, 64, 256, 4096};
  static const std::size_t kLists[] = {0, 100, 1000, 1 << 16};
  const std::size_t table_limit = kTables[config & 3];
  const std::size_t max_list = kLists[(config >> 2) & 3];

  // The Huffman decoder, whole and cut short at a cap: same verdict, same length, same prefix.
  if (mode == 0xff) {
    std::string whole;
    const bool valid = huffman_decode(rest, whole);
    std::string part(config, '\0');
    const std::size_t n = huffman_decode(rest, part.data(), part.size());
    if (valid != (n != kHuffmanInvalid) || (valid && n != whole.size())) violated("Huffman cap");
    if (valid && whole.compare(0, std::min(n, part.size()), part, 0, std::min(n, part.size())) != 0) {
      violated("Huffman prefix");
    }
    if (valid) {
      std::string again;
      huffman_encode(whole, again);
      std::string back;
      if (!huffman_decode(again, back) || back != whole) violated("Huffman round trip");
    }
    return 0;
  }

  std::vector<std::string> blocks;
  if (mode & 1) {  // raw: one block, or pieces of (mode >> 2) + 1 bytes
    const std::size_t piece = (mode & 2) ? rest.size() + 1 : std::size_t(mode >> 2) + 1;
    for (std::size_t at = 0; at < rest.size(); at += piece) blocks.emplace_back(rest.substr(at, piece));
  } else {
    blocks = program_blocks(rest);
  }

  Decoder decoder(table_limit, max_list);
  Encoder encoder((config & 0x10) ? 256 : 4096);
  Decoder mirror(4096, std::size_t(1) << 24);
  std::vector<Header> fields, again;
  for (const std::string& block : blocks) {
    bool oversize = false;
    const DecodeError err = decoder.decode(block, fields, oversize);
    if (decoder.table().size() > decoder.table().max_size()) violated("table over its size");
    if (decoder.table().max_size() > table_limit) violated("table over the limit");
    if (err) return 0;  // a connection error: the connection ends here
    if (list_size(fields) > max_list) violated("list over the limit");
    unsigned sum = 0;  // read every byte handed out
    for (const Header& h : fields) {
      for (char c : h.name) sum += static_cast<unsigned char>(c);
      for (char c : h.value) sum += static_cast<unsigned char>(c);
    }
    g_sink = sum;
    if (oversize) continue;

    // Round trip through our encoder, with a table size change now and then.
    if ((config & 0x20) && block.size() % 3 == 0) encoder.set_peer_table_size(block.size() * 7);
    std::string out;
    encoder.begin(out);
    for (const Header& h : fields) encoder.field(h.name, h.value, out);
    bool over = false;
    if (mirror.decode(out, again, over) || over) violated("our block does not decode");
    if (again.size() != fields.size()) violated("round trip changed the field count");
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (again[i].name != fields[i].name || again[i].value != fields[i].value) {
        violated("round trip changed a field");
      }
    }
    if (mirror.table().size() != encoder.table().size() ||
        mirror.table().count() != encoder.table().count()) {
      violated("encoder and decoder tables differ");
    }
  }
  return 0;
}
