"""HTTP/1.1 connection rules: persistence, pipelining, 100-continue, Date and Server."""

from __future__ import annotations

import email.utils
import time

import pytest
from http_wire import Conn, request

from helpers import ServerProcess


def test_keep_alive_is_default_in_http11(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        for i in range(3):
            conn.send(request("GET", f"/text?msg=r{i}"))
            resp = conn.read_response()
            assert resp.body == f"r{i}".encode()
            assert "close" not in resp.connection_tokens()


def test_connection_close_is_honoured(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text", [("Connection", "close")]))
        resp = conn.read_response()
        assert resp.status == 200
        assert "close" in resp.connection_tokens()
        assert conn.closed_within(2)


def test_pipelined_request_after_connection_close_is_not_answered(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text?msg=first", [("Connection", "close")])
                  + request("GET", "/text?msg=second"))
        assert conn.read_response().body == b"first"
        assert conn.read_until_close(2) == b""


def test_http10_closes_by_default(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(b"GET /text?msg=old HTTP/1.0\r\n\r\n")
        resp = conn.read_response()
        assert resp.body == b"old"
        assert conn.closed_within(2)


def test_http10_keep_alive_on_request(server: ServerProcess) -> None:
    # Whether the response repeats "Connection: keep-alive" is left open (uvicorn does not).
    with Conn(server.port) as conn:
        for i in range(2):
            conn.send(f"GET /text?msg=k{i} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
            resp = conn.read_response()
            assert resp.body == f"k{i}".encode()


@pytest.mark.parametrize("keep_alive", [False, True])
def test_http10_streaming_response_is_not_chunked(server: ServerProcess, keep_alive: bool) -> None:
    # RFC 9112 6.1: no Transfer-Encoding to an HTTP/1.0 client; the body ends with the connection.
    extra = b"Connection: keep-alive\r\n" if keep_alive else b""
    with Conn(server.port) as conn:
        conn.send(b"GET /stream?chunks=2 HTTP/1.0\r\n" + extra + b"\r\n")
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.header("transfer-encoding") is None
        assert resp.body == b"chunk0;chunk1;"
        assert conn.eof


def test_pipelining_sixteen_in_order(server: ServerProcess) -> None:
    payload = b""
    expected = []
    for i in range(16):
        if i % 3 == 1:
            body = f"body-{i}".encode() * (i + 1)
            payload += request("POST", "/body?echo=1", [("Content-Length", str(len(body)))], body)
            expected.append(body)
        elif i % 3 == 2:
            payload += request("GET", "/stream?chunks=2")
            expected.append(b"chunk0;chunk1;")
        else:
            payload += request("GET", f"/text?msg=p{i}")
            expected.append(f"p{i}".encode())
    with Conn(server.port) as conn:
        conn.send(payload)
        got = [conn.read_response().body for _ in range(16)]
        assert got == expected
        assert not conn.buf


def test_expect_continue_sent_when_app_reads(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("POST", "/body?echo=1",
                          [("Content-Length", "5"), ("Expect", "100-continue")]))
        status, _ = conn.read_head(timeout=3)
        assert status == 100
        conn.send(b"hello")
        resp = conn.read_response()
        assert resp.status == 200 and resp.body == b"hello"
        assert_no_more_interim(conn)


def assert_no_more_interim(conn: Conn) -> None:
    conn.send(request("GET", "/text?msg=x"))
    resp = conn.read_response()
    assert resp.interim == [] and resp.body == b"x"


@pytest.mark.parametrize("code", [417, 401])
def test_expect_continue_not_sent_when_app_rejects(server: ServerProcess, code: int) -> None:
    with Conn(server.port) as conn:
        conn.send(request("POST", f"/reject?code={code}",
                          [("Content-Length", "5"), ("Expect", "100-continue")]))
        resp = conn.read_response(timeout=3)
        assert resp.interim == [], "100 Continue sent although the app never called receive()"
        assert resp.status == code and resp.body == b"rejected"


# --- an answer before the body: the rest is drained (64 KiB at most), the connection goes on ---

def answered_early(conn: Conn, headers: list[tuple[str, str]], first_part: bytes) -> None:
    """Sends a head and the first part of its body to an app that answers without reading."""
    conn.send(request("POST", "/reject?code=200", headers, first_part))
    resp = conn.read_response()
    assert resp.status == 200 and resp.body == b"rejected"
    assert "close" not in resp.connection_tokens()


def test_early_response_drains_the_rest_of_the_body(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        answered_early(conn, [("Content-Length", "40000")], b"a" * 1000)
        conn.send(b"a" * 39000 + request("GET", "/text?msg=next"))
        assert conn.read_response().body == b"next"


def test_early_response_drains_a_chunked_body(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        answered_early(conn, [("Transfer-Encoding", "chunked")], b"5;ext=1\r\nhello\r\n")
        conn.send(b"3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n" + request("GET", "/text?msg=next"))
        assert conn.read_response().body == b"next"


def test_drained_body_is_never_served_as_a_request(server: ServerProcess) -> None:
    inner = request("GET", "/text?msg=smuggled")
    with Conn(server.port) as conn:
        answered_early(conn, [("Content-Length", str(len(inner)))], b"")
        conn.send(inner + request("GET", "/text?msg=real"))
        assert conn.read_response().body == b"real"
        conn.send(request("GET", "/text?msg=last"))
        assert conn.read_response().body == b"last"
    with Conn(server.port) as conn:
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner)
        answered_early(conn, [("Transfer-Encoding", "chunked")], b"")
        conn.send(chunked + request("GET", "/text?msg=real"))
        assert conn.read_response().body == b"real"


def test_malformed_chunk_while_draining_closes_without_a_response(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        answered_early(conn, [("Transfer-Encoding", "chunked")], b"5\r\nhello\r\n")
        conn.send(b"3\r\nabcX\r\n0\r\n\r\n" + request("GET", "/text?msg=next"))
        assert conn.read_until_close(3) == b"", "no 400 after the answer, no next response"


def test_body_beyond_the_drain_bound_closes(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("POST", "/reject?code=200", [("Content-Length", str(65 * 1024))], b"x"))
        assert conn.read_response().body == b"rejected"
        assert conn.closed_within(3)
    with Conn(server.port) as conn:  # chunked: closes once more than 64 KiB came in the drain
        answered_early(conn, [("Transfer-Encoding", "chunked")], b"")
        try:
            for _ in range(80):
                conn.send(b"400\r\n" + b"c" * 1024 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert conn.closed_within(3)


def test_unanswered_expect_continue_closes(server: ServerProcess) -> None:
    # RFC 9110 10.1.1: the client was told nothing about its body and may never send it; its next
    # request would be read as body bytes.
    with Conn(server.port) as conn:
        conn.send(request("POST", "/reject?code=417",
                          [("Content-Length", "5"), ("Expect", "100-continue")]))
        assert conn.read_response(timeout=3).status == 417
        assert conn.closed_within(3)


def test_no_100_continue_for_http10(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(b"POST /body?echo=1 HTTP/1.0\r\nContent-Length: 5\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        conn.send(b"hello")
        resp = conn.read_response()
        assert resp.interim == [] and resp.body == b"hello"


def test_date_and_server_headers(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text"))
        resp = conn.read_response()
    assert resp.header("server"), "Server header missing"
    date = resp.header("date")
    assert date is not None, "Date header missing"
    assert date.endswith(" GMT")
    when = email.utils.parsedate_to_datetime(date).timestamp()
    assert abs(when - time.time()) < 5
    assert len(resp.header_all("date")) == 1 and len(resp.header_all("server")) == 1


def test_date_and_server_on_error_responses(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost test\r\n\r\n")
        resp = conn.read_response()
    assert resp.status == 400
    assert resp.header("date") is not None
