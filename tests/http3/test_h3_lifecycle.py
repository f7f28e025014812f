"""The life of HTTP/3 connections: graceful shutdown (GOAWAY, in-flight streams finish, the
connection closes with H3_NO_ERROR), the grace period running out (streams cancelled), and
--workers with SO_REUSEPORT (each worker serves the UDP port)."""

from __future__ import annotations

import signal
import time

from h3_client import H3Client, parse_frames
from h3_support import REPO, server_args

from helpers import run_server

H3_NO_ERROR = 0x100
H3_REQUEST_REJECTED = 0x10B
H3_REQUEST_CANCELLED = 0x10C
APP = "tests.http3.h3_apps:app"


def server_goaway(c: H3Client) -> int | None:
    """The stream id of the GOAWAY on the server's control stream (id 3), if one came."""
    data = c.raw.get(3, b"")
    if not data:
        return None
    for frame_type, payload in parse_frames(data[1:]):
        if frame_type == 0x7:
            return payload[0] & 0x3F if len(payload) == 1 else int.from_bytes(payload, "big")
    return None


def test_graceful_shutdown(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, ["--timeout-graceful-shutdown", "10"], APP)
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        with H3Client(server.port) as c:
            slow = c.start("GET", "/slow?1.5")
            c.step(0.2)
            server.send_signal(signal.SIGTERM)
            c.run_until(lambda: server_goaway(c) is not None, what="GOAWAY")
            assert server_goaway(c) == slow + 4  # RFC 9114 5.2: the first stream not processed
            late = c.start("GET", "/slow?0")  # sent after the GOAWAY: not processed
            assert c.wait(slow).body == b"slow done"  # the stream in flight finishes
            assert c.wait(late).reset == H3_REQUEST_REJECTED
            assert c.wait_closed().error_code == H3_NO_ERROR
        assert server.wait(10) == 0


def test_grace_period_runs_out(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, ["--timeout-graceful-shutdown", "1"], APP)
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        with H3Client(server.port) as c:
            slow = c.start("GET", "/slow?30")
            c.step(0.2)
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            # The stream is cancelled and the connection closed (the CONNECTION_CLOSE may
            # overtake the RESET_STREAM: closing ends every stream anyway).
            closed = c.wait_closed(timeout=15)
            assert closed.error_code == H3_NO_ERROR
            response = c.responses[slow]
            assert not response.ended and response.reset in (None, H3_REQUEST_CANCELLED)
            assert time.monotonic() - started < 10
        assert server.wait(10) == 0


def test_workers_share_the_udp_port(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, ["--workers", "2"], "tests.http.apps:app")
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        # Each worker binds the port with SO_REUSEPORT once it has started.
        assert server.wait_for_stderr("HTTP/3 (QUIC", count=2)
        for i in range(12):  # new connections, each from its own port: spread over the workers
            with H3Client(server.port) as c:
                assert c.get(f"/text?msg=w{i}").body == f"w{i}".encode()
