"""http.response.early_hint (the ASGI extension): a 103 Early Hints response (RFC 8297) with one
Link field per item, before the final response, on HTTP/1.1; never to an HTTP/1.0 client
(RFC 9110 15.2). The hints go out at once, while the app is still working on its response."""

from __future__ import annotations

import time

from http_wire import Conn, get, inspect, new_token, request

from helpers import ServerProcess


def test_hints_arrive_before_the_app_answers(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/early-hints?n=2&token={token}"))
        status, headers = conn.read_head()  # the app is parked until /release
        assert status == 103
        assert [v for k, v in headers if k == "link"] == [
            "</r0.css>; rel=preload; as=style", "</r1.css>; rel=preload; as=style"]
        assert get(server.port, f"/release?token={token}").status == 200
        final = conn.read_response()
    assert final.status == 200 and final.body == b"final"
    assert final.header("link") is None


def test_interim_then_final_on_one_keep_alive_connection(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        for _ in range(2):
            conn.send(request("GET", "/early-hints?n=1"))
            resp = conn.read_response()
            assert resp.interim == [103]
            assert resp.status == 200 and resp.body == b"final"


def test_no_interim_response_to_http_1_0(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/early-hints?n=2", version="HTTP/1.0"))
        deadline = time.monotonic() + 5
        resp = conn.read_response(timeout=deadline - time.monotonic())
    assert resp.interim == [] and resp.status == 200 and resp.body == b"final"


def test_a_link_with_a_line_break_is_refused_and_nothing_is_injected(
        server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/early-hints?bad=1&token={token}"))
        resp = conn.read_response()
    assert resp.interim == [] and resp.status == 200 and resp.body == b"after-bad-hint"
    assert resp.header("x-injected") is None
    [outcome] = inspect(server.port, token)
    assert outcome.startswith("RuntimeError: invalid early hint")


def test_a_hint_after_the_response_started_is_an_error(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/early-hints?late=1&token={token}"))
        resp = conn.read_response()
    assert resp.interim == [] and resp.status == 200 and resp.body == b"late"
    [outcome] = inspect(server.port, token)
    assert outcome.startswith("RuntimeError: Expected ASGI message 'http.response.body'")
