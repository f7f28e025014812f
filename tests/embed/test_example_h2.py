"""The C++ embedding example serving HTTP/2 (cleartext, prior knowledge) through the same core API.

Real clients (curl --http2-prior-knowledge, nghttp, h2load, the python h2 library) and the
server-agnostic conformance module tests/http2/h2_conformance.py (every h2spec case and the known
HTTP/2 attacks, hand-built frames) against the example server built as an outside consumer.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.settings
import h2_conformance
import pytest
from example_server import example_server

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def base_url(example_binary: Path) -> Iterator[str]:
    with example_server(example_binary) as url:
        yield url


@pytest.fixture(scope="module")
def target(base_url: str) -> h2_conformance.Target:
    host, port = base_url.removeprefix("http://").split(":")
    return h2_conformance.Target(host, int(port), get_path="/", echo_path="/echo")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: nghttp2-client / curl)")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


# --- real clients ------------------------------------------------------------------------------

def test_curl_prior_knowledge(base_url: str) -> None:
    curl = _tool("curl")
    # One URL per run: curl 7.88 fails to reuse a prior-knowledge connection with any server
    # (hypercorn too); nghttp and h2load below put many streams on one connection.
    out = _run(curl, "-sS", "--http2-prior-knowledge", "-w", "|%{http_version}", f"{base_url}/")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Hello, world!\n|2"
    head = _run(curl, "-sS", "--http2-prior-knowledge", "-I", f"{base_url}/")
    assert head.stdout.startswith("HTTP/2 200")
    assert "content-length: 14" in head.stdout
    for path, method, status in (("/missing", "GET", "404"), ("/", "DELETE", "405")):
        code = _run(curl, "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                    "%{http_code}", "-X", method, f"{base_url}{path}")
        assert code.stdout == status


def test_curl_large_echo_through_the_windows(base_url: str, tmp_path: Path) -> None:
    curl = _tool("curl")
    body = bytes(range(256)) * 4096  # 1 MiB: more than one stream window each way
    src = tmp_path / "body"
    src.write_bytes(body)
    out = subprocess.run([curl, "-sS", "--http2-prior-knowledge", "--data-binary", f"@{src}",
                          f"{base_url}/echo"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == body


def test_body_over_the_limit_gets_413(base_url: str, tmp_path: Path) -> None:
    # nghttp rather than curl: after the 413 the server resets the upload (RST_STREAM NO_ERROR,
    # RFC 9113 8.1, as httpd does), which curl 7.88 reports as a failed transfer.
    nghttp = _tool("nghttp")
    src = tmp_path / "big"
    src.write_bytes(b"x" * (2 * 1024 * 1024))  # the example allows 1 MiB
    out = _run(nghttp, "-v", "-d", str(src), f"{base_url}/echo")
    assert ":status: 413" in out.stdout
    assert "RST_STREAM" in out.stdout and "error_code=NO_ERROR" in out.stdout


def test_nghttp_concurrent_streams(base_url: str, tmp_path: Path) -> None:
    nghttp = _tool("nghttp")
    out = _run(nghttp, "-nv", "-m", "20", f"{base_url}/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(":status: 200") == 20
    assert "error_code=NO_ERROR" in out.stdout  # nghttp's own GOAWAY at the end
    src = tmp_path / "post"
    src.write_bytes(b"nghttp body " * 10000)
    echo = _run(nghttp, "-d", str(src), f"{base_url}/echo")
    assert echo.returncode == 0, echo.stderr
    assert echo.stdout == src.read_text()


def test_h2load_many_connections_and_streams(base_url: str) -> None:
    h2load = _tool("h2load")
    out = _run(h2load, "-n", "4000", "-c", "16", "-m", "10", f"{base_url}/")
    assert out.returncode == 0, out.stderr
    assert "4000 succeeded, 0 failed, 0 errored" in out.stdout, out.stdout
    assert "status codes: 4000 2xx" in out.stdout


def test_python_h2_client_flow_control(base_url: str) -> None:
    """A 1 MB echo to a client whose stream windows are 16 KiB: our DATA must wait for its
    WINDOW_UPDATEs, stream after stream of them, and resume each time."""
    host, port = base_url.removeprefix("http://").split(":")
    body = b"0123456789abcdef" * 62500
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.local_settings = h2.settings.Settings(client=True, initial_values={
        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16384})
    conn.initiate_connection()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(conn.data_to_send())
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"),
                                   (":authority", f"{host}:{port}")])
        sent, received, done = 0, bytearray(), False
        while not done:
            while sent < len(body):
                room = min(conn.local_flow_control_window(stream), conn.max_outbound_frame_size)
                if room <= 0:
                    break
                chunk = body[sent:sent + room]
                sent += len(chunk)
                conn.send_data(stream, chunk, end_stream=sent == len(body))
            sock.sendall(conn.data_to_send())
            data = sock.recv(65536)
            assert data, "the server closed the connection"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    received += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamEnded):
                    done = True
                elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                    pytest.fail(f"unexpected {event}")
            sock.sendall(conn.data_to_send())
    assert bytes(received) == body


def test_http1_still_served_on_the_same_port(base_url: str) -> None:
    curl = _tool("curl")
    out = _run(curl, "-sS", "-w", "|%{http_version}", f"{base_url}/")
    assert out.stdout == "Hello, world!\n|1.1"


# --- conformance: every h2spec case and the attacks, with hand-built frames --------------------

@pytest.mark.parametrize("case_id", list(h2_conformance.CASES))
def test_conformance(target: h2_conformance.Target, case_id: str) -> None:
    h2_conformance.CASES[case_id](target)
