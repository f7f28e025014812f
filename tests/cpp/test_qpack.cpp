// QPACK (RFC 9204) as we use it, without a dynamic table: the static table, the encoder's
// representations, round trips, every decoding error (dynamic and post-base references, a Required
// Insert Count or a negative Base, bad indices, strings and Huffman codes), the section size limit,
// and the client's encoder and decoder stream instructions.
#include <string>
#include <utility>
#include <vector>

#include "../../src/cpp/core/qpack/static_table.hpp"
#include "check.hpp"
#include "ruvicorn/qpack.hpp"

using namespace ruvicorn;
using namespace ruvicorn::qpack;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs owned(const std::vector<Header>& fields) {
  Pairs out;
  for (const Header& h : fields) out.emplace_back(std::string(h.name), std::string(h.value));
  return out;
}

std::string encode(const Pairs& fields) {
  std::string out;
  Encoder::begin(out);
  for (const auto& [n, v] : fields) Encoder::field(n, v, out);
  return out;
}

std::string_view decode_error(std::string_view section, std::size_t limit = 4096) {
  Decoder d(limit);
  std::vector<Header> fields;
  bool oversize = false;
  return d.decode(section, fields, oversize).reason;
}

std::string hex_of(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

}  // namespace

TEST(static_table_is_rfc_9204_appendix_a) {
  CHECK_EQ(kStaticCount, 99u);
  CHECK(kStatic[0].name == ":authority");
  CHECK(kStatic[17].name == ":method" && kStatic[17].value == "GET");
  CHECK(kStatic[25].name == ":status" && kStatic[25].value == "200");
  CHECK(kStatic[98].name == "x-frame-options" && kStatic[98].value == "sameorigin");
}

TEST(encoder_representations) {
  std::string s;
  Encoder::begin(s);
  CHECK_EQ(hex_of(s), "0000");
  s.clear();
  Encoder::status(200, s);
  CHECK_EQ(hex_of(s), "d9");  // indexed, static 25
  s.clear();
  Encoder::status(500, s);
  CHECK_EQ(hex_of(s), "ff08");  // static 71: the 6-bit prefix (63) plus 8
  s.clear();
  Encoder::status(201, s);  // literal with the :status name (24): 0101 1111, 24 - 15 = 9
  CHECK_EQ(hex_of(s.substr(0, 2)), "5f09");
  CHECK_EQ(static_cast<unsigned char>(s[2]), 0x82u);  // Huffman, 2 bytes for "201"
  s.clear();
  Encoder::field("content-type", "text/plain", s);
  CHECK_EQ(hex_of(s), "f5");  // static 53
  s.clear();
  Encoder::field("content-type", "x", s);  // name reference 44 (the first content-type)
  CHECK_EQ(hex_of(s), "5f1d0178");  // 0101 1111, 44 - 15 = 29, raw "x"
  s.clear();
  Encoder::field("x-a", "b", s);  // literal name: 0010 0 H=0 len 3, "x-a", raw "b"
  CHECK_EQ(hex_of(s), "23782d610162");
  s.clear();
  Encoder::field("set-cookie", "a=b", s);  // never indexed: N bit (0x20) on a name reference
  CHECK_EQ(static_cast<unsigned char>(s[0]) & 0xf0u, 0x70u);
}

TEST(round_trips) {
  const Pairs fields = {{":method", "GET"},
                        {":path", "/index.html?q=1"},
                        {":authority", "example.com"},
                        {"user-agent", "ruvicorn-test/1.0"},
                        {"cookie", "a=b"},
                        {"x-empty", ""},
                        {"x-binary", std::string("\x80\xff\x01 v", 5)},
                        {"accept", "*/*"},
                        {"content-type", "application/json"}};
  const std::string section = encode(fields);
  Decoder d(4096);
  std::vector<Header> out;
  bool oversize = true;
  CHECK(!d.decode(section, out, oversize));
  CHECK(!oversize);
  CHECK(owned(out) == fields);
  // The arena is reused: a second section decodes the same.
  CHECK(!d.decode(section, out, oversize));
  CHECK(owned(out) == fields);
}

TEST(decoding_errors) {
  CHECK(decode_error(bytes({0x00, 0x00})).empty());  // an empty field list is valid
  CHECK_EQ(decode_error(""), "empty field section");
  CHECK_EQ(decode_error(bytes({0x00})), "truncated field section prefix");
  CHECK_EQ(decode_error(bytes({0x01, 0x00})), "Required Insert Count above 0 without a dynamic table");
  CHECK_EQ(decode_error(bytes({0x00, 0x80})), "negative Base");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0x80})), "dynamic table reference without a dynamic table");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0x40, 0x01, 'x'})),
           "dynamic table reference without a dynamic table");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0x10})), "post-base reference without a dynamic table");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0x00})), "post-base reference without a dynamic table");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0xff, 36})), "static table index out of range");  // 99
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0x51})), "truncated string");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0x51, 0x05, 'a'})), "string longer than the section");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0x51, 0x81, 0x00})), "invalid Huffman code");  // 0-pad
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0xff})), "truncated integer");
  CHECK_EQ(decode_error(bytes({0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})),
           "integer overflow");
}

TEST(section_limit_stops_decoding) {
  // Two fields of 32 + 1 + 10 bytes; a limit of 60 keeps the first only and flags the section.
  const std::string section = encode({{"a", "0123456789"}, {"b", "0123456789"}});
  Decoder d(60);
  std::vector<Header> out;
  bool oversize = false;
  CHECK(!d.decode(section, out, oversize));
  CHECK(oversize);
  CHECK_EQ(out.size(), 1u);
  // A Huffman string that would expand beyond the limit is never decoded into memory whole.
  const std::string big = encode({{"x-big", std::string(200, 'a')}});
  Decoder small(64);
  CHECK(!small.decode(big, out, oversize));
  CHECK(oversize);
  CHECK(out.empty());
}

TEST(encoder_stream_instructions) {
  EncoderStreamReader r;
  CHECK(!r.feed(bytes({0x20, 0x20})));  // Set Dynamic Table Capacity 0, twice
  CHECK(r.feed(bytes({0x21})).code == ErrorCode::kEncoderStreamError);
  EncoderStreamReader insert;
  CHECK(insert.feed(bytes({0xc0, 0x01, 'x'})).code == ErrorCode::kEncoderStreamError);
  EncoderStreamReader duplicate;
  CHECK(duplicate.feed(bytes({0x00})).code == ErrorCode::kEncoderStreamError);
}

TEST(decoder_stream_instructions) {
  DecoderStreamReader r;
  CHECK(!r.feed(bytes({0x41, 0x44})));  // Stream Cancellation 1 and 4
  CHECK(!r.feed(bytes({0x7f})));        // split: 63 + ...
  CHECK(!r.feed(bytes({0x81})));
  CHECK(!r.feed(bytes({0x01})));        // ... done
  CHECK(r.feed(bytes({0x80})).code == ErrorCode::kDecoderStreamError);  // Section Acknowledgment
  DecoderStreamReader increment;
  CHECK(increment.feed(bytes({0x01})).code == ErrorCode::kDecoderStreamError);
  DecoderStreamReader zero;
  CHECK(zero.feed(bytes({0x00})).code == ErrorCode::kDecoderStreamError);
  DecoderStreamReader overflow;
  CHECK(overflow.feed(bytes({0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})).code ==
        ErrorCode::kDecoderStreamError);
}

CHECK_MAIN()
