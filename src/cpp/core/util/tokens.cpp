#include "ruvicorn/tokens.hpp"

namespace ruvicorn {

namespace {

constexpr bool token_char(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

struct TokenTable {
  bool v[256];
  constexpr TokenTable() : v() {
    for (int c = 0; c < 256; ++c) v[c] = token_char(static_cast<unsigned char>(c));
  }
};
constexpr TokenTable kTokens{};

}  // namespace

const bool kTokenChar[256] = {
#define R(i) kTokens.v[i]
#define R8(i) R(i), R(i + 1), R(i + 2), R(i + 3), R(i + 4), R(i + 5), R(i + 6), R(i + 7)
#define R64(i) R8(i), R8(i + 8), R8(i + 16), R8(i + 24), R8(i + 32), R8(i + 40), R8(i + 48), R8(i + 56)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R8
#undef R
};

}  // namespace ruvicorn
