"""The micro-benchmark hooks ``_core.ws_unmask``, ``_core.utf8_valid`` and ``_core.ws_text``
against Python."""

from __future__ import annotations

import os

import pytest
from ws_wire import mask

from ruvicorn import _core


@pytest.mark.parametrize("size", [0, 1, 3, 7, 8, 31, 32, 33, 1000, 65537])
def test_ws_unmask_matches_python(size: int) -> None:
    data, key = os.urandom(size), os.urandom(4)
    assert _core.ws_unmask(data, key) == mask(data, key)
    assert _core.ws_unmask(_core.ws_unmask(data, key), key) == data


def test_ws_unmask_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError):
        _core.ws_unmask(b"abc", b"12345")
    with pytest.raises(TypeError):
        _core.ws_unmask("abc", b"1234")


@pytest.mark.parametrize("data", [
    b"", b"ascii only", "héllo wörld €𝄞".encode(), b"\xff", b"\xc0\xaf", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"abc\xe2\x82", b"ok" * 1000 + b"\x80",
])
def test_utf8_valid_matches_python(data: bytes) -> None:
    try:
        data.decode("utf-8")
        expected = True
    except UnicodeDecodeError:
        expected = False
    assert _core.utf8_valid(data) is expected


def test_ws_text_builds_every_code_point() -> None:
    # The session's str from checked UTF-8: the same text, length and internal kind as CPython's
    # decoder gives (== compares kinds), for every code point alone and after each width.
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert _core.ws_text(everything.encode(), True) == everything
    for c in range(0, 0x110000, 251):
        if 0xD800 <= c <= 0xDFFF:
            continue
        for text in (chr(c), "a" + chr(c), "\u00ff" + chr(c), "\uffff" + chr(c) * 3):
            assert _core.ws_text(text.encode(), True) == text
            assert _core.ws_text(text.encode(), False) == text


@pytest.mark.parametrize("bad", [b"\xff", b"abc\xe2\x82", b"\xed\xa0\x80"])
def test_ws_text_rejects_invalid_utf8(bad: bytes) -> None:
    with pytest.raises(ValueError):
        _core.ws_text(bad, True)
