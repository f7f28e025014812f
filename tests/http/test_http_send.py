"""send(): response start/body/trailers/pathsend, framing, and misuse by the app."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from http_wire import Conn, inspect, new_token, request

from helpers import ServerProcess


def exchange(server: ServerProcess, payload: bytes, method: str = "GET") -> Conn:
    conn = Conn(server.port)
    conn.send(payload)
    return conn


def assert_connection_still_usable(conn: Conn) -> None:
    """A follow-up request on the same connection parses: no stray body bytes were sent."""
    conn.send(request("GET", "/text?msg=after"))
    resp = conn.read_response()
    assert resp.status == 200 and resp.body == b"after", resp


def test_streaming_without_length_is_chunked(server: ServerProcess) -> None:
    with exchange(server, request("GET", "/stream?chunks=3")) as conn:
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.chunked and resp.header("content-length") is None
        assert resp.body == b"chunk0;chunk1;chunk2;"
        assert_connection_still_usable(conn)


def test_streaming_with_length_is_not_chunked(server: ServerProcess) -> None:
    with exchange(server, request("GET", "/sized")) as conn:
        resp = conn.read_response()
        assert not resp.chunked and resp.header("transfer-encoding") is None
        assert resp.header("content-length") == "11" and resp.body == b"hello world"
        assert_connection_still_usable(conn)


@pytest.mark.parametrize("target", ["/sized", "/text?msg=abc"])
def test_head_keeps_content_length_without_body(server: ServerProcess, target: str) -> None:
    with exchange(server, request("HEAD", target)) as conn:
        resp = conn.read_response("HEAD")
        assert resp.status == 200
        assert resp.header("content-length") == ("11" if target == "/sized" else "3")
        assert_connection_still_usable(conn)


def test_head_on_streaming_route_has_no_body(server: ServerProcess) -> None:
    with exchange(server, request("HEAD", "/stream?chunks=2")) as conn:
        resp = conn.read_response("HEAD")
        assert resp.status == 200
        assert_connection_still_usable(conn)


@pytest.mark.parametrize("code", [204, 304])
def test_no_body_statuses(server: ServerProcess, code: int) -> None:
    with exchange(server, request("GET", f"/status?code={code}")) as conn:
        resp = conn.read_response()
        assert resp.status == code
        assert resp.header("transfer-encoding") is None
        if code == 204:
            assert resp.header("content-length") is None  # RFC 9110 8.6
        assert_connection_still_usable(conn)


@pytest.mark.parametrize("case", ["body-first", "start-twice", "bad-type", "after-complete",
                                  "trailers-unannounced", "header-value-crlf",
                                  "header-name-space"])
def test_wrong_message_raises_runtime_error(server: ServerProcess, case: str) -> None:
    token = new_token()
    with exchange(server, request("GET", f"/order?case={case}&token={token}")) as conn:
        resp = conn.read_response()
        assert resp.status == 200 and resp.body == b"ok", resp
        assert resp.header("x-injected") is None
        events = inspect(server.port, token)
        assert len(events) == 1 and events[0].startswith("RuntimeError: "), events
        assert len(events[0]) > len("RuntimeError: ") + 5, "the error message should explain"
        assert_connection_still_usable(conn)


def test_trailers(server: ServerProcess) -> None:
    with exchange(server, request("GET", "/trailers", [("TE", "trailers")])) as conn:
        resp = conn.read_response()
        assert resp.status == 200 and resp.chunked
        assert resp.body == b"part1;part2"
        assert resp.trailers == [("x-checksum", "abc123")]
        assert_connection_still_usable(conn)


@pytest.mark.parametrize("chunked", [False, True])
def test_pathsend(server: ServerProcess, tmp_path: Path, chunked: bool) -> None:
    data = os.urandom(1024 * 1024 + 123)
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    target = f"/pathsend?file={quote(str(path))}" + ("&chunked=1" if chunked else "")
    with exchange(server, request("GET", target)) as conn:
        resp = conn.read_response(timeout=10)
        assert resp.status == 200
        assert resp.chunked == chunked
        if not chunked:
            assert resp.header("content-length") == str(len(data))
        assert resp.body == data
        assert_connection_still_usable(conn)


def test_bytes_sent_before_a_content_length_overflow_arrive(server: ServerProcess) -> None:
    # The first piece waits to share a write with the next; the next is refused (too long), and
    # the first must still reach the client before the close.
    token = new_token()
    path = f"/cl-mismatch?mode=prefix-then-more&token={token}"
    with exchange(server, request("GET", path)) as conn:
        data = conn.read_until_close(timeout=3)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b"01234", data
    events = inspect(server.port, token)
    assert len(events) == 1 and events[0].startswith("RuntimeError"), events


@pytest.mark.parametrize("mode", ["more", "fewer"])
def test_content_length_mismatch_closes_connection(server: ServerProcess, mode: str) -> None:
    token = new_token()
    with exchange(server, request("GET", f"/cl-mismatch?mode={mode}&token={token}")) as conn:
        data = conn.read_until_close(timeout=3)  # TimeoutError if the server keeps it open
    # Whether the head (and a short body) went out before the close depends on write coalescing;
    # either way the client must never see a complete 10-byte body or any byte beyond it.
    if data:
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert len(body) <= (5 if mode == "fewer" else 10), data
    events = inspect(server.port, token)
    # uvicorn raises RuntimeError in send() for both; the app must learn about its mistake.
    assert len(events) == 1 and events[0].startswith("RuntimeError"), events
