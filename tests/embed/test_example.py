"""The C++ embedding example (examples/cpp) driven by Python clients.

The core is installed into a prefix and the example is built against it as an outside CMake
project, as in tests/cpp/consumer (example_server.py); then httpx, raw sockets and the websockets
client talk to it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from example_server import example_server
from websockets.sync.client import connect


@pytest.fixture(scope="module", params=["pico", "llhttp"])
def base_url(example_binary: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    with example_server(example_binary, request.param) as url:
        yield url


def _address(base_url: str) -> tuple[str, int]:
    host, port = base_url.removeprefix("http://").split(":")
    return host, int(port)


def test_hello_and_keep_alive(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for _ in range(3):
            response = client.get("/")
            assert response.status_code == 200
            assert response.text == "Hello, world!\n"
            assert response.headers["content-type"].startswith("text/plain")
            assert "date" in response.headers
        assert client.head("/").content == b""


def test_large_body_is_echoed(base_url: str) -> None:
    body = bytes(range(256)) * 2048  # 512 KiB: several reads and partial writes
    response = httpx.post(f"{base_url}/echo", content=body, timeout=10)
    assert response.status_code == 200
    assert response.content == body


def test_many_pipelined_requests_answered_in_order(base_url: str) -> None:
    count = 200
    requests = b"".join(
        b"GET /%s HTTP/1.1\r\nHost: a\r\n\r\n" % (b"" if i % 2 else b"missing")
        for i in range(count - 1)
    ) + b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    with socket.create_connection(_address(base_url), timeout=10) as sock:
        sock.sendall(requests)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", bytes(received))
    expected = [b"404" if i % 2 == 0 else b"200" for i in range(count - 1)] + [b"200"]
    assert statuses == expected


def test_malformed_request_gets_400_and_close(base_url: str) -> None:
    with socket.create_connection(_address(base_url), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in received.lower()


def test_websocket_echo(base_url: str) -> None:
    url = base_url.replace("http://", "ws://") + "/ws"
    with connect(url, compression=None, open_timeout=10, close_timeout=5) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        ws.send(b"\x00\xff binary")
        assert ws.recv(timeout=10) == b"\x00\xff binary"
        ws.send(["frag", "mented"])  # one message in three frames
        assert ws.recv(timeout=10) == "fragmented"
        assert ws.ping(b"p").wait(timeout=10)
    assert ws.close_code == 1000


def test_websocket_permessage_deflate(base_url: str) -> None:
    url = base_url.replace("http://", "ws://") + "/ws"
    with connect(url, open_timeout=10, close_timeout=5, max_size=2**22) as ws:
        assert ws.response is not None
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
        text = "ruvicorn " * 100_000
        for _ in range(3):  # context takeover across messages
            ws.send(text)
            assert ws.recv(timeout=10) == text


def test_websocket_upgrade_with_wrong_version_gets_426(base_url: str) -> None:
    response = httpx.get(f"{base_url}/ws", timeout=10, headers={
        "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "8"})
    assert response.status_code == 426
    assert response.headers["sec-websocket-version"] == "13"
