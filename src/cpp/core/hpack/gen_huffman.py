#!/usr/bin/env python3
"""Generates huffman_table.hpp, the tables of the HPACK/QPACK Huffman code (RFC 7541 Appendix B).

    python3 gen_huffman.py            # rewrites huffman_table.hpp beside this script
    python3 gen_huffman.py --check    # exits 1 when the committed file differs from the output

The code is canonical (codes of one length are consecutive, in symbol order, and the code is
complete), which the script verifies. Decoding looks up the next FAST_BITS bits in one table that
gives the one or two whole symbols they start with (two for most text: the common codes have 5 to
6 bits); a longer code is found by comparing the left-justified next 32 bits with the end of each
length's code range.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import List, Tuple

# (code, length in bits) of symbols 0..255 and EOS (256), as listed in RFC 7541 Appendix B.
CODES: List[Tuple[int, int]] = [
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28),  # 0
    (0xfffffe4, 28), (0xfffffe5, 28), (0xfffffe6, 28), (0xfffffe7, 28),  # 4
    (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),  # 8
    (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28),  # 12
    (0xfffffed, 28), (0xfffffee, 28), (0xfffffef, 28), (0xffffff0, 28),  # 16
    (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),  # 20
    (0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28),  # 24
    (0xffffff8, 28), (0xffffff9, 28), (0xffffffa, 28), (0xffffffb, 28),  # 28
    (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),  # 32
    (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11),  # 36
    (0x3fa, 10), (0x3fb, 10), (0xf9, 8), (0x7fb, 11),  # 40
    (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),  # 44
    (0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6),  # 48
    (0x1a, 6), (0x1b, 6), (0x1c, 6), (0x1d, 6),  # 52
    (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),  # 56
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10),  # 60
    (0x1ffa, 13), (0x21, 6), (0x5d, 7), (0x5e, 7),  # 64
    (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),  # 68
    (0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7),  # 72
    (0x67, 7), (0x68, 7), (0x69, 7), (0x6a, 7),  # 76
    (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),  # 80
    (0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7),  # 84
    (0xfc, 8), (0x73, 7), (0xfd, 8), (0x1ffb, 13),  # 88
    (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),  # 92
    (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5),  # 96
    (0x24, 6), (0x5, 5), (0x25, 6), (0x26, 6),  # 100
    (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),  # 104
    (0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5),  # 108
    (0x2b, 6), (0x76, 7), (0x2c, 6), (0x8, 5),  # 112
    (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),  # 116
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15),  # 120
    (0x7fc, 11), (0x3ffd, 14), (0x1ffd, 13), (0xffffffc, 28),  # 124
    (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),  # 128
    (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23),  # 132
    (0x3fffd6, 22), (0x7fffda, 23), (0x7fffdb, 23), (0x7fffdc, 23),  # 136
    (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),  # 140
    (0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23),  # 144
    (0xffffee, 24), (0x7fffe1, 23), (0x7fffe2, 23), (0x7fffe3, 23),  # 148
    (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),  # 152
    (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24),  # 156
    (0x3fffda, 22), (0x1fffdd, 21), (0xfffe9, 20), (0x3fffdb, 22),  # 160
    (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),  # 164
    (0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24),  # 168
    (0x1fffdf, 21), (0x3fffdf, 22), (0x7fffeb, 23), (0x7fffec, 23),  # 172
    (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),  # 176
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23),  # 180
    (0xfffea, 20), (0x3fffe2, 22), (0x3fffe3, 22), (0x3fffe4, 22),  # 184
    (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),  # 188
    (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19),  # 192
    (0x3fffe7, 22), (0x7ffff2, 23), (0x3fffe8, 22), (0x1ffffec, 25),  # 196
    (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),  # 200
    (0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25),  # 204
    (0x7fff2, 19), (0x1fffe3, 21), (0x3ffffe6, 26), (0x7ffffe0, 27),  # 208
    (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),  # 212
    (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26),  # 216
    (0xffffffd, 28), (0x7ffffe3, 27), (0x7ffffe4, 27), (0x7ffffe5, 27),  # 220
    (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),  # 224
    (0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23),  # 228
    (0x3fffea, 22), (0x3fffeb, 22), (0x1ffffee, 25), (0x1ffffef, 25),  # 232
    (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),  # 236
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26),  # 240
    (0x7ffffe7, 27), (0x7ffffe8, 27), (0x7ffffe9, 27), (0x7ffffea, 27),  # 244
    (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),  # 248
    (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26),  # 252
    (0x3fffffff, 30),  # 256
]

EOS = 256
FAST_BITS = 12
OUTPUT = Path(__file__).with_name("huffman_table.hpp")


def check_code() -> None:
    assert len(CODES) == 257
    assert CODES[EOS] == (0x3FFFFFFF, 30)
    for code, length in CODES:
        assert 5 <= length <= 30 and code < (1 << length)
    # Complete (Kraft sum 1): every bit string decodes, so only EOS and padding need checks.
    assert sum(Fraction(1, 1 << length) for _, length in CODES) == 1
    # Canonical: sorted by (length, symbol), each code is the previous one plus one, shifted.
    order = sorted(range(257), key=lambda s: (CODES[s][1], s))
    code, previous = -1, CODES[order[0]][1]
    for s in order:
        length = CODES[s][1]
        code = (code + 1) << (length - previous)
        previous = length
        assert CODES[s][0] == code, f"symbol {s} is not canonical"


def rows(values: List[str], per_line: int) -> str:
    lines = []
    for i in range(0, len(values), per_line):
        lines.append("    " + ", ".join(values[i:i + per_line]) + ",")
    return "\n".join(lines)


def render() -> str:
    check_code()
    order = sorted(range(257), key=lambda s: (CODES[s][1], s))
    by_code = {code_and_length: s for s, code_and_length in enumerate(CODES)}

    def first_symbol(bits: int, count: int) -> Tuple[int, int]:
        """The symbol (not EOS) and length of the code the `count` bits start with, or (0, 0)."""
        for length in range(5, count + 1):
            s = by_code.get((bits >> (count - length), length))
            if s is not None:
                return (s, length) if s != EOS else (0, 0)
        return 0, 0

    fast = [0] * (1 << FAST_BITS)
    for bits in range(1 << FAST_BITS):
        s1, n1 = first_symbol(bits, FAST_BITS)
        if n1 == 0:
            continue  # the start of a longer code
        rest = FAST_BITS - n1
        s2, n2 = first_symbol(bits & ((1 << rest) - 1), rest)
        count = 2 if n2 else 1
        fast[bits] = s1 | (s2 << 8) | (n1 << 16) | ((n1 + n2) << 21) | (count << 26)
    # For each length L: the left-justified (32-bit) end of the codes of length <= L, and the
    # offset that turns the top L bits of a code of length L into its position in `order`.
    limit = [0] * 31
    base = [0] * 31
    position = 0
    for length in range(31):
        members = [s for s in order if CODES[s][1] == length]
        if members:
            first = CODES[members[0]][0]
            base[length] = position - first
            position += len(members)
            limit[length] = (CODES[members[-1]][0] + 1) << (32 - length)
        else:
            limit[length] = limit[length - 1] if length else 0
            base[length] = 0
    assert limit[30] == 1 << 32
    return f"""// generated by gen_huffman.py, do not edit (python3 gen_huffman.py rewrites it).
