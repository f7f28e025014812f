"""Shared helpers for tests that start the real ``ruvicorn`` command line.

    from tests.helpers import run_server   # or: from helpers import run_server

    with run_server(["app:app", "--app-dir", str(APPS)]) as server:
        httpx.get(f"http://127.0.0.1:{server.port}/")
        assert "Application startup complete." in server.stderr_text()

The server is started as ``python -m ruvicorn ARGS --port <free port>`` (unless the arguments name
--port, --uds or --fd), readiness is the "Ruvicorn running on" start-up line on stderr, and the
process is stopped by PID (SIGTERM, then SIGKILL after a bound) when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

import ruvicorn

SRC_DIR = str(Path(ruvicorn.__file__).resolve().parent.parent)
READY_LINE = "Ruvicorn running on"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def sanitized() -> bool:
    """Do the servers run under AddressSanitizer (CI's sanitized pass)? Its redzones and
    quarantine keep freed memory for a while, so RSS bounds are checked in the ordinary pass."""
    return "libasan" in os.environ.get("LD_PRELOAD", "")


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# Kept for the servers the tests start (every other RUVICORN_* variable would set an option):
# RUVICORN_PICO_SSE42=0 runs the whole suite on picohttpparser's portable scan.
KEPT_VARIABLES = ("RUVICORN_PICO_SSE42",)


def subprocess_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment with our package first on PYTHONPATH, plus ``env``."""
    merged = {k: v for k, v in os.environ.items()
              if k in KEPT_VARIABLES or not (k.startswith(("RUVICORN_", "UVICORN_"))
                                             or k in ("WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"))}
    paths = [SRC_DIR] + [p for p in merged.get("PYTHONPATH", "").split(os.pathsep) if p]
    merged["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    merged["PYTHONUNBUFFERED"] = "1"
    merged.update(env or {})
    return merged


class _StreamReader:
    """Collects a pipe's lines on a thread so the child never blocks on a full pipe."""

    def __init__(self, stream: object | None) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: object) -> None:
        for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def text(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float, proc: subprocess.Popen,
                 count: int = 1) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while "".join(self.lines).count(needle) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (proc.poll() is not None and not self._thread.is_alive()):
                    return False
                self._changed.wait(min(remaining, 0.2))
            return True

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class ServerProcess:
    def __init__(self, proc: subprocess.Popen, port: int | None, host: str) -> None:
        self.proc = proc
        self.port = port
        self.host = host
        self._stderr = _StreamReader(proc.stderr)
        self._stdout = _StreamReader(proc.stdout)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stderr_text(self) -> str:
        return self._stderr.text()

    def stdout_text(self) -> str:
        return self._stdout.text()

    def wait_for_stderr(self, needle: str, timeout: float = START_TIMEOUT,
                        count: int = 1) -> bool:
        """Wait until ``needle`` has appeared ``count`` times on stderr."""
        return self._stderr.wait_for(needle, timeout, self.proc, count)

    def wait_for_stdout(self, needle: str, timeout: float = START_TIMEOUT) -> bool:
        return self._stdout.wait_for(needle, timeout, self.proc)

    def send_signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for exit and return the exit status; the pipes are drained first."""
        code = self.proc.wait(timeout)
        self._stderr.join(5)
        self._stdout.join(5)
        return code

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        self.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise


def start_server(args: Sequence[str], env: dict[str, str] | None = None,
                 cwd: str | None = None, pass_fds: Sequence[int] = (),
                 command: Sequence[str] = ()) -> ServerProcess:
    """Start ``python -m ruvicorn ARGS`` (or ``command ARGS``) without waiting for it."""
    args = list(args)
    host = "127.0.0.1"
    if "--host" in args:
        host = args[args.index("--host") + 1]
    port: int | None = None
    if "--port" in args:
        port = int(args[args.index("--port") + 1])
    elif not any(a in args for a in ("--uds", "--fd")) and not pass_fds:
        port = free_port(host)
        args += ["--port", str(port)]
    proc = subprocess.Popen(
        [*(command or (sys.executable, "-m", "ruvicorn")), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=subprocess_env(env), cwd=cwd, pass_fds=tuple(pass_fds),
    )
    return ServerProcess(proc, port, host)


@contextlib.contextmanager
def run_server(args: Sequence[str], env: dict[str, str] | None = None,
               cwd: str | None = None, ready: str = READY_LINE,
               timeout: float = START_TIMEOUT,
               pass_fds: Sequence[int] = (),
               command: Sequence[str] = ()) -> Iterator[ServerProcess]:
    """Start the server, wait for ``ready`` on stderr, yield, then stop it by PID."""
    server = start_server(args, env=env, cwd=cwd, pass_fds=pass_fds, command=command)
    try:
        if not server.wait_for_stderr(ready, timeout):
            raise AssertionError(
                f"server did not become ready (exit={server.proc.poll()}):\n"
                f"{server.stderr_text()}")
        yield server
    finally:
        if server.proc.poll() is None:
            try:
                server.stop()
            except subprocess.TimeoutExpired:
                pass


def run_cli(args: Sequence[str], env: dict[str, str] | None = None,
            cwd: str | None = None, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run ``python -m ruvicorn ARGS`` to completion (for commands that exit by themselves)."""
    return subprocess.run(
        [sys.executable, "-m", "ruvicorn", *args], capture_output=True, text=True,
        env=subprocess_env(env), cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def wait_port(host: str, port: int, timeout: float = START_TIMEOUT) -> None:
    """Poll until a TCP connect succeeds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def protocol_available() -> bool:
    """True once the C++ protocol (``ruvicorn.protocols``) can be imported."""
    try:
        import ruvicorn.protocols  # noqa: F401
    except ImportError:
        return False
    return True


def rss(pid: int) -> int:
    """Resident set size of the process and its children, in bytes."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pids.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total
