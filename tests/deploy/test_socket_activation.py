"""systemd socket activation as docs/deployment.md describes it: the socket is opened by the
service manager and handed over as fd 3 (sd_listen_fds), ruvicorn serves it with `--fd 3`.

systemd-socket-activate is systemd's own tool for exactly this: it listens, and on the first
connection execs the command in its place with LISTEN_FDS=1 and the socket as fd 3. (Passing an
inherited descriptor in general is covered by tests/server/test_server_sockets.py.)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import httpx
import pytest

from helpers import free_port, protocol_available, run_server

HERE = Path(__file__).resolve().parent
ACTIVATE = shutil.which("systemd-socket-activate")
pytestmark = [
    pytest.mark.skipif(ACTIVATE is None,
                       reason="systemd-socket-activate not installed (Debian package systemd)"),
    pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built"),
]


def activated(listen: str) -> list[str]:
    # The tool starts the command with a clean environment: -E passes the variables the test
    # server needs (our package first on PYTHONPATH, unbuffered logs).
    assert ACTIVATE
    return [ACTIVATE, "-l", listen, "-E", "PYTHONPATH", "-E", "PYTHONUNBUFFERED",
            sys.executable, "-m", "ruvicorn"]


ARGS = ["deploy_apps:app", "--app-dir", str(HERE), "--lifespan", "off", "--fd", "3"]


def test_tcp_socket_from_the_service_manager() -> None:
    port = free_port()
    with run_server(ARGS, command=activated(f"127.0.0.1:{port}"),
                    ready=f"Listening on 127.0.0.1:{port} as 3.") as server:
        # ruvicorn starts on this first connection, which waits in the socket's backlog.
        response = httpx.get(f"http://127.0.0.1:{port}/activated", timeout=30)
        assert response.json()["path"] == "/activated"
        assert server.wait_for_stderr("Ruvicorn running on socket")
        assert httpx.get(f"http://127.0.0.1:{port}/again", timeout=10).status_code == 200


def test_unix_socket_with_workers(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    with run_server([*ARGS, "--workers", "2"], command=activated(str(path)),
                    ready=f"Listening on {path} as 3.") as server:
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, timeout=30) as client:
            report = client.get("http://localhost/activated").json()
        assert report["path"] == "/activated"
        assert len(report["connections"]) == 1  # this request's, on the activated socket
        assert server.wait_for_stderr("Started parent process")
        assert server.wait_for_stderr("Started server process", count=2)
