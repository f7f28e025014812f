"""HTTP/3 with clients nobody here wrote, beyond aioquic's (the other modules): Debian's ngtcp2
example client ``gtlsclient`` (ngtcp2 + nghttp3 + GnuTLS) for GET, POST and many streams on one
connection, and h2load where its build speaks HTTP/3. A missing client skips with its name."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from h2_support import client_env

from helpers import ServerProcess


def gtlsclient() -> str:
    path = shutil.which("gtlsclient")
    if path is None:
        pytest.skip("gtlsclient is not installed (Debian: ngtcp2-client)")
    return path


def run(cmd: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=client_env())
    assert out.returncode == 0, (cmd, out.returncode, out.stdout[-2000:], out.stderr[-2000:])
    return out


def fetch(server: ServerProcess, tmp_path: Path, path: str, *extra: str) -> bytes:
    """One request with gtlsclient; the body it saved under --download."""
    download = tmp_path / "download"
    download.mkdir(exist_ok=True)
    run([gtlsclient(), "-q", "--exit-on-all-streams-close", "--download", str(download), *extra,
         "127.0.0.1", str(server.port), f"https://localhost:{server.port}{path}"])
    name = path.lstrip("/") or "index.html"
    return (download / name).read_bytes()


def test_gtlsclient_get(h3_server: ServerProcess, tmp_path: Path) -> None:
    assert fetch(h3_server, tmp_path, "/text?msg=ngtcp2") == b"ngtcp2"
    scope = json.loads(fetch(h3_server, tmp_path, "/scope"))
    assert scope["http_version"] == "3"
    assert ["host", f"localhost:{h3_server.port}"] in scope["headers"]  # its :authority


def test_gtlsclient_post(h3_server: ServerProcess, tmp_path: Path) -> None:
    body = tmp_path / "body.bin"
    body.write_bytes(b"posted by ngtcp2 " * 10_000)
    echoed = fetch(h3_server, tmp_path, "/body?echo=1", "-m", "POST", "-d", str(body))
    assert echoed == body.read_bytes()


def test_gtlsclient_many_streams(h3_server: ServerProcess, tmp_path: Path) -> None:
    # 500 requests on one connection, as many in flight as the server's stream limit allows.
    out = run([gtlsclient(), "--exit-on-all-streams-close", "--no-quic-dump", "--no-http-dump",
               "-n", "500", "127.0.0.1", str(h3_server.port),
               f"https://localhost:{h3_server.port}/text?msg=many"], timeout=60)
    assert out.stderr.count(":status: 200") + out.stdout.count(":status: 200") == 500


def test_h2load_http3(h3_server: ServerProcess) -> None:
    h2load = shutil.which("h2load")
    if h2load is None:
        pytest.skip("h2load is not installed (Debian: nghttp2-client)")
    out = subprocess.run([h2load, "-n", "10", "-c", "1", "--npn-list", "h3",
                          f"https://127.0.0.1:{h3_server.port}/text"],
                         capture_output=True, text=True, timeout=30, env=client_env())
    if "No protocol negotiated" in out.stdout or "10 succeeded" not in out.stdout:
        # Debian bookworm's h2load is built without ngtcp2/nghttp3: it offers h3 over TCP.
        pytest.skip("this h2load does not speak HTTP/3 (built without ngtcp2/nghttp3)")
    assert "10 succeeded" in out.stdout
