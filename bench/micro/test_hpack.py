"""HPACK: decoding a browser's request header block and encoding a typical response, ruvicorn's
C++ codec (through the ``_core.HpackDecoder``/``HpackEncoder`` test hooks, so the numbers include
building the Python list of tuples) against the pure-Python ``hpack`` package (what h2-based
servers such as hypercorn use)."""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

import pytest

hpack = pytest.importorskip("hpack")

Fields = List[Tuple[bytes, bytes]]

# The browser request of requests.py as HTTP/2 fields: 4 pseudo-fields and 11 regular fields.
BROWSER_FIELDS: Fields = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"www.example.com"),
    (b":path", b"/search/caf%C3%A9?q=ruvicorn&lang=en"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                    b"Chrome/124.0.0.0 Safari/537.36"),
    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
                b"*/*;q=0.8"),
    (b"accept-language", b"en-GB,en;q=0.9,fr;q=0.8"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"cookie", b"session=4f2a9c1e7b3d4e5f8a9b0c1d2e3f4a5b; theme=dark; consent=yes"),
    (b"upgrade-insecure-requests", b"1"),
    (b"sec-fetch-dest", b"document"),
    (b"sec-fetch-mode", b"navigate"),
    (b"sec-fetch-site", b"same-origin"),
    (b"cache-control", b"max-age=0"),
]

RESPONSE_FIELDS: Fields = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-length", b"5120"),
    (b"date", b"Tue, 14 Apr 2026 10:00:00 GMT"),
    (b"server", b"ruvicorn"),
    (b"cache-control", b"no-cache"),
    (b"vary", b"accept-encoding"),
]

# The first request on a connection (every field a Huffman literal, indexed into the table) and
# the second (the same fields again: references to the dynamic table).
_browser = hpack.Encoder()
FIRST_REQUEST = _browser.encode(BROWSER_FIELDS, huffman=True)
REPEAT_REQUEST = _browser.encode(BROWSER_FIELDS, huffman=True)


def _core() -> Any:
    core = pytest.importorskip("ruvicorn._core")
    if not hasattr(core, "HpackDecoder"):
        pytest.skip("ruvicorn._core.HpackDecoder is not exposed yet")
    return core


def _ruvicorn_decoder() -> Callable[[bytes], Fields]:
    decoder = _core().HpackDecoder(4096, 65536)
    decoder.decode(FIRST_REQUEST)  # the table as the browser's encoder left it
    return decoder.decode


def _python_decoder() -> Callable[[bytes], Fields]:
    decoder = hpack.Decoder()
    decoder.decode(FIRST_REQUEST, raw=True)
    return lambda b: decoder.decode(b, raw=True)


DECODERS = {"ruvicorn": _ruvicorn_decoder, "hpack-python": _python_decoder}
BLOCKS = {"first": FIRST_REQUEST, "repeat": REPEAT_REQUEST}


@pytest.mark.parametrize("block", list(BLOCKS))
@pytest.mark.parametrize("impl", list(DECODERS))
def test_decode_request(benchmark: Any, impl: str, block: str) -> None:
    # "first" decoded again and again on one connection keeps adding its entries to the table
    # (evicting the previous copies): the cost of a block of new literals.
    benchmark.group = f"hpack-decode-{block}-request-{len(BLOCKS[block])}B"
    decode = DECODERS[impl]()
    fields = benchmark(decode, BLOCKS[block])
    assert [(bytes(n), bytes(v)) for n, v in fields] == BROWSER_FIELDS


def test_encode_response_ruvicorn(benchmark: Any) -> None:
    benchmark.group = "hpack-encode-response"
    encoder = _core().HpackEncoder(4096)
    first = encoder.encode(200, RESPONSE_FIELDS)
    block = benchmark(encoder.encode, 200, RESPONSE_FIELDS)
    assert len(block) < len(first)
    assert hpack.Decoder().decode(first, raw=True)[1:] == RESPONSE_FIELDS


def test_encode_response_python(benchmark: Any) -> None:
    benchmark.group = "hpack-encode-response"
    encoder = hpack.Encoder()
    fields = [(b":status", b"200"), *RESPONSE_FIELDS]
    encoder.encode(fields)
    benchmark(encoder.encode, fields)
