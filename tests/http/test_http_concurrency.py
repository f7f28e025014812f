"""--limit-concurrency: requests beyond the limit are answered 503 instead of queuing."""

from __future__ import annotations

import time

from http_wire import Conn, PeerClosed, get, request

from helpers import ServerProcess

SERVER_ARGS = ["--limit-concurrency", "2"]


def test_requests_over_the_limit_get_503(server: ServerProcess) -> None:
    # uvicorn counts the new connection itself, so exactly where the limit bites is left open;
    # what matters is that at most two requests are admitted and the rest get a quick 503.
    conns = [Conn(server.port) for _ in range(5)]
    try:
        admitted = rejected = 0
        for conn in conns:
            conn.send(request("GET", "/park"))
            try:
                resp = conn.read_response(timeout=1)
            except TimeoutError:
                admitted += 1  # the app is parked on it
                continue
            assert resp.status == 503, resp
            rejected += 1
        assert 1 <= admitted <= 2 and rejected == 5 - admitted
    finally:
        for conn in conns:
            conn.close()
    # Once the clients are gone (the parked apps see http.disconnect), requests are served again.
    deadline = time.monotonic() + 5
    while True:
        try:
            if get(server.port, "/text", timeout=1).status == 200:
                break
        except (PeerClosed, TimeoutError):
            pass
        assert time.monotonic() < deadline, "the server stayed at its concurrency limit"
        time.sleep(0.1)  # polling: no event tells the client the server noticed the closes
