"""Header sizes with the default limits: what uvicorn[standard] (httptools) accepts is accepted,
such as a 9 KB or a 60 KB cookie or an 8 KB URL; only the whole head is bounded
(--h11-max-incomplete-event-size, 64 KiB by default). The gunicorn-named per-line limits are
opt-in (tests/http/test_http_options.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from http_wire import Conn, get, parse_all, request

from helpers import ServerProcess, rss, run_server

MIB = 1024 * 1024


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


@pytest.fixture(scope="module")
def unlimited_fields_server(parser: str) -> Iterator[ServerProcess]:
    args = ["tests.http.apps:app", "--host", "127.0.0.1", "--http", parser, "--no-access-log",
            "--limit-request-fields", "0", "--timeout-keep-alive", "60",
            "--timeout-graceful-shutdown", "3"]
    with run_server(args, cwd=str(Path(__file__).resolve().parents[2])) as proc:
        yield proc


def test_header_slots_cost_what_a_request_sends(unlimited_fields_server: ServerProcess) -> None:
    # --limit-request-fields 0 allows 32768 fields; connections that send a few must not each
    # pay for 32768 slots (that was 2 MiB per connection: 200 MiB here).
    server = unlimited_fields_server
    assert get(server.port, "/text").status == 200
    before = rss(server.pid)
    conns: list[Conn] = []
    try:
        for _ in range(100):
            conn = Conn(server.port)
            conns.append(conn)
            conn.send(request("GET", "/text"))
            assert conn.read_response().status == 200
        grown = rss(server.pid) - before
    finally:
        for conn in conns:
            conn.close()
    assert grown < 40 * MIB, f"RSS +{grown / MIB:.0f} MiB for 100 idle connections"
    # Many fields still fit (the slots grow), and their order is kept.
    fields = [(f"x-f{i}", str(i)) for i in range(3000)]
    with Conn(server.port) as conn:
        conn.send(request("GET", "/scope", fields))
        resp = conn.read_response()
    assert resp.status == 200, resp
    seen = [(k, v) for k, v in json.loads(resp.body)["headers"] if k.startswith("x-f")]
    assert seen == fields
