"""The response head goes out when the app suspends after http.response.start, not only with the
first body bytes (a long-poll or SSE endpoint that sends its head and then waits for an event).

The app (/head-first in apps.py) parks after its head until /release or until the request body
arrives; the client must have read the complete head by then. When start and body come in the
same task step, both still leave together (the hot path), and pipelined responses stay in order.
"""

from __future__ import annotations

import time

from http_wire import Conn, get, inspect, new_token, parse_all, request

from helpers import ServerProcess

HEAD_DEADLINE = 5.0


def wait_for(conn: Conn, marker: bytes, timeout: float = HEAD_DEADLINE) -> bytes:
    """Reads until ``marker`` is in the receive buffer (left unconsumed); returns the buffer."""
    deadline = time.monotonic() + timeout
    while marker not in conn.buf:
        conn._fill(deadline)
    return conn.buf


def wait_for_head(conn: Conn, timeout: float = HEAD_DEADLINE) -> bytes:
    """The complete head, read while the app is still parked: nothing of the body follows it."""
    buf = wait_for(conn, b"\r\n\r\n", timeout)
    head, _, rest = buf.partition(b"\r\n\r\n")
    assert rest == b"", f"body bytes arrived before the app sent them: {rest!r}"
    return head + b"\r\n\r\n"


def test_chunked_head_arrives_while_app_is_parked(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/head-first?token={token}&msg=event-data"))
        head = wait_for_head(conn)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
        assert b"\r\ntransfer-encoding: chunked\r\n" in head.lower()
        assert inspect(server.port, token) == ["parked"]  # the app is still waiting
        assert get(server.port, f"/release?token={token}").status == 200
        resp = conn.read_response()
        assert resp.status == 200 and resp.chunked
        assert resp.body == b"event-data"
        # Keep-alive still works after a head that went out on its own.
        conn.send(request("GET", "/text?msg=next"))
        assert conn.read_response().body == b"next"


def test_sized_head_first_then_body_after_request_body(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("POST", f"/head-first?token={token}&wait=body&length=5",
                          [("Content-Length", "5")]))
        head = wait_for_head(conn)
        assert b"\r\ncontent-length: 5\r\n" in head.lower()
        conn.send(b"hello")  # only now: the app answers with what it reads
        resp = conn.read_response()
        assert (resp.status, resp.body, resp.chunked) == (200, b"hello", False)
        conn.send(request("GET", "/text?msg=again"))
        assert conn.read_response().body == b"again"


def test_expect_continue_after_final_head_sends_no_100(server: ServerProcess) -> None:
    # The app answers before it reads: the final head goes out (no 100), the client sends anyway.
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("POST", f"/head-first?token={token}&wait=body&length=5",
                          [("Content-Length", "5"), ("Expect", "100-continue")]))
        head = wait_for_head(conn)
        assert head.startswith(b"HTTP/1.1 200 "), head
        conn.send(b"abcde")
        resp = conn.read_response()
        assert (resp.status, resp.body, resp.interim) == (200, b"abcde", [])


def test_first_piece_then_park_streams(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/head-first?token={token}&first=part1;&msg=part2"))
        wait_for(conn, b"part1;\r\n")
        assert get(server.port, f"/release?token={token}").status == 200
        resp = conn.read_response()
        assert (resp.status, resp.body) == (200, b"part1;part2")


def test_http10_head_arrives_then_body_until_close(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/head-first?token={token}&msg=old-client", version="HTTP/1.0"))
        head = wait_for_head(conn).lower()
        assert b"transfer-encoding" not in head and b"content-length" not in head
        assert b"\r\nconnection: close\r\n" in head
        assert get(server.port, f"/release?token={token}").status == 200
        resp = conn.read_response()  # close-delimited body
        assert (resp.status, resp.body) == (200, b"old-client")


def test_connection_close_head_arrives_then_server_closes(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/head-first?token={token}&msg=bye&length=3",
                          [("Connection", "close")]))
        head = wait_for_head(conn).lower()
        assert b"\r\nconnection: close\r\n" in head and b"\r\ncontent-length: 3\r\n" in head
        assert get(server.port, f"/release?token={token}").status == 200
        assert conn.read_response().body == b"bye"
        assert conn.closed_within(HEAD_DEADLINE)


def test_pipelined_after_a_parked_response_stay_in_order(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/head-first?token={token}&msg=first")
                  + request("GET", "/text?msg=second") + request("GET", "/text?msg=third"))
        wait_for_head(conn)
        assert get(server.port, f"/release?token={token}").status == 200
        assert [conn.read_response().body for _ in range(3)] == [b"first", b"second", b"third"]


def test_hot_path_pipelined_responses_complete_and_in_order(server: ServerProcess) -> None:
    count = 50
    payload = b"".join(request("GET", f"/text?msg=r{i}") for i in range(count))
    payload += request("GET", "/text?msg=last", [("Connection", "close")])
    responses, rest, closed = parse_all(server.port, payload)
    assert closed and rest == b""
    assert [r.body for r in responses] == [f"r{i}".encode() for i in range(count)] + [b"last"]
    assert all(r.status == 200 and r.header("content-length") for r in responses)


def test_app_raising_after_head_closes_without_a_complete_response(
        server: ServerProcess) -> None:
    responses, _, closed = parse_all(server.port,
                                     request("GET", f"/head-first?token={new_token()}&fail=1"))
    assert closed and responses == []
    assert get(server.port, "/text").status == 200


def test_clients_leaving_before_the_head_is_flushed(server: ServerProcess) -> None:
    # The connection may be lost before or after the deferred flush runs: either way the server
    # neither writes to a dead transport nor logs an internal error, and keeps serving.
    tokens = [new_token() for _ in range(30)]
    for token in tokens:
        with Conn(server.port) as conn:
            conn.send(request("GET", f"/head-first?token={token}"))
    for token in tokens:
        assert inspect(server.port, token) == ["parked"]
        assert get(server.port, f"/release?token={token}").status == 200
    assert get(server.port, "/text?msg=alive").body == b"alive"
    assert "internal error" not in server.stderr_text()