// The Huffman code of HPACK and QPACK (RFC 7541 Appendix B) as tables; see gen_huffman.py.
#pragma once
#include <cstdint>

namespace ruvicorn::hpack::huffman_table {{

// Symbol s (256 = EOS) is the low kLength[s] bits of kCode[s].
inline constexpr std::uint32_t kCode[257] = {{
{rows([hex(c) for c, _ in CODES], 8)}
}};
inline constexpr std::uint8_t kLength[257] = {{
{rows([str(n) for _, n in CODES], 16)}
}};

// Indexed by the next {FAST_BITS} bits: the whole codes they start with. Bits 0-7: the first
// symbol, 8-15: the second, 16-20: the first's length, 21-25: both lengths, 26-27: how many (0:
// the bits start a code longer than {FAST_BITS} bits).
inline constexpr unsigned kFastBits = {FAST_BITS};
inline constexpr std::uint32_t kFast[{1 << FAST_BITS}] = {{
{rows([hex(v) for v in fast], 8)}
}};

// Longer codes: with w the next 32 bits (left-justified), the code has the smallest length L with
// w < kLimit[L], and its symbol is kSymbol[kBase[L] + (w >> (32 - L))].
inline constexpr std::uint64_t kLimit[31] = {{
{rows([hex(v) for v in limit], 6)}
}};
inline constexpr std::int64_t kBase[31] = {{
{rows([str(v) for v in base], 6)}
}};
inline constexpr std::uint16_t kSymbol[257] = {{
{rows([str(s) for s in order], 16)}
}};

}}  // namespace ruvicorn::hpack::huffman_table
"""


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} differs from the output of gen_huffman.py: regenerate it")
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
