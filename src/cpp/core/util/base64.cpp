#include "ruvicorn/base64.hpp"

#include <cstdint>

namespace ruvicorn {

namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 6-bit value of a base64 character, or -1.
inline int value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Walks canonical base64, calling emit(byte) for each decoded byte; false if not canonical.
template <typename Emit>
bool decode(std::string_view t, Emit&& emit) {
  if (t.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < t.size(); i += 4) {
    const bool last = i + 4 == t.size();
    const int a = value(t[i]), b = value(t[i + 1]);
    if (a < 0 || b < 0) return false;
    if (last && t[i + 2] == '=') {
      // "xx==": one byte; the 4 low bits of b must be zero.
      if (t[i + 3] != '=' || (b & 0x0f) != 0) return false;
      emit(std::uint8_t((a << 2) | (b >> 4)));
      return true;
    }
    const int c = value(t[i + 2]);
    if (c < 0) return false;
    if (last && t[i + 3] == '=') {
      // "xxx=": two bytes; the 2 low bits of c must be zero.
      if ((c & 0x03) != 0) return false;
      emit(std::uint8_t((a << 2) | (b >> 4)));
      emit(std::uint8_t((b << 4) | (c >> 2)));
      return true;
    }
    const int d = value(t[i + 3]);
    if (d < 0) return false;
    emit(std::uint8_t((a << 2) | (b >> 4)));
    emit(std::uint8_t((b << 4) | (c >> 2)));
    emit(std::uint8_t((c << 6) | d));
  }
  return true;
}

}  // namespace

void base64_encode(std::string_view data, std::string& out) {
  auto p = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t n = data.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  for (; n >= 3; p += 3, n -= 3) {
    const std::uint32_t v = (std::uint32_t(p[0]) << 16) | (std::uint32_t(p[1]) << 8) | p[2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n == 1) {
    out += kAlphabet[p[0] >> 2];
    out += kAlphabet[(p[0] & 3) << 4];
    out += "==";
  } else if (n == 2) {
    out += kAlphabet[p[0] >> 2];
    out += kAlphabet[((p[0] & 3) << 4) | (p[1] >> 4)];
    out += kAlphabet[(p[1] & 15) << 2];
    out += '=';
  }
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size() / 4 * 3);
  if (decode(text, [&](std::uint8_t b) { out += char(b); })) return true;
  out.clear();
  return false;
}

bool base64url_decode(std::string_view text, std::string& out) {
  std::string canonical;
  canonical.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '+' || c == '/') return false;  // the standard alphabet's characters
    canonical += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (!canonical.empty() && canonical.back() == '=') canonical.pop_back();
  if (canonical.size() % 4 == 1) return false;
  while (canonical.size() % 4 != 0) canonical += '=';
  return base64_decode(canonical, out);
}

long base64_decoded_size(std::string_view text) {
  long n = 0;
  return decode(text, [&](std::uint8_t) { ++n; }) ? n : -1;
}

}  // namespace ruvicorn
