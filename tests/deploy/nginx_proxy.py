"""Debian's nginx as the test's own process: its own prefix and config in a temporary directory,
listening on a loopback port the test picked, stopped by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

from helpers import free_port

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def find_nginx() -> str | None:
    # /usr/sbin is not on every PATH (a non-root shell, CI's environment).
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


class Nginx:
    def __init__(self, proc: subprocess.Popen, port: int, prefix: Path) -> None:
        self.proc = proc
        self.port = port
        self.prefix = prefix

    @property
    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text() if path.exists() else ""


def config(http: str, prefix: Path) -> str:
    """A whole nginx.conf around ``http`` (the body of the http block)."""
    # Started as root, nginx would run its workers as nobody, who cannot reach sockets in the
    # test's private temporary directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"  {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'error.log'} info;
events {{ worker_connections 128; }}
http {{
  access_log {prefix / 'access.log'};
{temp}
{http}
}}
"""


@contextlib.contextmanager
def run_nginx(http: str, prefix: Path, port: int | None = None) -> Iterator[Nginx]:
    """Starts nginx with ``http`` as its http block (``{port}`` is replaced by the port to listen
    on), waits until it accepts, yields, then stops it by PID (SIGQUIT, SIGKILL after a bound)."""
    binary = find_nginx()
    assert binary, "nginx not installed"
    port = port or free_port()
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(config(http.replace("{port}", str(port)), prefix))
    proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-e",
                             str(prefix / "error.log")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    server = Nginx(proc, port, prefix)
    try:
        _wait_listening(server)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: lets the workers close their connections
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stderr:
            proc.stderr.close()


def _wait_listening(server: Nginx) -> None:
    # nginx says nothing when it is ready: poll its port, and stop early if it exited.
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.proc.poll() is not None:
            err = server.proc.stderr.read() if server.proc.stderr else ""
            raise AssertionError(f"nginx exited {server.proc.returncode}:\n{err}{server.error_log}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx not listening:\n{server.error_log}") from None
            time.sleep(0.05)
