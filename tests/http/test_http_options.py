"""Command-line options that change what is on the wire: --root-path, --no-server-header,
--no-date-header, --header, the request limits (the gunicorn-named per-line ones are opt-in) and
--timeout-keep-alive."""

from __future__ import annotations

import json
import time

import pytest
from http_wire import Conn, get, parse_all, request

from helpers import ServerProcess

SERVER_ARGS = [
    "--root-path", "/api",
    "--no-server-header", "--no-date-header",
    "--header", "x-extra:yes", "--header", "X-Two: 2 b",
    "--limit-request-body", "1000",
    "--limit-request-line", "200",
    "--limit-request-fields", "10",
    "--limit-request-field-size", "300",
    "--h11-max-incomplete-event-size", "2000",
    "--timeout-keep-alive", "1",
]


def test_root_path_prefixes_path_and_raw_path(server: ServerProcess) -> None:
    # uvicorn's behaviour: the proxy stripped the prefix, the scope puts it back in front.
    resp = get(server.port, "/scope/x%20y?q=1")
    scope = json.loads(resp.body)
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/scope/x y"
    assert scope["raw_path"] == "/api/scope/x%20y"
    assert scope["query_string"] == "q=1"


def test_server_and_date_headers_disabled(server: ServerProcess) -> None:
    resp = get(server.port, "/text")
    assert resp.status == 200
    assert resp.header("server") is None
    assert resp.header("date") is None


def test_default_headers_added(server: ServerProcess) -> None:
    resp = get(server.port, "/text")
    assert resp.header("x-extra") == "yes"
    assert resp.header("x-two") == "2 b"
    streamed = get(server.port, "/stream?chunks=1")
    assert streamed.header("x-extra") == "yes"


def post(server: ServerProcess, headers: list[tuple[str, str]], body: bytes) -> tuple:
    return parse_all(server.port, request("POST", "/body", headers, body))


@pytest.mark.parametrize("size", [999, 1000])
def test_body_within_limit(server: ServerProcess, size: int) -> None:
    with Conn(server.port) as conn:
        conn.send(request("POST", "/body", [("Content-Length", str(size))], b"b" * size))
        resp = conn.read_response()
    assert resp.status == 200 and json.loads(resp.body)["length"] == size


def test_content_length_over_limit_is_413(server: ServerProcess) -> None:
    responses, rest, closed = post(server, [("Content-Length", "1001")], b"b" * 1001)
    assert closed and len(responses) == 1 and not rest
    assert responses[0].status == 413
    assert "close" in responses[0].connection_tokens()


def test_chunked_body_over_limit_is_413(server: ServerProcess) -> None:
    chunk = b"1f4\r\n" + b"c" * 500 + b"\r\n"  # 500 bytes each, 1500 in all
    responses, rest, closed = post(server, [("Transfer-Encoding", "chunked")],
                                   chunk * 3 + b"0\r\n\r\n")
    assert closed and len(responses) == 1 and not rest
    assert responses[0].status == 413
    assert "close" in responses[0].connection_tokens()


def test_request_line_limit_option(server: ServerProcess) -> None:
    exact = "/text?msg=" + "a" * (200 - len("GET /text?msg= HTTP/1.1"))
    assert get(server.port, exact).status == 200
    responses, _, closed = parse_all(server.port, request("GET", exact + "a"))
    assert closed and [r.status for r in responses] == [414]


def test_header_count_limit_option(server: ServerProcess) -> None:
    nine = [(f"X-H{i}", "v") for i in range(9)]  # plus Host: 10 fields
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text", nine))
        assert conn.read_response().status == 200
    responses, _, closed = parse_all(server.port, request("GET", "/text", nine + [("X-H9", "v")]))
    assert closed and [r.status for r in responses] == [431]


def test_header_field_size_limit_option(server: ServerProcess) -> None:
    value = "v" * 280
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text", [("X-Big", value)]))
        assert conn.read_response().status == 200
    responses, _, closed = parse_all(server.port, request("GET", "/text", [("X-Big", value * 2)]))
    assert closed and [r.status for r in responses] == [431]


def test_head_size_limit_option(server: ServerProcess) -> None:
    fields = [(f"X-A{i}", "a" * 250) for i in range(7)]
    pad = 2000 - len(request("GET", "/text", [*fields, ("X-Pad", "")]))
    exact = request("GET", "/text", [*fields, ("X-Pad", "p" * pad)])
    assert len(exact) == 2000  # the whole head, blank line included
    with Conn(server.port) as conn:
        conn.send(exact)
        assert conn.read_response().status == 200
    over = request("GET", "/text", [*fields, ("X-Pad", "p" * (pad + 1))])
    responses, _, closed = parse_all(server.port, over)
    assert closed and [r.status for r in responses] == [431]


def test_idle_keep_alive_connection_closed(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text"))
        assert conn.read_response().status == 200
        started = time.monotonic()
        assert conn.read_until_close(timeout=4) == b""
        elapsed = time.monotonic() - started
    assert 0.5 <= elapsed <= 3.0, elapsed


def test_drain_of_an_unread_body_is_bounded_by_the_keep_alive_timeout(
        server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("POST", "/reject?code=200", [("Content-Length", "100")], b"x" * 10))
        assert conn.read_response().body == b"rejected"
        started = time.monotonic()
        conn.send(b"x" * 10)  # more of it, then nothing: the drain waits no longer than idle
        assert conn.read_until_close(timeout=4) == b""
        elapsed = time.monotonic() - started
    assert elapsed <= 3.0, elapsed


def test_keep_alive_connection_in_use_is_not_closed(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        for i in range(4):  # 4 requests spaced 0.5 s apart span 2 s > the 1 s idle timeout
            conn.send(request("GET", f"/text?msg={i}"))
            assert conn.read_response().body == str(i).encode()
            assert not conn.closed_within(0.5)
