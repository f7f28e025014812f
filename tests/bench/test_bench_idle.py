"""bench/idle.py, the client of the idle-* scenarios, against real servers on loopback: ruvicorn
(bench/apps.py) over HTTP/1.1, WebSocket and HTTP/2, and the ceiling; the HTTP/2 request it
writes by hand decodes as the GET it means; the runner's record of an idle run."""

from __future__ import annotations

import socketserver
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

from bench import idle, runner
from helpers import free_port, run_server, wait_port

REPO = Path(__file__).resolve().parents[2]
COUNT = 40


@pytest.fixture(scope="module")
def ruvicorn_port() -> Iterator[int]:
    with run_server(["bench.apps:app", "--app-dir", str(REPO), "--no-access-log"]) as server:
        yield server.port


@pytest.mark.parametrize("kind", idle.KINDS)
def test_every_connection_is_answered_and_stays_open(ruvicorn_port: int, kind: str) -> None:
    path = "/ws" if kind == "ws" else "/plaintext"
    # Fewer in flight than connections: the batching path runs too.
    result = idle.open_idle(ruvicorn_port, kind, COUNT, path, parallel=8, timeout=30)
    sockets = result.pop("sockets")
    try:
        assert result == {"open": COUNT, "failed": {}}
        for sock in sockets:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):  # open, nothing more to read: idle
                sock.recv(1)
    finally:
        for sock in sockets:
            sock.close()


class Refuse(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(4096)
        self.request.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        self.request.recv(1)  # until the client closes


def test_a_refused_upgrade_is_a_failure_not_an_open_connection() -> None:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Refuse) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            result = idle.open_idle(server.server_address[1], "ws", 3, "/ws", parallel=3,
                                    timeout=30)
        finally:
            server.shutdown()
    for sock in result.pop("sockets"):
        sock.close()
    assert result["open"] == 0
    assert sum(result["failed"].values()) == 3, result


def test_the_ceiling_holds_idle_connections() -> None:
    port = free_port()
    ceiling = subprocess.Popen([sys.executable, "-m", "bench.ceiling", "--port", str(port)],
                               cwd=REPO)
    try:
        wait_port("127.0.0.1", port, timeout=15)
        for kind, path in (("http1", "/plaintext"), ("ws", "/ws")):
            result = idle.open_idle(port, kind, COUNT, path, parallel=16, timeout=30)
            for sock in result.pop("sockets"):
                sock.close()
            assert result == {"open": COUNT, "failed": {}}, kind
    finally:
        ceiling.terminate()
        ceiling.wait(10)


def test_the_http2_request_decodes_as_a_get() -> None:
    hpack = pytest.importorskip("hpack")
    data = idle.h2_get("/plaintext", "127.0.0.1")
    assert data.startswith(idle.H2_PREFACE)
    frames = data[len(idle.H2_PREFACE):]
    assert idle.h2_frames(frames) == [(0x4, 0, 0), (0x1, 0x5, 1)]
    block = frames[9 + 9:]
    assert hpack.Decoder().decode(block) == [
        (":method", "GET"), (":scheme", "http"), (":path", "/plaintext"),
        (":authority", "127.0.0.1")]
    assert idle.h2_done(idle.h2_frame(0x0, 0x1, 1, b"hi"))
    assert not idle.h2_done(idle.h2_frame(0x0, 0x0, 1, b"hi") + idle.h2_frame(0x1, 0x1, 3, b""))


def test_http1_answer_is_whole_with_its_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n"
    assert not idle.http1_done(head + b"Hello")
    assert idle.http1_done(head + b"Hello, World!")


def test_idle_record() -> None:
    line = '{"open": 1000, "failed": {"timed out": 2}, "seconds": 1.5}\n'
    result = runner.idle_result(line, 20.0, 30.0, ["argv"])
    assert result["rss_per_conn_kib"] == pytest.approx(10 * 1024 / 1000)
    assert result["errors"] == 2 and result["open"] == 1000 and result["rate"] is None
    assert "error" in runner.idle_result('{"open": 0, "failed": {}, "seconds": 1}', 20, 30, [])
    assert "error" in runner.idle_result("", 20.0, 30.0, [])
