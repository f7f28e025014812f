"""An HTTP/2 connection's life: the SETTINGS the options announce, the idle timeout
(--timeout-keep-alive) ending with GOAWAY, keep-alive PINGs (--http2-keep-alive-interval /
-timeout), and graceful shutdown: GOAWAY with the last stream id, in-flight streams finish within
--timeout-graceful-shutdown, the rest are reset."""

from __future__ import annotations

import signal
import socket
import time

from h2_client import H2Client, RawH2
from h2_support import REPO, server_args
from http_wire import inspect

from helpers import run_server

MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE = 3, 4, 5, 6
ENABLE_CONNECT_PROTOCOL = 8


def test_settings_follow_the_options() -> None:
    args = server_args(["--http2-max-concurrent-streams", "7",
                        "--http2-initial-stream-window-size", "100000",
                        "--http2-max-frame-size", "32768",
                        "--http2-max-header-list-size", "20000", "--ws", "none"])
    with run_server(args, cwd=str(REPO)) as server:
        with H2Client(server.port) as client:
            client.wait(lambda: MAX_CONCURRENT_STREAMS in client.remote_settings)
            settings = client.remote_settings
    assert settings[MAX_CONCURRENT_STREAMS] == 7
    assert settings[INITIAL_WINDOW_SIZE] == 100000
    assert settings[MAX_FRAME_SIZE] == 32768
    assert settings[MAX_HEADER_LIST_SIZE] == 20000
    assert settings.get(ENABLE_CONNECT_PROTOCOL, 0) == 0  # no WebSockets: no extended CONNECT


def test_bad_option_values_fail_in_one_line() -> None:
    import subprocess
    import sys

    from helpers import subprocess_env

    out = subprocess.run([sys.executable, "-m", "ruvicorn", "tests.http.apps:app",
                          "--http2-max-frame-size", "1000"], capture_output=True, text=True,
                         timeout=30, cwd=str(REPO), env=subprocess_env())
    assert out.returncode == 1
    assert "--http2-max-frame-size must be between 16384 and 16777215" in out.stderr


def test_idle_connection_gets_goaway_after_keep_alive_timeout() -> None:
    with run_server(server_args(["--timeout-keep-alive", "1"]), cwd=str(REPO)) as server:
        with H2Client(server.port) as client:
            assert client.get("/text?msg=x").body == b"x"
            started = time.monotonic()
            assert client.wait_closed(timeout=6)
            waited = time.monotonic() - started
        assert client.goaway is not None and client.goaway.error_code == 0
        assert client.goaway.last_stream_id == 1
        assert waited >= 0.9  # not before the timeout


def burst(client: H2Client, round_: int) -> None:
    """Ten streams at once, GETs and echoed POST bodies of assorted sizes, each answered whole."""
    streams = {}
    for i in range(10):
        body = bytes([65 + (round_ + i) % 26]) * (37 * i * i)
        if i % 2:
            streams[client.request("POST", "/body?echo=1", body=body)] = body
        else:
            msg = f"r{round_}s{i}"
            streams[client.request("GET", f"/text?msg={msg}&repeat={i + 1}")] = \
                msg.encode() * (i + 1)
    for stream_id, expected in streams.items():
        result = client.response(stream_id)
        assert result.status == 200
        assert result.body == expected


def test_a_busy_connection_serves_again_after_giving_back_what_it_kept() -> None:
    # A busy connection keeps its buffers, streams and lists from request to request and gives
    # them back after a second without a stream (the sweep runs every half second); what it
    # takes again afterwards must serve whole responses (run under AddressSanitizer in CI).
    with run_server(server_args(["--timeout-keep-alive", "30"]), cwd=str(REPO)) as server:
        with H2Client(server.port) as client:
            for round_ in range(3):
                burst(client, round_)
            time.sleep(1.8)  # no event to wait for: the give-back is the server's own timer
            for round_ in range(3, 6):
                burst(client, round_)
            assert client.goaway is None


def test_keep_alive_pings() -> None:
    args = server_args(["--http2-keep-alive-interval", "0.5", "--http2-keep-alive-timeout", "2",
                        "--timeout-keep-alive", "30"])
    with run_server(args, cwd=str(REPO)) as server:
        with H2Client(server.port) as client:  # h2 answers PINGs: the connection stays
            client.wait(lambda: client.pings_received >= 2, timeout=6)
            assert client.get("/text?msg=alive").body == b"alive"
        # A client that never answers is closed once the timeout passes.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            deadline = time.monotonic() + 8
            closed = False
            while time.monotonic() < deadline:
                sock.settimeout(deadline - time.monotonic())
                if not sock.recv(65536):
                    closed = True
                    break
            assert closed


GOAWAY, RST_STREAM, HEADERS, DATA = 0x7, 0x3, 0x1, 0x0


def test_graceful_shutdown_lets_streams_in_flight_finish() -> None:
    with run_server(server_args(["--timeout-graceful-shutdown", "10"]), cwd=str(REPO)) as server:
        with RawH2(server.port) as raw:
            # /hold answers by itself after 1.5 s; "holding" says it has started.
            raw.headers(1, [(":method", "GET"), (":path", "/hold?token=grace&timeout=1.5"),
                            (":scheme", "http"), (":authority", "localhost")])
            inspect(server.port, "grace")
            server.proc.send_signal(signal.SIGTERM)
            frames = raw.frames_until_eof(timeout=15)
        assert server.proc.wait(timeout=15) == 0
    kinds = [(t, s) for t, _, s, _ in frames if t in (GOAWAY, HEADERS, DATA, RST_STREAM)]
    goaway = [p for t, _, _, p in frames if t == GOAWAY]
    assert goaway, frames
    last_stream = int.from_bytes(goaway[0][:4], "big") & 0x7FFFFFFF
    code = int.from_bytes(goaway[0][4:8], "big")
    assert (last_stream, code) == (1, 0)  # NO_ERROR, stream 1 is processed
    assert kinds.index((GOAWAY, 0)) < kinds.index((HEADERS, 1))  # GOAWAY first, then the answer
    body = b"".join(p for t, _, s, p in frames if t == DATA and s == 1)
    assert body == b"released"
    assert (RST_STREAM, 1) not in kinds


def test_graceful_shutdown_resets_what_outlives_the_grace_period() -> None:
    with run_server(server_args(["--timeout-graceful-shutdown", "1"]), cwd=str(REPO)) as server:
        with RawH2(server.port) as raw:
            raw.headers(1, [(":method", "GET"), (":path", "/hold?token=late&timeout=30"),
                            (":scheme", "http"), (":authority", "localhost")])
            inspect(server.port, "late")
            started = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            frames = raw.frames_until_eof(timeout=15)
            elapsed = time.monotonic() - started
        server.proc.wait(timeout=15)
    assert any(t == GOAWAY for t, _, _, _ in frames)
    assert not any(t == HEADERS and s == 1 for t, _, s, _ in frames)  # never answered
    resets = [int.from_bytes(p, "big") for t, _, s, p in frames if t == RST_STREAM and s == 1]
    assert resets == [0x8]  # CANCEL, once the grace period is over
    assert elapsed < 8
