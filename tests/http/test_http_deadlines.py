"""--timeout-request-header: silent and slowloris connections are dropped and hold nothing."""

from __future__ import annotations

import threading
import time

from http_wire import Conn, PeerClosed, get, request

from helpers import ServerProcess

SERVER_ARGS = ["--timeout-request-header", "1"]


class Slowloris:
    """Sends a request head one byte every ``interval`` seconds on its own thread."""

    def __init__(self, port: int, interval: float = 0.3) -> None:
        self.conn = Conn(port, timeout=10)
        self.interval = interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)

    def _drip(self) -> None:
        self.conn.send(b"GET /text HTTP/1.1\r\nHost: x\r\n")
        for byte in b"X-Slow: " + b"a" * 100:
            if self.stop.wait(self.interval):  # pacing, not synchronisation
                return
            try:
                self.conn.sock.send(bytes([byte]))
            except OSError:
                return

    def __enter__(self) -> Slowloris:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.conn.close()


def test_silent_connection_is_closed(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        started = time.monotonic()
        data = conn.read_until_close(timeout=4)
        elapsed = time.monotonic() - started
    assert data == b"", "no request started: close without a response"
    assert 0.5 <= elapsed <= 3.0, elapsed


def test_partial_request_line_gets_408(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(b"GET /te")
        started = time.monotonic()
        resp = conn.read_response(timeout=4)
        assert resp.status == 408
        assert "close" in resp.connection_tokens()
        assert conn.closed_within(2)
    assert time.monotonic() - started <= 3.5


def test_slowloris_is_cut_off_while_others_are_served(server: ServerProcess) -> None:
    with Slowloris(server.port) as loris:
        started = time.monotonic()
        # Another client is served at once while the slow one drips.
        for i in range(3):
            assert get(server.port, f"/text?msg=fast{i}", timeout=1.5).body == f"fast{i}".encode()
        try:
            resp = loris.conn.read_response(timeout=4)
            assert resp.status == 408
            assert loris.conn.closed_within(2)
        except PeerClosed:
            pass  # closing without a 408 is acceptable too
        elapsed = time.monotonic() - started
    assert elapsed <= 3.5, f"slowloris held its connection for {elapsed:.1f}s"


def test_many_slow_connections_do_not_starve_others(server: ServerProcess) -> None:
    conns = [Conn(server.port) for _ in range(50)]
    try:
        for c in conns:
            c.send(b"GET /text HTTP/1.1\r\nHost: x\r\n")
        for i in range(5):
            assert get(server.port, f"/text?msg=ok{i}", timeout=1.5).status == 200
        deadline = time.monotonic() + 4
        for c in conns:
            remaining = max(0.1, deadline - time.monotonic())
            assert c.closed_within(remaining), "a slow connection outlived the header deadline"
    finally:
        for c in conns:
            c.close()


def test_slow_but_timely_head_is_served(server: ServerProcess) -> None:
    payload = request("GET", "/text?msg=timely")
    third = len(payload) // 3
    with Conn(server.port) as conn:
        for part in (payload[:third], payload[third:2 * third], payload[2 * third:]):
            conn.send(part)
            time.sleep(0.2)  # pacing the sender
        assert conn.read_response().body == b"timely"


def test_header_deadline_does_not_cut_a_slow_body(server: ServerProcess) -> None:
    # The deadline covers the request head only; a slow body is the app's business.
    with Conn(server.port) as conn:
        conn.send(request("POST", "/body?echo=1", [("Content-Length", "8")]))
        for byte in b"abcdefgh":
            time.sleep(0.25)  # pacing: 2 s in all, twice the header deadline
            conn.send(bytes([byte]))
        resp = conn.read_response()
    assert resp.status == 200 and resp.body == b"abcdefgh"


def test_deadline_restarts_after_each_response(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text?msg=1"))
        assert conn.read_response().body == b"1"
        time.sleep(0.6)  # pacing: well inside a fresh 1 s deadline
        conn.send(request("GET", "/text?msg=2"))
        assert conn.read_response().body == b"2"
        started = time.monotonic()
        assert conn.read_until_close(timeout=6) == b""
    assert time.monotonic() - started <= 6
