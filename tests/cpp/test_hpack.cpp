// HPACK (RFC 7541): the Appendix C examples, integers, Huffman, every decoding error, the header
// list limit (oversize blocks keep the table in step, HPACK bombs cost bounded memory), view
// stability, encoder/decoder round trips with table size changes, and memory that follows use.
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../../src/cpp/core/hpack/integer.hpp"
#include "../../src/cpp/core/hpack/static_table.hpp"
#include "check.hpp"
#include "counting_new.hpp"  // the bomb and steady-state tests count allocations
#include "ruvicorn/buffer_pool.hpp"
#include "ruvicorn/hpack.hpp"
#include "util/free_memory.hpp"

using namespace ruvicorn;
using namespace ruvicorn::hpack;

namespace {

// An owned header list, comparable and printable for CHECK_EQ.
struct Fields {
  std::vector<std::pair<std::string, std::string>> v;
  Fields() = default;
  Fields(std::initializer_list<std::pair<std::string, std::string>> l) : v(l) {}
  bool operator==(const Fields& o) const { return v == o.v; }
  bool operator!=(const Fields& o) const { return v != o.v; }
  friend std::ostream& operator<<(std::ostream& s, const Fields& f) {
    s << "[";
    for (const auto& [n, v] : f.v) s << " (" << n << ": " << v << ")";
    return s << " ]";
  }
};

std::string hex(std::string_view text) {
  std::string out;
  int hi = -1;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else continue;
    if (hi < 0) {
      hi = d;
    } else {
      out.push_back(static_cast<char>(hi * 16 + d));
      hi = -1;
    }
  }
  return out;
}

Fields owned(const std::vector<Header>& h) {
  Fields f;
  for (const Header& x : h) f.v.emplace_back(std::string(x.name), std::string(x.value));
  return f;
}

Fields table_of(const DynamicTable& t) {  // newest first, as RFC 7541 Appendix C lists them
  Fields f;
  for (std::size_t i = 0; i < t.count(); ++i) {
    f.v.emplace_back(std::string(t.at(i).name), std::string(t.at(i).value));
  }
  return f;
}

struct Result {
  std::string error;
  Fields fields;
  bool oversize = false;
};

Result decode(Decoder& d, std::string_view block) {
  std::vector<Header> fields;
  bool oversize = true;
  const DecodeError err = d.decode(block, fields, oversize);
  return {std::string(err.reason), owned(fields), oversize};
}

std::string error_of(std::string_view block, std::size_t table_limit = 4096) {
  Decoder d(table_limit, 1 << 16);
  return decode(d, block).error;
}

// ---- RFC 7541 Appendix C ----

TEST(integer_examples_c1) {
  std::string out;
  encode_int(out, 0x00, 5, 10);  // C.1.1
  CHECK_EQ(out, hex("0a"));
  out.clear();
  encode_int(out, 0xe0, 5, 1337);  // C.1.2 (the high bits belong to the representation)
  CHECK_EQ(out, hex("ff 9a 0a"));
  out.clear();
  encode_int(out, 0x00, 8, 42);  // C.1.3
  CHECK_EQ(out, hex("2a"));
  for (const char* in : {"0a", "ff9a0a"}) {
    const std::string b = hex(in);
    const auto* p = reinterpret_cast<const unsigned char*>(b.data());
    std::uint64_t v = 0;
    CHECK(decode_int(p, p + b.size(), 5, v) == IntStatus::kOk);
    CHECK_EQ(v, std::uint64_t(b.size() == 1 ? 10 : 1337));
    CHECK(p == reinterpret_cast<const unsigned char*>(b.data()) + b.size());
  }
}

