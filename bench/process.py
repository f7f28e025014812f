"""Starting, probing, measuring and stopping one server process (and its children)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Callable, Dict, List, Optional

# (port, seconds) -> None once the server answers, else why not
Probe = Callable[[int, float], Optional[str]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(argv: List[str], cpu: str | None) -> List[str]:
    return ["taskset", "-c", cpu, *argv] if cpu is not None else argv


class ServerProcess:
    """A server started in its own session, so it and its workers can be stopped together."""

    def __init__(self, argv: List[str], port: int, env: dict, cwd: Path, log: Path) -> None:
        self.argv = argv
        self.port = port
        self._log: IO[bytes] = open(log, "ab")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float, probe: Probe | None = None) -> str | None:
        """None once the server answers GET /plaintext (over HTTP/1.1 unless another probe
        is given), else why not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return f"exited with code {self.proc.returncode} before serving"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            return f"not listening after {timeout:.0f} s"
        return (probe or http_probe)(self.port, min(5.0, max(1.0, deadline - time.monotonic())))

    def pids(self) -> List[int]:
        return process_tree(self.proc.pid)

    def reset_peak_rss(self) -> bool:
        """Reset VmHWM of every process in the tree (Linux >= 4.0); False if not possible."""
        ok = True
        for pid in self.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def peak_rss_mib(self) -> float | None:
        """The largest VmHWM in the tree: the worker's peak when a server forks one."""
        return self._largest("VmHWM:")

    def rss_mib(self) -> float | None:
        """The largest VmRSS in the tree now."""
        return self._largest("VmRSS:")

    def _largest(self, field: str) -> float | None:
        sizes = [status_kib(pid, field) for pid in self.pids()]
        known = [s for s in sizes if s is not None]
        return max(known) / 1024 if known else None

    def stop(self, timeout: float = 5.0) -> None:
        if self.alive():
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Workers a supervisor left behind share its process group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


def http_probe(port: int, timeout: float, path: str = "/plaintext") -> str | None:
    """None once GET path is answered 200 over HTTP/1.1, else why not."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
               .encode())
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            reply = b""
            while b"\r\n" not in reply:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError as exc:
        return f"GET {path} failed: {exc}"
    if not reply.startswith(b"HTTP/1.1 200"):
        return f"GET {path} answered {reply[:40]!r}"
    return None


def process_tree(root: int) -> List[int]:
    """root and its descendants, from the parent ids in /proc/*/stat."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; the parent id follows the last ")".
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def status_kib(pid: int, field: str) -> int | None:
    """A size from /proc/PID/status ("VmHWM:", "VmRSS:"), in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return None
