"""The ASGI HTTP connection scope as the app sees it (asgiref specs/www.rst)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from http_wire import Conn, request

from helpers import ServerProcess


def scope_over_raw(server: ServerProcess, payload: bytes) -> tuple[dict[str, Any], Conn]:
    conn = Conn(server.port)
    conn.send(payload)
    resp = conn.read_response()
    assert resp.status == 200, resp
    return json.loads(resp.body), conn


def test_scope_fields(server: ServerProcess) -> None:
    scope, conn = scope_over_raw(server, request("GET", "/scope?a=1&b=%20c"))
    with conn:
        local_host, local_port = conn.sock.getsockname()
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    # 2.3 as uvicorn: send() after a disconnect is a no-op, so apps watch receive() for it.
    assert scope["asgi"]["spec_version"] == "2.3"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/scope"
    assert scope["raw_path"] == "/scope"
    assert scope["query_string"] == "a=1&b=%20c"  # raw, not decoded
    assert scope["root_path"] == ""
    assert scope["client"] == [local_host, local_port]
    assert scope["server"] == ["127.0.0.1", server.port]
    types = scope["_types"]
    assert types["path"] == "str" and types["method"] == "str"
    assert types["raw_path"] == "bytes" and types["query_string"] == "bytes"
    assert types["client"] in ("tuple", "list") and types["server"] in ("tuple", "list")
    assert scope["_header_types"] == ["tuple:bytes:bytes"]


def test_scope_extensions(server: ServerProcess) -> None:
    scope = httpx.get(server.url + "/scope", timeout=10).json()
    assert "http.response.trailers" in scope["extensions"]
    assert "http.response.pathsend" in scope["extensions"]


def test_scope_state_from_lifespan(server: ServerProcess) -> None:
    scope = httpx.get(server.url + "/scope", timeout=10).json()
    assert scope["_types"].get("state") == "dict"
    assert scope["_state"] == {"started_by": "lifespan"}


def test_http_10_version(server: ServerProcess) -> None:
    scope, conn = scope_over_raw(server, b"GET /scope HTTP/1.0\r\n\r\n")
    conn.close()
    assert scope["http_version"] == "1.0"


def test_methods(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            assert client.request(method, "/scope").json()["method"] == method


def test_path_percent_decoded_utf8(server: ServerProcess) -> None:
    raw = "/scope/caf%C3%A9%20x/a%2Fb"
    scope, conn = scope_over_raw(server, request("GET", raw + "?q=%C3%A9&flag"))
    conn.close()
    # uvicorn's choice: %2F decodes to "/" in path; raw_path keeps the bytes as sent.
    assert scope["path"] == "/scope/café x/a/b"
    assert scope["raw_path"] == raw
    assert scope["query_string"] == "q=%C3%A9&flag"


def test_headers_lowercase_ordered_with_duplicates(server: ServerProcess) -> None:
    payload = (b"GET /scope HTTP/1.1\r\nHost: test\r\nX-Dup: 1\r\nContent-Type: text/plain\r\n"
               b"x-dup: 2\r\nX-MiXed: VaLue  \r\nX-Empty:\r\n\r\n")
    scope, conn = scope_over_raw(server, payload)
    conn.close()
    assert scope["headers"] == [
        ["host", "test"], ["x-dup", "1"], ["content-type", "text/plain"], ["x-dup", "2"],
        ["x-mixed", "VaLue"], ["x-empty", ""],
    ]


def test_header_obs_text_bytes_preserved(server: ServerProcess) -> None:
    payload = b"GET /scope HTTP/1.1\r\nHost: test\r\nX-Latin: caf\xe9\r\n\r\n"
    scope, conn = scope_over_raw(server, payload)
    conn.close()
    assert ["x-latin", "caf\xe9"] in scope["headers"]