TEST(c2_single_representations) {
  {
    Decoder d(4096, 65536);  // C.2.1 literal with indexing
    const Result r = decode(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    CHECK_EQ(r.error, "");
    CHECK_EQ(r.fields, (Fields{{"custom-key", "custom-header"}}));
    CHECK_EQ(table_of(d.table()), (Fields{{"custom-key", "custom-header"}}));
    CHECK_EQ(d.table().size(), 55u);
  }
  {
    Decoder d(4096, 65536);  // C.2.2 literal without indexing
    const Result r = decode(d, hex("040c 2f73 616d 706c 652f 7061 7468"));
    CHECK_EQ(r.fields, (Fields{{":path", "/sample/path"}}));
    CHECK_EQ(d.table().count(), 0u);
  }
  {
    Decoder d(4096, 65536);  // C.2.3 literal never indexed
    const Result r = decode(d, hex("1008 7061 7373 776f 7264 0673 6563 7265 74"));
    CHECK_EQ(r.fields, (Fields{{"password", "secret"}}));
    CHECK_EQ(d.table().count(), 0u);
  }
  {
    Decoder d(4096, 65536);  // C.2.4 indexed
    CHECK_EQ(decode(d, hex("82")).fields, (Fields{{":method", "GET"}}));
    CHECK_EQ(d.table().count(), 0u);
  }
}

const Fields kRequest1{{":method", "GET"}, {":scheme", "http"}, {":path", "/"},
                       {":authority", "www.example.com"}};
const Fields kRequest2{{":method", "GET"}, {":scheme", "http"}, {":path", "/"},
                       {":authority", "www.example.com"}, {"cache-control", "no-cache"}};
const Fields kRequest3{{":method", "GET"}, {":scheme", "https"}, {":path", "/index.html"},
                       {":authority", "www.example.com"}, {"custom-key", "custom-value"}};

void request_sequence(const char* b1, const char* b2, const char* b3) {
  Decoder d(4096, 65536);
  Result r = decode(d, hex(b1));
  CHECK_EQ(r.error, "");
  CHECK_EQ(r.fields, kRequest1);
  CHECK_EQ(table_of(d.table()), (Fields{{":authority", "www.example.com"}}));
  CHECK_EQ(d.table().size(), 57u);
  r = decode(d, hex(b2));
  CHECK_EQ(r.fields, kRequest2);
  CHECK_EQ(table_of(d.table()),
           (Fields{{"cache-control", "no-cache"}, {":authority", "www.example.com"}}));
  CHECK_EQ(d.table().size(), 110u);
  r = decode(d, hex(b3));
  CHECK_EQ(r.fields, kRequest3);
  CHECK_EQ(table_of(d.table()), (Fields{{"custom-key", "custom-value"},
                                        {"cache-control", "no-cache"},
                                        {":authority", "www.example.com"}}));
  CHECK_EQ(d.table().size(), 164u);
}

TEST(c3_requests_without_huffman) {
  request_sequence("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                   "8286 84be 5808 6e6f 2d63 6163 6865",
                   "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65");
}

TEST(c4_requests_with_huffman) {
  request_sequence("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                   "8286 84be 5886 a8eb 1064 9cbf",
                   "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");
}

const char* const kDate1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const char* const kDate2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const char* const kLocation = "https://www.example.com";
const char* const kCookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

// C.5 and C.6: SETTINGS_HEADER_TABLE_SIZE 256, so entries are evicted.
void response_sequence(const char* b1, const char* b2, const char* b3) {
  Decoder d(256, 65536);
  Result r = decode(d, hex(b1));
  CHECK_EQ(r.error, "");
  CHECK_EQ(r.fields, (Fields{{":status", "302"}, {"cache-control", "private"}, {"date", kDate1},
                             {"location", kLocation}}));
  CHECK_EQ(table_of(d.table()), (Fields{{"location", kLocation}, {"date", kDate1},
                                        {"cache-control", "private"}, {":status", "302"}}));
  CHECK_EQ(d.table().size(), 222u);
  r = decode(d, hex(b2));  // evicts (:status, 302)
  CHECK_EQ(r.error, "");
  CHECK_EQ(r.fields, (Fields{{":status", "307"}, {"cache-control", "private"}, {"date", kDate1},
                             {"location", kLocation}}));
  CHECK_EQ(table_of(d.table()), (Fields{{":status", "307"}, {"location", kLocation},
                                        {"date", kDate1}, {"cache-control", "private"}}));
  CHECK_EQ(d.table().size(), 222u);
  r = decode(d, hex(b3));  // evicts three entries, one of them while the block refers to it
  CHECK_EQ(r.error, "");
  CHECK_EQ(r.fields, (Fields{{":status", "200"}, {"cache-control", "private"}, {"date", kDate2},
                             {"location", kLocation}, {"content-encoding", "gzip"},
                             {"set-cookie", kCookie}}));
  CHECK_EQ(table_of(d.table()), (Fields{{"set-cookie", kCookie}, {"content-encoding", "gzip"},
                                        {"date", kDate2}}));
  CHECK_EQ(d.table().size(), 215u);
}

TEST(c5_responses_without_huffman) {
  response_sequence(
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
      "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
      "6c65 2e63 6f6d",
      "4803 3330 37c1 c0bf",
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
      "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
      "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
      "3d31");
}

TEST(c6_responses_with_huffman) {
  response_sequence(
      "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
      "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
      "4883 640e ffc1 c0bf",
      "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
      "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
      "9587 3160 65c0 03ed 4ee5 b106 3d50 07");
}

// ---- Huffman ----

const std::pair<const char*, const char*> kHuffmanVectors[] = {  // from Appendix C.4 and C.6
    {"www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"},
    {"no-cache", "a8eb 1064 9cbf"},
    {"custom-key", "25a8 49e9 5ba9 7d7f"},
    {"custom-value", "25a8 49e9 5bb8 e8b4 bf"},
    {"302", "6402"},
    {"private", "aec3 771a 4b"},
    {"Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"},
    {"https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"},
    {"gzip", "9bd9 ab"},
    {"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
     "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0"
     "03ed 4ee5 b106 3d50 07"},
};

TEST(huffman_rfc_vectors) {
  for (const auto& [text, coded] : kHuffmanVectors) {
    std::string out;
    huffman_encode(text, out);
    CHECK_EQ(out, hex(coded));
    CHECK_EQ(huffman_encoded_size(text), hex(coded).size());
    std::string back = "prefix:";
    CHECK(huffman_decode(hex(coded), back));
    CHECK_EQ(back, std::string("prefix:") + text);
  }
}

TEST(huffman_round_trips_every_byte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string s = round == 0 ? all : std::string(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(round % 2 ? rng() : 'a' + rng() % 26);
    std::string coded, back;
    huffman_encode(s, coded);
    CHECK_EQ(coded.size(), huffman_encoded_size(s));
    CHECK(huffman_decode(coded, back));
    CHECK(back == s);
  }
}

TEST(huffman_rejects_eos_and_bad_padding) {
  std::string out;
  CHECK(huffman_decode("", out));
  CHECK(huffman_decode(hex("1f"), out));  // 'a' (00011) + 3 bits of ones
  CHECK_EQ(out, "a");
  CHECK(!huffman_decode(hex("18"), out));           // padding 000: not ones
  CHECK(!huffman_decode(hex("1e"), out));           // padding 110
  CHECK(!huffman_decode(hex("ff"), out));           // 8 bits of padding
  CHECK(!huffman_decode(hex("1fff"), out));         // 'a' then 11 bits of ones
  CHECK(!huffman_decode(hex("ffff ffff"), out));    // EOS (30 ones) then 2 ones
  CHECK(!huffman_decode(hex("1fff ffff fc"), out)); // 'a', then EOS's 30 ones and 2 zeros
  // A symbol of 30 bits ('\x16' is 0x3ffffffe) decodes; EOS next to it is refused.
  std::string s(1, '\x16');
  std::string coded;
  huffman_encode(s, coded);
  out.clear();
  CHECK(huffman_decode(coded, out));
  CHECK_EQ(out, s);
  CHECK_EQ(out.size(), 1u);
  out = "keep";
  CHECK(!huffman_decode(hex("ffff ffff"), out));
  CHECK_EQ(out, "keep");  // unchanged on error
}

TEST(huffman_bounded_decode_measures_past_cap) {
  const std::string coded = hex(kHuffmanVectors[0].second);  // www.example.com, 15 bytes
  char buf[8];
  std::memset(buf, '#', sizeof buf);
  CHECK_EQ(huffman_decode(coded, buf, 4), 15u);
  CHECK_EQ(std::string(buf, 8), "www.####");  // nothing past the cap
  CHECK_EQ(huffman_decode(coded, nullptr, 0), 15u);
  CHECK_EQ(huffman_decode(hex("ff"), nullptr, 0), kHuffmanInvalid);
}

// ---- integers ----

TEST(integer_limits) {
  auto dec = [](const std::string& b, unsigned prefix, std::uint64_t& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(b.data());
    return decode_int(p, p + b.size(), prefix, v);
  };
  std::uint64_t v = 0;
  CHECK(dec(hex("1e"), 5, v) == IntStatus::kOk);
  CHECK_EQ(v, 30u);
  CHECK(dec(hex("1f00"), 5, v) == IntStatus::kOk);
  CHECK_EQ(v, 31u);
  CHECK(dec(hex("1f"), 5, v) == IntStatus::kTruncated);
  CHECK(dec(hex("1f9a"), 5, v) == IntStatus::kTruncated);
  // Round trip at the edges of each prefix and of 32 bits.
  for (unsigned prefix = 4; prefix <= 8; ++prefix) {
    for (std::uint64_t x : {0ull, 1ull, (1ull << prefix) - 2, (1ull << prefix) - 1, 1ull << prefix,
                            127ull + (1ull << prefix), 0xffffffffull}) {
      std::string b;
      encode_int(b, 0, prefix, x);
      CHECK(dec(b, prefix, v) == IntStatus::kOk);
      CHECK_EQ(v, x);
    }
    std::string b;
    encode_int(b, 0, prefix, 0x100000000ull);  // one past what a block may carry
    CHECK(dec(b, prefix, v) == IntStatus::kOverflow);
  }
  // Six continuation bytes, even of zeros, are more than any legitimate integer needs.
  CHECK(dec(hex("1f 80 80 80 80 80 00"), 5, v) == IntStatus::kOverflow);
  CHECK(dec(hex("1f ff ff ff ff 7f"), 5, v) == IntStatus::kOverflow);
}

// ---- the static table ----

TEST(static_table_lookups) {
  CHECK_EQ(kStatic[1].name, ":authority");
  CHECK_EQ(kStatic[16].value, "gzip, deflate");
  CHECK_EQ(kStatic[33].name, "date");
  CHECK_EQ(kStatic[61].name, "www-authenticate");
  for (std::size_t i = 1; i <= kStaticCount; ++i) {
    const StaticMatch m = static_find(kStatic[i].name, kStatic[i].value);
    CHECK_EQ(m.exact, i);
    CHECK(m.name_index <= i && kStatic[m.name_index].name == kStatic[i].name);
    CHECK(m.name_index == 1 || kStatic[m.name_index - 1].name != kStatic[i].name);
  }
  CHECK_EQ(static_find(":status", "201").exact, 0u);
  CHECK_EQ(static_find(":status", "201").name_index, 8u);
  CHECK_EQ(static_find("x-custom", "").name_index, 0u);
  CHECK_EQ(static_find("Date", "").name_index, 0u);  // case matters: names are lower-case
}

// ---- the dynamic table ----

TEST(dynamic_table_eviction_and_resizing) {
  DynamicTable t(100);
  t.add("a", "1");  // 34
  t.add("b", "22");  // 35
  CHECK_EQ(t.size(), 69u);
  t.add("c", "333");  // 36: evicts a
  CHECK_EQ(table_of(t), (Fields{{"c", "333"}, {"b", "22"}}));
  CHECK_EQ(t.size(), 71u);
  t.set_max_size(40);
  CHECK_EQ(table_of(t), (Fields{{"c", "333"}}));
  t.add(std::string(9, 'x'), "");  // 41 > 40: empties the table (RFC 7541 4.4)
  CHECK_EQ(t.count(), 0u);
  CHECK_EQ(t.size(), 0u);
  t.set_max_size(0);
  t.add("", "");
  CHECK_EQ(t.count(), 0u);
  t.set_max_size(300);  // grows past the storage first allocated
  for (int i = 0; i < 8; ++i) t.add("k" + std::to_string(i), std::string(20, char('a' + i)));
  CHECK_EQ(t.count(), 5u);  // 8 entries of 54 bytes, 300 holds 5
  CHECK_EQ(t.at(0).name, "k7");
  CHECK_EQ(t.at(4).name, "k3");
  CHECK_EQ(t.at(4).value, std::string(20, 'd'));
}

TEST(dynamic_table_add_from_its_own_entries) {
  // A literal with indexing whose name refers to an entry that the insertion evicts, with the
  // buffer compacted on the way: the new entry must still carry that name.
  DynamicTable t(128);
  for (int round = 0; round < 200; ++round) {
    const Header oldest = t.count() ? t.at(t.count() - 1) : Header{"seed-name", "v"};
    const std::string name(oldest.name), value(oldest.value);
    t.add(oldest.name, oldest.value);
    CHECK_EQ(std::string(t.at(0).name), name);
    CHECK_EQ(std::string(t.at(0).value), value);
    t.add("n" + std::to_string(round % 7), std::string(round % 40, 'z'));
    CHECK(t.size() <= 128u);
  }
}

TEST(dynamic_table_matches_a_model) {
  // Random insertions (new strings, and names and values taken from the table's own entries,
  // which the insertion may evict or move) and resizes, against a plain list of copies.
  std::mt19937 rng(5);
  for (std::size_t limit : {0, 40, 128, 300, 4096}) {
    DynamicTable t(limit);
    Fields model;
    std::size_t max = limit;
    auto model_size = [&] {
      std::size_t n = 0;
      for (const auto& [a, b] : model.v) n += a.size() + b.size() + kEntryOverhead;
      return n;
    };
    for (int op = 0; op < 5000; ++op) {
      const unsigned r = rng() % 16;
      if (r == 0) {
        max = limit == 0 ? 0 : rng() % (limit + 1);
        t.set_max_size(max);
        while (model_size() > max) model.v.pop_back();
      } else {
        std::string_view name, value;
        std::string fresh_name(rng() % (max / 2 + 2), char('a' + rng() % 26));
        std::string fresh_value(rng() % (max / 2 + 2), char('A' + rng() % 26));
        name = fresh_name;
        value = fresh_value;
        if (t.count() > 0 && r < 10) name = t.at(rng() % t.count()).name;
        if (t.count() > 0 && r < 6) value = t.at(rng() % t.count()).value;
        const std::pair<std::string, std::string> copy{std::string(name), std::string(value)};
        t.add(name, value);
        if (copy.first.size() + copy.second.size() + kEntryOverhead > max) {
          model.v.clear();
        } else {
          model.v.insert(model.v.begin(), copy);
          while (model_size() > max) model.v.pop_back();
        }
      }
      CHECK_EQ(t.size(), model_size());
      CHECK(t.size() <= t.max_size());
      if (table_of(t) != model) {
        CHECK_EQ(table_of(t), model);
        break;
      }
    }
  }
}

// ---- decoding errors (every one is a COMPRESSION_ERROR) ----

TEST(decoder_errors) {
  CHECK_EQ(error_of(hex("80")), "index 0");
  CHECK_EQ(error_of(hex("be")), "index past the dynamic table");      // 62, empty table
  CHECK_EQ(error_of(hex("7e 01 61")), "index past the dynamic table");  // literal name 62
  CHECK_EQ(error_of(hex("ff ff ff ff ff 7f")), "integer overflow");
  CHECK_EQ(error_of(hex("ff 80 80 80 80 80 00")), "integer overflow");
  CHECK_EQ(error_of(hex("ff")), "truncated integer");
  CHECK_EQ(error_of(hex("82 ff 80")), "truncated integer");
  CHECK_EQ(error_of(hex("00")), "truncated string");             // no name
  CHECK_EQ(error_of(hex("00 01 61")), "truncated string");       // no value
  CHECK_EQ(error_of(hex("00 05 61 62")), "string longer than the block");
  CHECK_EQ(error_of(hex("00 01 61 82 1f")), "string longer than the block");
  CHECK_EQ(error_of(hex("00 01 61 7f")), "truncated integer");   // value length
  CHECK_EQ(error_of(hex("00 01 61 84 ffffffff")), "invalid Huffman code");  // EOS
  CHECK_EQ(error_of(hex("00 01 61 81 ff")), "invalid Huffman code");        // 8 bits padding
  CHECK_EQ(error_of(hex("00 01 61 81 18")), "invalid Huffman code");        // padding 000
  CHECK_EQ(error_of(hex("00 81 ff 01 61")), "invalid Huffman code");        // in the name
  CHECK_EQ(error_of(hex("40 81 ff 01 61")), "invalid Huffman code");        // indexed literal
  CHECK_EQ(error_of(hex("00 01 61 81 1f")), "");                            // "a: a"
  // Dynamic table size updates: up to our limit, several, but only before the first field.
  CHECK_EQ(error_of(hex("3f e2 1f")), "dynamic table size update above the limit");  // 4097
  CHECK_EQ(error_of(hex("3f e1 1f 82")), "");                                        // 4096
  CHECK_EQ(error_of(hex("20 3f e1 1f 20 82")), "");
  CHECK_EQ(error_of(hex("82 20")), "dynamic table size update after a field");
  CHECK_EQ(error_of(hex("3f 01"), 31), "dynamic table size update above the limit");
  CHECK_EQ(error_of(hex("3f 00"), 31), "");
}

TEST(decoder_size_update_evicts) {
  Decoder d(4096, 65536);
  CHECK_EQ(decode(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
               .error, "");
  CHECK_EQ(d.table().count(), 1u);
  Result r = decode(d, hex("20 3f e1 1f be"));  // 0 then 4096: the entry is gone
  CHECK_EQ(r.error, "index past the dynamic table");
  CHECK_EQ(d.table().count(), 0u);
  CHECK_EQ(d.table().max_size(), 4096u);
}

TEST(decoder_survives_random_bytes) {
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; ++i) {
    std::string block(rng() % 64, '\0');
    for (char& c : block) c = static_cast<char>(rng());
    Decoder d(i % 3 ? 64 : 4096, i % 2 ? 100 : 65536);
    std::vector<Header> fields;
    bool oversize = false;
    (void)d.decode(block, fields, oversize);
    CHECK(d.table().size() <= d.table().max_size());
  }
}

// ---- the header list limit ----

std::string literal_indexed(std::string_view name, std::string_view value, bool huffman) {
  std::string b = "\x40";
  for (std::string_view s : {name, value}) {
    if (huffman) {
      encode_int(b, 0x80, 7, huffman_encoded_size(s));
      huffman_encode(s, b);
    } else {
      encode_int(b, 0x00, 7, s.size());
      b.append(s);
    }
  }
  return b;
}

TEST(oversize_block_keeps_the_table_in_step) {
  for (bool huffman : {false, true}) {
    Decoder d(4096, 120);
    // 55 + 55 fit; the third field (an indexed copy of a new entry) does not; the fourth and
    // fifth (literals with indexing, after the limit) must still enter the table.
    std::string block = literal_indexed("custom-key", "custom-header", huffman);
    block += "\xbe";
    block += literal_indexed("other-key", "other-value", huffman);
    block += "\xbe";
    block += literal_indexed("third", std::string(100, 'v'), huffman);
    block += "\x82";
    Result r = decode(d, block);
    CHECK_EQ(r.error, "");
    CHECK(r.oversize);
    CHECK_EQ(r.fields, (Fields{{"custom-key", "custom-header"}, {"custom-key", "custom-header"}}));
    CHECK_EQ(table_of(d.table()), (Fields{{"third", std::string(100, 'v')},
                                          {"other-key", "other-value"},
                                          {"custom-key", "custom-header"}}));
    // The next block refers to the entries added after the limit and decodes right.
    r = decode(d, hex("bf 82"));
    CHECK_EQ(r.error, "");
    CHECK(!r.oversize);
    CHECK_EQ(r.fields, (Fields{{"other-key", "other-value"}, {":method", "GET"}}));
  }
}

TEST(oversize_literal_name_from_the_table) {
  // Over the limit, a literal with indexing whose name is a dynamic-table reference evicting
  // that very entry.
  Decoder d(100, 40);
  std::string block = literal_indexed("name-0123456789", std::string(40, 'x'), true);  // 87
  block += "\x7e";  // literal with indexing, name = index 62
  encode_int(block, 0x80, 7, huffman_encoded_size("short"));
  huffman_encode("short", block);
  Result r = decode(d, block);
  CHECK_EQ(r.error, "");
  CHECK(r.oversize);
  CHECK_EQ(r.fields, Fields{});
  CHECK_EQ(table_of(d.table()), (Fields{{"name-0123456789", "short"}}));
}

TEST(hpack_bomb_costs_bounded_memory) {
  // One 4 KB entry, then 100000 one-byte references to it: 400 MB if expanded. The list limit
  // bounds what is copied, and past it each reference costs no allocation.
  for (std::size_t max_list : {std::size_t(0), std::size_t(8192), std::size_t(65536)}) {
    Decoder d(4096, max_list);
    std::string block = literal_indexed("bomb", std::string(4000, 'b'), false);
    block.append(100000, '\xbe');
    std::vector<Header> fields;
    fields.reserve(4096);
    bool oversize = false;
    const long bytes_before = g_allocated_bytes;
    const DecodeError err = d.decode(block, fields, oversize);
    const long allocated = g_allocated_bytes - bytes_before;
    CHECK(!err);
    CHECK(oversize);
    CHECK_EQ(fields.size(), max_list / 4036);
    CHECK(allocated <= static_cast<long>(2 * max_list + 2 * 4096 + 16384));
    for (const Header& h : fields) CHECK(h.value == std::string(4000, 'b'));
  }
  // The variant through literals with an indexed name and an empty value (2 bytes each), each
  // adding a 4 KB entry: the table copies are inherent to HPACK, but nothing is kept.
  Decoder d(4096, 8192);
  std::string block = literal_indexed(std::string(4000, 'n'), "", false);
  for (int i = 0; i < 20000; ++i) block += std::string("\x7e\x00", 2);
  std::vector<Header> fields;
  bool oversize = false;
  const long bytes_before = g_allocated_bytes;
  CHECK(!d.decode(block, fields, oversize));
  CHECK(oversize);
  CHECK(g_allocated_bytes - bytes_before <= 2 * 8192 + 4 * 4096 + 16384);
  CHECK_EQ(d.table().count(), 1u);
}

TEST(arena_memory_follows_what_is_kept) {
  // Huffman strings of long codes (26 bits a byte) may decode to 1/5 of their worst case: the
  // arena must be sized by what they decode to, within about twice the list limit.
  Decoder d(4096, 65536);
  const std::string name = "x-binary", value(300, '\xff');
  std::string block;
  for (int i = 0; i < 400; ++i) {
    block += '\x00';  // without indexing, literal name
    for (const std::string& s : {name, value}) {
      encode_int(block, 0x80, 7, huffman_encoded_size(s));
      huffman_encode(s, block);
    }
  }
  std::vector<Header> fields;
  fields.reserve(400);
  bool oversize = false;
  const long bytes_before = g_allocated_bytes;
  CHECK(!d.decode(block, fields, oversize));
  CHECK(oversize);
  CHECK_EQ(fields.size(), 65536u / (8 + 300 + 32));
  CHECK(g_allocated_bytes - bytes_before <= 2 * 65536 + 2 * 4096);
  CHECK(fields.back().value == std::string(300, '\xff'));
}

// ---- views ----

TEST(views_survive_evictions_within_the_block) {
  // A small table: every literal with indexing evicts the previous entry, and the table's
  // buffer is compacted; views handed out earlier in the block must keep their bytes.
  for (bool huffman : {false, true}) {
    Decoder d(120, 1 << 16);
    std::string block;
    Fields want;
    for (int i = 0; i < 30; ++i) {
      const std::string name = "name-" + std::to_string(i);
      const std::string value(20 + i % 17, char('a' + i % 26));
      block += literal_indexed(name, value, huffman);
      block += "\xbe";  // the entry just added (copied out of the table)
      want.v.emplace_back(name, value);
      want.v.emplace_back(name, value);
    }
    const Result r = decode(d, block);
    CHECK_EQ(r.error, "");
    CHECK_EQ(r.fields, want);
  }
}

TEST(views_last_until_the_next_decode_and_steady_state_allocates_nothing) {
  Decoder d(4096, 65536);
  // Indexed fields (one from the dynamic table) and Huffman literals without indexing.
  const std::string block = hex("8286 84be 0088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");
  std::vector<Header> fields;
  bool oversize = false;
  CHECK(!d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"), fields, oversize));
  CHECK(!d.decode(block, fields, oversize));
  const long before = g_allocations;
  for (int i = 0; i < 100; ++i) CHECK(!d.decode(block, fields, oversize));
  CHECK_EQ(g_allocations - before, 0);
  CHECK_EQ(owned(fields), (Fields{{":method", "GET"}, {":scheme", "http"}, {":path", "/"},
                                  {":authority", "www.example.com"},
                                  {"custom-key", "custom-value"}}));
}

// ---- the encoder ----

std::string encode_block(Encoder& e, int status, const Fields& f) {
  std::string out;
  e.begin(out);
  if (status) e.status(status, out);
  for (const auto& [n, v] : f.v) e.field(n, v, out);
  return out;
}

TEST(encoder_status) {
  Encoder e;
  std::string out;
  e.begin(out);
  CHECK_EQ(out, "");  // no size update owed
  for (int code : {200, 204, 206, 304, 400, 404, 500}) {
    out.clear();
    e.status(code, out);
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(static_cast<unsigned char>(out[0]), 0x80u | static_find(":status", std::to_string(code)).exact);
  }
  out.clear();
  e.status(302, out);
  CHECK_EQ(out, hex("48 82 6402"));  // literal with indexing, name :status (8), Huffman "302"
  out.clear();
  e.status(302, out);
  CHECK_EQ(out, hex("be"));
}

TEST(encoder_indexing_policy) {
  Encoder e;
  Decoder d(4096, 65536);
  const Fields response{{"content-type", "text/html; charset=utf-8"},
                        {"set-cookie", "session=secret"},
                        {"authorization", "Bearer x"},
                        {"content-length", "1234"},
                        {"x-request-id", "f00d"},
                        {"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
                        {"x-big", std::string(3100, 'b')}};
  std::string out = encode_block(e, 200, response);
  CHECK_EQ(static_cast<unsigned char>(out[1]), 0x40u | 31);  // content-type indexed
  const std::size_t cookie = out.find(hex("1f 28"));          // never indexed, name 55
  CHECK(cookie != std::string::npos);
  CHECK(out.find(hex("0f 0d")) != std::string::npos);  // content-length without indexing
  Result r = decode(d, out);
  CHECK_EQ(r.error, "");
  CHECK_EQ(r.fields.v.size(), 8u);
  CHECK_EQ(table_of(e.table()), (Fields{{"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
                                        {"content-type", "text/html; charset=utf-8"}}));
  CHECK_EQ(table_of(d.table()), table_of(e.table()));
  // The second identical response: the indexed fields cost a byte each.
  out = encode_block(e, 200, Fields{{"content-type", "text/html; charset=utf-8"},
                                    {"date", "Mon, 21 Oct 2013 20:13:21 GMT"}});
  CHECK_EQ(out, hex("88 bf be"));
}

TEST(encoder_second_identical_response_costs_a_few_bytes) {
  Encoder e;
  Decoder d(4096, 65536);
  const Fields response{{"content-type", "application/json"},
                        {"content-length", "1234"},
                        {"server", "ruvicorn"},
                        {"date", "Tue, 14 Apr 2026 10:00:00 GMT"},
                        {"cache-control", "no-store"},
                        {"vary", "accept-encoding"},
                        {"strict-transport-security", "max-age=63072000"}};
  const std::string first = encode_block(e, 200, response);
  const std::string second = encode_block(e, 200, response);
  CHECK_EQ(decode(d, first).fields.v.size(), 8u);
  const Result r = decode(d, second);
  CHECK_EQ(r.fields.v.size(), 8u);
  // :status and six indexed fields in a byte each, content-length (not indexed) in 6.
  CHECK(second.size() <= 13u);
  std::printf("first response %zu bytes, second %zu\n", first.size(), second.size());
  CHECK(first.size() > 80u);
}

TEST(encoder_size_updates) {
  {
    Encoder e(1024);  // below the peer's initial 4096: announced in the first block
    std::string out;
    e.begin(out);
    std::string want;
    encode_int(want, 0x20, 5, 1024);
    CHECK_EQ(out, want);
    out.clear();
    e.begin(out);
    CHECK_EQ(out, "");
  }
  {
    Encoder e;
    e.set_peer_table_size(100);
    e.set_peer_table_size(8192);  // more than we use: back to 4096
    std::string out, want;
    e.begin(out);
    encode_int(want, 0x20, 5, 100);  // the smallest since the last block, then the final
    encode_int(want, 0x20, 5, 4096);
    CHECK_EQ(out, want);
    e.set_peer_table_size(4096);  // no change: nothing owed
    out.clear();
    e.begin(out);
    CHECK_EQ(out, "");
    e.set_peer_table_size(0);
    out.clear();
    e.begin(out);
    CHECK_EQ(out, hex("20"));
    e.field("content-type", "text/plain", out);  // a zero table indexes nothing
    CHECK_EQ(e.table().count(), 0u);
    Decoder d(4096, 65536);
    CHECK_EQ(decode(d, out).fields, (Fields{{"content-type", "text/plain"}}));
  }
}

TEST(encoder_decoder_round_trips_with_table_size_changes) {
  std::mt19937 rng(2026);
  const char* const names[] = {"content-type", "server", "x-custom", "set-cookie",
                               "content-length", "date", "vary", "x-a", "etag", "cookie",
                               ":status", "link", "x-longer-header-name-for-tests"};
  std::vector<std::string> values = {"", "text/html", "ruvicorn", "1", "gzip", "no-cache"};
  for (int i = 0; i < 20; ++i) {
    std::string v(rng() % 90, '\0');
    for (char& c : v) c = static_cast<char>(i % 2 ? rng() : 'a' + rng() % 26);  // any octets
    values.push_back(v);
  }
  for (int connection = 0; connection < 20; ++connection) {
    Encoder e(connection % 4 == 0 ? 512 : 4096);
    Decoder d(4096, 1 << 20);
    for (int block = 0; block < 200; ++block) {
      if (rng() % 10 == 0) {
        const std::size_t sizes[] = {0, 64, 256, 1000, 4096, 10000};
        e.set_peer_table_size(sizes[rng() % 6]);
        if (rng() % 2) e.set_peer_table_size(sizes[rng() % 6]);
      }
      Fields f;
      for (int n = rng() % 12; n > 0; --n) {
        f.v.emplace_back(names[rng() % 13], values[rng() % values.size()]);
      }
      const int status = rng() % 3 ? 200 : 100 + rng() % 500;
      const std::string out = encode_block(e, status, f);
      const Result r = decode(d, out);
      CHECK_EQ(r.error, "");
      Fields want{{":status", std::to_string(status)}};
      want.v.insert(want.v.end(), f.v.begin(), f.v.end());
      CHECK_EQ(r.fields, want);
      CHECK_EQ(table_of(d.table()), table_of(e.table()));
      CHECK_EQ(d.table().size(), e.table().size());
    }
  }
}

// A usual response head.
void encode_response(Encoder& e, std::string& out) {
  out.clear();
  e.begin(out);
  e.status(200, out);
  e.field("content-type", "application/json", out);
  e.field("content-length", "1234", out);
  e.field("server", "ruvicorn", out);
  e.field("date", "Mon, 01 Jan 2024 00:00:00 GMT", out);
}

TEST(encoder_steady_state_allocates_nothing) {
  Encoder e;
  std::string out;
  out.reserve(1024);
  encode_response(e, out);
  const long before = g_allocations;
  for (int i = 0; i < 100; ++i) encode_response(e, out);
  CHECK_EQ(g_allocations - before, 0);
}

// ---- memory follows use ----

TEST(tables_grow_with_what_they_hold) {
  DynamicTable t(4096);
  CHECK_EQ(t.capacity(), 0u);
  t.add("content-type", "text/plain");
  t.add("server", "ruvicorn");
  t.add("date", "Mon, 01 Jan 2024 00:00:00 GMT");
  CHECK(t.capacity() <= 512u);
  // Filled to its size: at most 1.25 times the size in bytes, plus one slot per possible entry.
  for (int i = 0; i < 500; ++i) t.add("x-field", "value-" + std::to_string(i));
  CHECK(t.size() <= 4096u);
  CHECK(t.capacity() <= 4096u + 1024u + (4096 / 32 + 1) * 12);
  CHECK_EQ(t.at(0).value, "value-499");
  t.set_max_size(0);  // RFC 7541 4.2: a table of size 0 holds nothing, and keeps nothing
  CHECK_EQ(t.capacity(), 0u);

  // An entry whose name is a view of an entry moved by growth or compaction keeps its bytes.
  DynamicTable u(4096);
  u.add("x-shared-name", "v");
  for (std::size_t i = 1; i < 400; ++i) {
    const Header newest = u.at(0);
    u.add(newest.name, std::string(i % 90, char('a' + i % 26)));
    CHECK_EQ(u.at(0).name, "x-shared-name");
    CHECK(u.at(0).value == std::string(i % 90, char('a' + i % 26)));
  }
}

TEST(a_small_encoder_table_is_scanned_then_cached) {
  // Up to 4 entries (an idle connection's server, date, content-type) the encoder keeps no
  // lookup caches: its heap is the table's. Repeats are indexed either way, before and after
  // the caches exist, and a name-only match still gives the name's index.
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"server", "ruvicorn"}, {"x-a", "1"}, {"x-b", "2"}, {"x-c", "3"},
      {"x-d", "4"},           {"x-e", "5"}, {"x-f", "6"}};
  const long before = g_live_bytes;
  Encoder e;
  std::string out;
  for (std::size_t i = 0; i < 3; ++i) e.field(fields[i].first, fields[i].second, out);
  free_memory(out);
  // No caches yet: the table's two allocations (as the allocator rounds them) and nothing else.
  CHECK(g_live_bytes - before <= long(e.table().capacity()) + 32);
  for (std::size_t i = 3; i < fields.size(); ++i) e.field(fields[i].first, fields[i].second, out);
  free_memory(out);
  CHECK(g_live_bytes - before >= long(e.table().capacity()) + 128);  // caches past 4 entries
  for (const auto& [name, value] : fields) {
    std::string again;
    e.field(name, value, again);
    CHECK_EQ(again.size(), 1u);  // indexed (6.1)
  }
  std::string renamed;
  e.field("x-b", "other", renamed);
  // Literal with incremental indexing, name from the dynamic table (index 62 + its age).
  CHECK_EQ(static_cast<unsigned char>(renamed[0]) & 0xc0, 0x40);
  CHECK((static_cast<unsigned char>(renamed[0]) & 0x3f) > 61);
}

TEST(encoder_and_decoder_hold_what_a_usual_exchange_needs) {
  // Not 2 x 4 KiB of table each plus caches and a 4 KiB arena: what they hold.
  long before = g_live_bytes;
  {
    Encoder e;
    std::string out;
    for (int i = 0; i < 3; ++i) encode_response(e, out);
    free_memory(out);
    CHECK(g_live_bytes - before < 1024);
  }
  Encoder client;
  std::string block;
  client.begin(block);
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {":method", "GET"}, {":scheme", "https"}, {":authority", "www.example.com"},
           {":path", "/static/app.js?v=1"},
           {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                          "Gecko) Chrome/124.0.0.0 Safari/537.36"},
           {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
           {"accept-encoding", "gzip, deflate, br"}, {"accept-language", "en-GB,en;q=0.9"},
           {"cookie", "session=0123456789abcdef"}, {"referer", "https://www.example.com/"}})
    client.field(name, value, block);
  before = g_live_bytes;
  Decoder d(4096, 65536);
  std::vector<Header> fields;
  bool oversize = false;
  CHECK(!d.decode(block, fields, oversize));
  // Table, field list and the arena's pooled chunk (on loan to one block at a time).
  CHECK(g_live_bytes - before < 2048 + long(sizeof(Decoder::Arena)));
  free_memory(fields);
  const long decoded = g_live_bytes;
  const std::size_t pooled = ObjectPool<Decoder::Arena>::pooled_count();
  d.release();
  // The arena goes back to the thread's pool, the table stays.
  CHECK_EQ(ObjectPool<Decoder::Arena>::pooled_count(), pooled + 1);
  CHECK_EQ(g_live_bytes, decoded);
  const long released = g_live_bytes;
  Decoder other(4096, 65536);
  CHECK(!other.decode(block, fields, oversize));
  CHECK_EQ(ObjectPool<Decoder::Arena>::pooled_count(), pooled);  // the same chunk again
  CHECK(g_live_bytes - released < 2048);  // the other decoder's table, the field list
}

}  // namespace

CHECK_MAIN()
