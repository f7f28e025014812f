"""Starlette served unchanged, on both parsers."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
from fw_client import make_client

APP = "tests.frameworks.starlette_app:app"


def test_routes_and_json(client: httpx.Client) -> None:
    assert client.get("/").json() == {"hello": "world", "method": "GET"}
    assert client.post("/").json()["method"] == "POST"
    assert client.get("/users/ada?q=1").json() == {"name": "ada", "q": "1"}
    assert client.get("/missing").status_code == 404
    assert client.put("/echo").status_code == 405


def test_request_body(client: httpx.Client) -> None:
    body = b"some bytes " * 1000
    resp = client.post("/echo", content=body, headers={"content-type": "application/x-test"})
    assert resp.content == body and resp.headers["content-type"] == "application/x-test"
    assert client.post("/json", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}


def test_streamed_request_body(client: httpx.Client) -> None:
    def blocks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"q" * 16384

    assert client.post("/upload", content=blocks()).json()["size"] == 64 * 16384


def test_streaming_response(client: httpx.Client) -> None:
    with client.stream("GET", "/stream") as resp:
        if resp.http_version == "HTTP/1.1":
            assert resp.headers.get("transfer-encoding") == "chunked"
        else:
            assert resp.http_version == "HTTP/2" and "transfer-encoding" not in resp.headers
        assert b"".join(resp.iter_bytes()) == b"".join(f"part{i}\n".encode() for i in range(5))


def test_background_task_runs_after_response(client: httpx.Client) -> None:
    token = uuid.uuid4().hex
    assert client.get(f"/background?token={token}").text == "scheduled"
    assert client.get(f"/background-done?token={token}").json() == {"done": True}


def test_runs_inside_a_task(client: httpx.Client) -> None:
    assert client.get("/task").json() == {"has_task": True}


def test_endless_stream_stops_when_the_client_leaves(client: httpx.Client,
                                                     protocol: str) -> None:
    token = uuid.uuid4().hex
    with make_client(str(client.base_url), protocol, timeout=5) as leaving:
        with leaving.stream("GET", f"/endless?token={token}") as resp:
            assert next(resp.iter_lines()) == "tick"
    # The server must notice the disconnect and stop the app's generator.
    assert client.get(f"/endless-stopped?token={token}").json() == {"stopped": True}
