"""Header sizes with the default limits: what uvicorn[standard] (httptools) accepts is accepted,
such as a 9 KB or a 60 KB cookie or an 8 KB URL; only the whole head is bounded
(--h11-max-incomplete-event-size, 64 KiB by default). The gunicorn-named per-line limits are
opt-in (tests/http/test_http_options.py)."""

from __future__ import annotations

import json

import pytest
from http_wire import Conn, parse_all, request

from helpers import ServerProcess


@pytest.mark.parametrize("size", [9 * 1024, 60 * 1024])
def test_big_cookie_is_accepted(server: ServerProcess, size: int) -> None:
    cookie = "session=" + "c" * (size - len("session="))
    with Conn(server.port) as conn:
        conn.send(request("GET", "/scope", [("Cookie", cookie)]))
        resp = conn.read_response()
    assert resp.status == 200, resp
    headers = dict(json.loads(resp.body)["headers"])
    assert headers["cookie"] == cookie


def test_long_url_is_accepted(server: ServerProcess) -> None:
    query = "q=" + "u" * 8000
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/scope?{query}"))
        resp = conn.read_response()
    assert resp.status == 200, resp
    assert json.loads(resp.body)["query_string"] == query


def test_head_over_64_kib_is_refused(server: ServerProcess) -> None:
    payload = request("GET", "/scope", [("Cookie", "c" * 65536)])
    responses, _, closed = parse_all(server.port, payload)
    assert closed and [r.status for r in responses] == [431]
