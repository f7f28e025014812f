"""Parsing a browser request into an ASGI scope: ruvicorn's picohttpparser and llhttp back ends
(``ruvicorn._core.parse_request_to_scope``) against httptools driven the way uvicorn drives it;
and the head parsers alone (``ruvicorn._core.parse_heads``, 1000 parses per call), picohttpparser
with its portable and its SSE4.2 scan."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple
from urllib.parse import unquote

import pytest

from .requests import BROWSER_HEADER_COUNT, BROWSER_REQUEST

httptools = pytest.importorskip("httptools")

_ASGI = {"version": "3.0", "spec_version": "2.4"}


class HttptoolsScopes:
    """A reused httptools parser whose callbacks build the scope, as uvicorn's protocol does."""

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.scope: Dict[str, Any] = {}
        self.url = b""
        self.headers: List[Tuple[bytes, bytes]] = []

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.scope = {"type": "http", "asgi": _ASGI, "scheme": "http", "root_path": "",
                      "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
                      "headers": self.headers}

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        parsed = httptools.parse_url(self.url)
        raw_path = parsed.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = unquote(path)
        self.scope.update(
            http_version=self.parser.get_http_version(),
            method=self.parser.get_method().decode("ascii"),
            path=path,
            raw_path=raw_path,
            query_string=parsed.query or b"",
        )

    def parse(self, data: bytes) -> Dict[str, Any]:
        self.parser.feed_data(data)
        return self.scope


def _core_parse() -> Any:
    core = pytest.importorskip("ruvicorn._core")
    parse = getattr(core, "parse_request_to_scope", None)
    if parse is None:
        pytest.skip("ruvicorn._core.parse_request_to_scope(data, parser) is not exposed yet")
    return parse


def _check(scope: Dict[str, Any]) -> None:
    assert scope["method"] == "GET"
    assert scope["path"] == "/search/café"
    assert scope["query_string"] == b"q=ruvicorn&lang=en"
    assert len(scope["headers"]) == BROWSER_HEADER_COUNT
    assert scope["headers"][0] == (b"host", b"www.example.com")


@pytest.mark.benchmark(group="parse-request-to-scope")
def test_httptools_scope(benchmark: Any) -> None:
    scopes = HttptoolsScopes()
    _check(benchmark(scopes.parse, BROWSER_REQUEST))


@pytest.mark.benchmark(group="parse-request-to-scope")
@pytest.mark.parametrize("parser", ["pico", "llhttp"])
def test_ruvicorn_scope(benchmark: Any, parser: str) -> None:
    parse = _core_parse()
    _check(benchmark(parse, BROWSER_REQUEST, parser))


@pytest.mark.benchmark(group="parse-request-only")
def test_httptools_parse_only(benchmark: Any) -> None:
    """The floor for httptools: its callbacks do nothing."""

    class Ignore:
        pass

    parser = httptools.HttpRequestParser(Ignore())
    benchmark(parser.feed_data, BROWSER_REQUEST)


HEADS_PER_CALL = 1000
BACKENDS = ["pico-portable", "pico-sse42", "llhttp"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_ruvicorn_head_only_x1000(benchmark: Any, backend: str) -> None:
    """Time per call / 1000 = one head; the scope is not built."""
    core = pytest.importorskip("ruvicorn._core")
    if not hasattr(core, "parse_heads"):
        pytest.skip("ruvicorn._core.parse_heads is not exposed yet")
    if backend == "pico-sse42" and not core.build_info()["parsers"][0]["simd"]["SSE4.2"]:
        pytest.skip("picohttpparser's SSE4.2 scan is not in use here (CPU or RUVICORN_PICO_SSE42)")
    benchmark.group = f"parse-head-only-x{HEADS_PER_CALL}"
    count = benchmark(core.parse_heads, BROWSER_REQUEST, backend, HEADS_PER_CALL)
    assert count == BROWSER_HEADER_COUNT
