"""Malformed or hostile requests: each gets one 4xx (or the listed code) with Connection: close,
the connection is closed, a request smuggled behind it is never answered nor seen by the app, and
the server goes on serving other connections.

Policy notes (src/cpp/core/http1/head_syntax.hpp): bare LF and bare CR are rejected; HTTP versions
other than 1.0/1.1 may be answered 505 (RFC 9110 15.6.6) instead of 400; unknown methods 501.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from http_wire import get, parse_all, request

from helpers import ServerProcess


class Case(NamedTuple):
    payload: bytes
    statuses: tuple[int, ...]


def smuggled(name: str) -> bytes:
    return f"GET /smuggled/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def head(first_line: bytes, *headers: bytes) -> bytes:
    return first_line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


def chunked_post(body: bytes) -> bytes:
    return head(b"POST /body?echo=1 HTTP/1.1", b"Host: x", b"Transfer-Encoding: chunked") + body


def with_cl(value: bytes) -> bytes:
    return head(b"POST /body?echo=1 HTTP/1.1", b"Host: x", b"Content-Length: " + value) + b"hello"


def with_te(value: bytes) -> bytes:
    return head(b"POST /body?echo=1 HTTP/1.1", b"Host: x",
                b"Transfer-Encoding: " + value) + b"5\r\nhello\r\n0\r\n\r\n"


def with_header(line: bytes) -> bytes:
    return head(b"GET /text HTTP/1.1", b"Host: x", line)


BAD = (400,)
TE_BAD = (400, 501)  # RFC 9112 6.1: 400 when chunked is not final; 501 for unknown codings
VERSION_BAD = (400, 505)

CASES: dict[str, Case] = {
    # request line
    "no-version": Case(b"GET /\r\n\r\n", BAD),
    "method-only": Case(b"GET\r\n\r\n", BAD),
    "empty-method": Case(head(b" / HTTP/1.1", b"Host: x"), BAD),
    "double-space": Case(head(b"GET  / HTTP/1.1", b"Host: x"), BAD),
    "tab-separator": Case(head(b"GET\t/ HTTP/1.1", b"Host: x"), BAD),
    "trailing-token": Case(head(b"GET / HTTP/1.1 extra", b"Host: x"), BAD),
    "space-in-target": Case(head(b"GET /a b HTTP/1.1", b"Host: x"), BAD),
    "ctl-in-target": Case(head(b"GET /a\x01b HTTP/1.1", b"Host: x"), BAD),
    "nul-in-target": Case(head(b"GET /a\x00b HTTP/1.1", b"Host: x"), BAD),
    "binary-garbage": Case(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40, BAD),
    # method
    "method-bad-char": Case(head(b"G(T / HTTP/1.1", b"Host: x"), BAD),
    "method-ctl": Case(head(b"GE\x01T / HTTP/1.1", b"Host: x"), BAD),
    "method-unknown": Case(head(b"FOO / HTTP/1.1", b"Host: x"), (400, 501)),
    "connect": Case(head(b"CONNECT example.com:443 HTTP/1.1", b"Host: example.com:443"),
                    (400, 405)),
    # version
    "version-1.2": Case(head(b"GET / HTTP/1.2", b"Host: x"), VERSION_BAD),
    "version-2.0": Case(head(b"GET / HTTP/2.0", b"Host: x"), VERSION_BAD),
    "version-0.9": Case(head(b"GET / HTTP/0.9", b"Host: x"), VERSION_BAD),
    "version-lowercase": Case(head(b"GET / http/1.1", b"Host: x"), BAD),
    "version-garbage": Case(head(b"GET / HTTX/1.1", b"Host: x"), BAD),
    "version-truncated": Case(head(b"GET / HTTP/1", b"Host: x"), BAD),
    "version-letters": Case(head(b"GET / HTTP/1.a", b"Host: x"), BAD),
    # header syntax
    "header-no-colon": Case(with_header(b"X-A value"), BAD),
    "header-space-before-colon": Case(with_header(b"X-A : value"), BAD),
    "header-tab-before-colon": Case(with_header(b"X-A\t: value"), BAD),
    "header-empty-name": Case(with_header(b": value"), BAD),
    "header-bad-name-char": Case(with_header(b"X(A): value"), BAD),
    "header-obs-fold": Case(with_header(b"X-A: a\r\n b"), BAD),
    "header-obs-fold-tab": Case(with_header(b"X-A: a\r\n\tb"), BAD),
    "header-leading-whitespace": Case(head(b"GET / HTTP/1.1", b" Host: x"), BAD),
    "value-nul": Case(with_header(b"X-A: a\x00b"), BAD),
    "value-bare-cr": Case(with_header(b"X-A: a\rb"), BAD),
    "value-ctl": Case(with_header(b"X-A: a\x01b"), BAD),
    "value-del": Case(with_header(b"X-A: a\x7fb"), BAD),
    "bare-lf-everywhere": Case(b"GET /text HTTP/1.1\nHost: x\n\n", BAD),
    "bare-lf-after-request-line": Case(b"GET /text HTTP/1.1\nHost: x\r\n\r\n", BAD),
    "bare-lf-in-header-block": Case(b"GET /text HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", BAD),
    "bare-lf-final": Case(b"GET /text HTTP/1.1\r\nHost: x\r\n\n", BAD),
    "bare-cr-line-ending": Case(b"GET /text HTTP/1.1\rHost: x\r\n\r\n", BAD),
    "missing-host": Case(head(b"GET /text HTTP/1.1"), BAD),
    "duplicate-host": Case(head(b"GET /text HTTP/1.1", b"Host: a", b"Host: b"), BAD),
    # Content-Length
    "cl-and-te": Case(head(b"POST /body HTTP/1.1", b"Host: x", b"Content-Length: 4",
                           b"Transfer-Encoding: chunked") + b"0\r\n\r\n", BAD),
    "te-and-cl": Case(head(b"POST /body HTTP/1.1", b"Host: x", b"Transfer-Encoding: chunked",
                           b"Content-Length: 4") + b"0\r\n\r\n", BAD),
    "cl-differing-duplicates": Case(head(b"POST /body HTTP/1.1", b"Host: x",
                                         b"Content-Length: 5", b"Content-Length: 6") + b"hello",
                                    BAD),
    "cl-differing-list": Case(with_cl(b"5, 6"), BAD),
    "cl-negative": Case(with_cl(b"-1"), BAD),
    "cl-non-numeric": Case(with_cl(b"abc"), BAD),
    "cl-plus-sign": Case(with_cl(b"+5"), BAD),
    "cl-hex": Case(with_cl(b"0x5"), BAD),
    "cl-inner-space": Case(with_cl(b"1 0"), BAD),
    "cl-empty": Case(with_cl(b""), BAD),
    "cl-huge": Case(with_cl(b"99999999999999999999999999"), (400, 413)),
    # Transfer-Encoding
    "te-chunked-identity": Case(with_te(b"chunked, identity"), TE_BAD),
    "te-gzip": Case(with_te(b"gzip"), TE_BAD),
    "te-xchunked": Case(with_te(b"xchunked"), TE_BAD),
    "te-identity": Case(with_te(b"identity"), TE_BAD),
    "te-chunked-twice": Case(with_te(b"chunked, chunked"), TE_BAD),
    "te-in-http10": Case(head(b"POST /body HTTP/1.0", b"Transfer-Encoding: chunked")
                         + b"0\r\n\r\n", BAD),
    # chunked body
    "chunk-size-not-hex": Case(chunked_post(b"zz\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-size-negative": Case(chunked_post(b"-1\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-size-0x": Case(chunked_post(b"0x5\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-size-empty": Case(chunked_post(b"\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-size-leading-space": Case(chunked_post(b" 5\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-size-overflow": Case(chunked_post(b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-size-overflow-wrap": Case(chunked_post(b"10000000000000005\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-missing-crlf": Case(chunked_post(b"5\r\nhelloXX0\r\n\r\n"), BAD),
    "chunk-data-too-long": Case(chunked_post(b"3\r\nhello\r\n0\r\n\r\n"), BAD),
    "chunk-size-bare-lf": Case(chunked_post(b"5\nhello\r\n0\r\n\r\n"), BAD),
    # limits (defaults: 100 fields, head 65536; a single line is bounded only by the head)
    "request-line-over-head": Case(head(b"GET /" + b"a" * 70000 + b" HTTP/1.1", b"Host: x"),
                                   (414, 431)),
    "too-many-headers": Case(head(b"GET /text HTTP/1.1", b"Host: x",
                                  *[f"X-H{i}: v".encode() for i in range(100)]), (431,)),
    "header-field-over-head": Case(with_header(b"X-Big: " + b"a" * 70000), (431,)),
    "head-too-large": Case(head(b"GET /text HTTP/1.1", b"Host: x",
                                *[f"X-H{i}: ".encode() + b"a" * 1200 for i in range(60)]),
                           (431,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(server: ServerProcess, name: str) -> None:
    case = CASES[name]
    responses, rest, closed = parse_all(server.port, case.payload + smuggled(name))
    assert closed, f"connection left open after {name}"
    assert len(responses) == 1 and not rest, (responses, rest)
    resp = responses[0]
    assert resp.status in case.statuses, resp
    assert "close" in resp.connection_tokens(), resp.headers
    # The smuggled request never reached the app, and the server serves a new connection.
    assert get(server.port, f"/seen?path=/smuggled/{name}").body == b"false"


def test_request_head_sent_byte_by_byte_is_fine(server: ServerProcess) -> None:
    from http_wire import Conn

    with Conn(server.port) as conn:
        for byte in request("GET", "/text?msg=slow"):
            conn.send(bytes([byte]))
        assert conn.read_response().body == b"slow"


def test_limits_are_not_off_by_one(server: ServerProcess) -> None:
    from http_wire import Conn

    # Exactly 100 fields and a head of exactly 65536 bytes (blank line included) are accepted.
    fields = [f"X-H{i}: v".encode() for i in range(98)]
    short = head(b"GET /text?msg=ok HTTP/1.1", b"Host: x", *fields, b"X-Pad: ")
    payload = head(b"GET /text?msg=ok HTTP/1.1", b"Host: x", *fields,
                   b"X-Pad: " + b"p" * (65536 - len(short)))
    assert len(payload) == 65536
    with Conn(server.port) as conn:
        conn.send(payload)
        resp = conn.read_response()
    assert resp.status == 200
    responses, _, closed = parse_all(server.port, payload.replace(b"X-Pad: ", b"X-Pad: p", 1))
    assert closed and [r.status for r in responses] == [431]
