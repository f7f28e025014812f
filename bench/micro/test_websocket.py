"""WebSocket hot paths: removing the client mask and validating UTF-8, ruvicorn's C++
(``ruvicorn._core.ws_unmask(data, mask) -> bytes``, ``ruvicorn._core.utf8_valid(data) -> bool``)
against what Python servers use (websockets' C speed-up, pure Python, ``bytes.decode``); and a
text message's str (``ruvicorn._core.ws_text(data, checked)``): checked once and built from what
the check learned, against checked and then decoded again by ``PyUnicode_DecodeUTF8``."""

from __future__ import annotations

from typing import Any, Callable

import pytest

SIZES = [32, 16 * 1024, 1024 * 1024]
MASK = b"\x37\xfa\x21\x3d"


def python_unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    stream = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        n, "little")


def python_utf8_valid(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _core(name: str) -> Callable[..., Any]:
    core = pytest.importorskip("ruvicorn._core")
    function = getattr(core, name, None)
    if function is None:
        pytest.skip(f"ruvicorn._core.{name} is not exposed yet")
    return function


def _payload(size: int) -> bytes:
    return bytes(range(256)) * (size // 256) + bytes(range(size % 256))


def _websockets_unmask() -> Callable[[bytes, bytes], bytes]:
    speedups = pytest.importorskip("websockets.speedups")
    return speedups.apply_mask


UNMASKERS = {
    "ruvicorn": lambda: _core("ws_unmask"),
    "websockets-c": _websockets_unmask,
    "python": lambda: python_unmask,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s}B")
@pytest.mark.parametrize("impl", list(UNMASKERS))
def test_unmask(benchmark: Any, impl: str, size: int) -> None:
    benchmark.group = f"ws-unmask-{size}B"
    unmask = UNMASKERS[impl]()
    data = _payload(size)
    assert benchmark(unmask, data, MASK) == python_unmask(data, MASK)


TEXTS = {
    "ascii": b"The quick brown fox jumps over the lazy dog. " * 364,  # about 16 KiB
    "mixed": "Grüße, καλημέρα, こんにちは, 👋! ".encode() * 370,
}
VALIDATORS = {
    "ruvicorn": lambda: _core("utf8_valid"),
    "bytes.decode": lambda: python_utf8_valid,
}


@pytest.mark.parametrize("text", list(TEXTS))
@pytest.mark.parametrize("impl", list(VALIDATORS))
def test_utf8_valid(benchmark: Any, impl: str, text: str) -> None:
    benchmark.group = f"utf8-valid-{text}-16KiB"
    valid = VALIDATORS[impl]()
    assert benchmark(valid, TEXTS[text]) is True
    assert valid(TEXTS[text][:-1] + b"\xff") is False


WS_TEXTS = {
    "ascii-32B": b"x" * 32,
    "latin1-32B": "h\u00e9llo w\u00f6rld, 32 bytes \u00fc\u00df!".encode(),
    "cjk-48B": "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c\u3001".encode() * 2,
    "ascii-16KiB": TEXTS["ascii"],
    "mixed-16KiB": TEXTS["mixed"],
}


@pytest.mark.parametrize("text", list(WS_TEXTS))
@pytest.mark.parametrize("way", ["checked", "decode-again"])
def test_ws_text(benchmark: Any, way: str, text: str) -> None:
    benchmark.group = f"ws-text-{text}"
    ws_text = _core("ws_text")
    data = WS_TEXTS[text]
    assert benchmark(ws_text, data, way == "checked") == data.decode()
