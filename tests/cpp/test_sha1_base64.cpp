// SHA-1 (FIPS 180-4) and base64 (RFC 4648) against the published test vectors.
#include <string>

#include "ruvicorn/base64.hpp"
#include "../../src/cpp/core/util/sha1.hpp"
#include "check.hpp"

using namespace ruvicorn;

static std::string hex(const Sha1::Digest& d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

TEST(sha1_fips_vectors) {
  CHECK_EQ(hex(sha1("")), std::string("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  CHECK_EQ(hex(sha1("abc")), std::string("a9993e364706816aba3e25717850c26c9cd0d89d"));
  CHECK_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
           std::string("84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
  CHECK_EQ(hex(sha1("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
                    "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
           std::string("a49b2446a02c645bf419f995b67091253a04a259"));
  CHECK_EQ(hex(sha1(std::string(1000000, 'a'))),
           std::string("34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
}

TEST(sha1_incremental_matches_one_shot) {
  std::string data;
  for (int i = 0; i < 300; ++i) data += char(i * 7 + 3);
  const auto whole = sha1(data);
  // Every split point, including around the 55/56/64-byte padding boundaries.
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    Sha1 s;
    s.update(std::string_view(data).substr(0, cut));
    s.update(std::string_view(data).substr(cut));
    CHECK(s.finish() == whole);
  }
  for (std::size_t len = 50; len < 130; ++len) {
    Sha1 a;
    for (std::size_t i = 0; i < len; ++i) a.update(std::string_view(data).substr(i, 1));
    CHECK(a.finish() == sha1(std::string_view(data).substr(0, len)));
  }
}

TEST(base64_rfc4648_vectors) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    std::string out;
    base64_encode(plain[i], out);
    CHECK_EQ(out, std::string(coded[i]));
    std::string back;
    CHECK(base64_decode(coded[i], back));
    CHECK_EQ(back, std::string(plain[i]));
    CHECK_EQ(base64_decoded_size(coded[i]), long(std::string(plain[i]).size()));
  }
}

TEST(base64_all_bytes_round_trip) {
  std::string data;
  for (int i = 0; i < 256; ++i) data += char(i);
  std::string text, back;
  base64_encode(data, text);
  CHECK(base64_decode(text, back));
  CHECK(back == data);
}

TEST(base64_rejects_non_canonical) {
  std::string out;
  CHECK(!base64_decode("Zg=", out));        // length not a multiple of 4
  CHECK(!base64_decode("Zh==", out));       // unused bits set
  CHECK(!base64_decode("Zm9=", out));       // unused bits set
  CHECK(!base64_decode("Z===", out));       // too much padding
  CHECK(!base64_decode("Zg==Zg==", out));   // padding in the middle
  CHECK(!base64_decode("Zm 9", out));       // space
  CHECK(!base64_decode("Zm-_", out));       // URL alphabet
  CHECK(!base64_decode("=Zm9", out));
  CHECK_EQ(base64_decoded_size("dGhlIHNhbXBsZSBub25jZQ=="), 16L);
  CHECK_EQ(base64_decoded_size("dGhlIHNhbXBsZSBub25jZQ"), -1L);
}

TEST(base64url_as_in_http2_settings) {
  std::string out;
  // A SETTINGS payload (RFC 7540 3.2.1): ids 3 and 4, values 100 and 65535, no padding, '-'/'_'.
  CHECK(base64url_decode("AAMAAABkAAQAAP__", out));
  CHECK_EQ(out, std::string("\x00\x03\x00\x00\x00\x64\x00\x04\x00\x00\xff\xff", 12));
  CHECK(base64url_decode("Zg", out) && out == "f");       // padding omitted
  CHECK(base64url_decode("Zg==", out) && out == "f");     // or present
  CHECK(base64url_decode("", out) && out.empty());        // an empty SETTINGS payload
  CHECK(!base64url_decode("Z", out));                     // impossible length
  CHECK(!base64url_decode("AP//", out));                  // standard alphabet
  CHECK(!base64url_decode("Zh", out));                    // unused bits set
}

CHECK_MAIN()
