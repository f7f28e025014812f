"""``--reload``: run the app in a child process and replace it when watched files change.

The replacement is started before the running worker is stopped; if the changed code fails to
import or start, the error is printed, the previous worker keeps serving and the reloader waits
for the next change.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from socket import socket
from types import FrameType
from typing import Any

from ruvicorn.config import (
    EXIT_USAGE,
    RELOAD_DEFAULT_EXCLUDES,
    RELOAD_DEFAULT_INCLUDES,
    STARTUP_FAILURE,
    Config,
)
from ruvicorn.logging import style
from ruvicorn.supervisors.process import WorkerProcess

READY_SECONDS = 60.0

logger = logging.getLogger("ruvicorn.error")


class FileFilter:
    """Which changed paths trigger a reload (glob patterns on the path, like uvicorn's)."""

    def __init__(self, config: Config) -> None:
        self.includes = [p for p in RELOAD_DEFAULT_INCLUDES if p not in config.reload_excludes]
        self.includes += [p for p in config.reload_includes if p not in self.includes]
        self.excludes = [p for p in RELOAD_DEFAULT_EXCLUDES if p not in config.reload_includes]
        self.exclude_dirs = list(config.reload_dirs_excludes)
        for pattern in config.reload_excludes:
            if not Path(pattern).is_dir() and pattern not in self.excludes:
                self.excludes.append(pattern)

    def __call__(self, path: Path) -> bool:
        if not any(path.match(p) for p in self.includes):
            return False
        if any(d in path.parents for d in self.exclude_dirs):
            return False
        return not any(path.match(p) for p in self.excludes if not _names_file(p, path))


def _names_file(pattern: str, path: Path) -> bool:
    # An include that names this very file wins over a broad exclude.
    return str(path).endswith(pattern)


def _display(path: Path) -> str:
    try:
        return f"'{path.relative_to(Path.cwd())}'"
    except ValueError:
        return f"'{path}'"


class ChangeReload:
    reloader_name = "WatchFiles"

    def __init__(self, config: Config, sockets: list[socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.should_exit = threading.Event()
        self.worker: WorkerProcess | None = None
        self.file_filter = FileFilter(config)
        self.metrics: Any = None  # ruvicorn.metrics.SupervisorMetrics with --metrics

    def _signal(self, sig: int, frame: FrameType | None) -> None:
        self.should_exit.set()

    def run(self) -> None:
        try:
            from watchfiles import watch
        except ImportError:
            logger.error("--reload needs watchfiles: pip install watchfiles "
                         "(or ruvicorn[standard]).")
            sys.exit(EXIT_USAGE)

        pid = os.getpid()
        logger.info("Started reloader process [%d] using %s", pid, self.reloader_name, extra={
            "color_message": "Started reloader process [{}] using {}".format(
                style(str(pid), fg="cyan", bold=True), style(self.reloader_name, fg="cyan",
                                                             bold=True))})
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._signal)
        if self.config.metrics:  # one endpoint across reloads (old and new overlap)
            from ruvicorn.metrics import SupervisorMetrics

            try:
                self.metrics = SupervisorMetrics(self.config)
            except OSError as exc:
                logger.error("Metrics endpoint: %s", exc)
                sys.exit(STARTUP_FAILURE)
        self.worker = self._spawn()
        self._in_service(self.worker)
        step_ms = max(50, int(self.config.reload_delay * 1000))
        for changes in watch(*self.config.reload_dirs, watch_filter=None, step=step_ms,
                             stop_event=self.should_exit, yield_on_timeout=True,
                             rust_timeout=500, raise_interrupt=False,
                             ignore_permission_denied=True):
            if self.should_exit.is_set():
                break
            paths = sorted({Path(p) for _, p in changes if self.file_filter(Path(p))})
            if paths:
                logger.warning("%s detected changes in %s. Reloading...", self.reloader_name,
                               ", ".join(_display(p) for p in paths))
                self.restart()
        self.shutdown(pid)

    def _spawn(self) -> WorkerProcess:
        slot = self.metrics.new_slot() if self.metrics is not None else None
        worker = WorkerProcess(self.config, self.sockets, metrics=slot)
        worker.start()
        return worker

    def _in_service(self, worker: WorkerProcess) -> None:
        if self.metrics is not None:
            self.metrics.in_service(worker.metrics, "0")

    def _retire(self, worker: WorkerProcess) -> None:
        if self.metrics is not None:
            self.metrics.retire(worker.metrics)

    def restart(self) -> None:
        old = self.worker
        new = self._spawn()
        if old is None or not old.process.is_alive():
            if old is not None:
                old.join()
                self._retire(old)
            self.worker = new
            self._in_service(new)
            return
        if new.wait_until_ready(READY_SECONDS, self.should_exit.is_set):
            old.terminate()
            old.join()
            self._retire(old)
            self.worker = new
            self._in_service(new)
            return
        new.kill()
        new.join()
        self._retire(new)
        if not self.should_exit.is_set():
            logger.error("The changed code did not start; the previous version keeps serving. "
                         "Waiting for the next change...")

    def shutdown(self, pid: int) -> None:
        if self.worker is not None:
            self.worker.terminate()
            self.worker.join()
        for sock in self.sockets:
            sock.close()
        if self.metrics is not None:
            self.metrics.stop()
        coloured_pid = style(str(pid), fg="cyan", bold=True)
        logger.info("Stopping reloader process [%d]", pid,
                    extra={"color_message": f"Stopping reloader process [{coloured_pid}]"})
