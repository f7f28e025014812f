"""``--workers N``: bind once, run N worker processes, keep them alive and healthy.

Signals: SIGINT/SIGTERM stop (forwarded to workers as SIGTERM for a graceful stop), SIGHUP
replaces workers one by one (the listening socket stays open), SIGTTIN/SIGTTOU add/remove one.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from socket import socket
from typing import Any

from ruvicorn.config import EXIT_USAGE, STARTUP_FAILURE, Config
from ruvicorn.logging import style
from ruvicorn.supervisors.process import WorkerProcess

SIGNAL_NAMES = {
    getattr(signal, f"SIG{name}"): name
    for name in ("INT", "TERM", "HUP", "QUIT", "TTIN", "TTOU", "USR1", "USR2", "WINCH")
    if hasattr(signal, f"SIG{name}")
}
POLL_SECONDS = 0.5
MIN_READY_SECONDS = 30.0  # a replacement worker may import a big app before it is ready

logger = logging.getLogger("ruvicorn.error")


class Multiprocess:
    def __init__(self, config: Config, sockets: list[socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.processes_num = config.workers
        self.processes: list[WorkerProcess] = []
        self.should_exit = threading.Event()
        self.exit_code = 0
        self.signal_queue: list[int] = []
        self.metrics: Any = None  # ruvicorn.metrics.SupervisorMetrics with --metrics
        for sig in SIGNAL_NAMES:
            signal.signal(sig, lambda sig, frame: self.signal_queue.append(sig))

    @property
    def ready_timeout(self) -> float:
        return max(float(self.config.timeout_worker_healthcheck), MIN_READY_SECONDS)

    def _spawn(self, index: int | None) -> WorkerProcess:
        """A new worker; `index` is its place in self.processes (None: not in service yet)."""
        slot = self.metrics.new_slot() if self.metrics is not None else None
        process = WorkerProcess(self.config, self.sockets, metrics=slot)
        process.start()
        if index is not None:
            self._in_service(index, process)
        return process

    def _in_service(self, index: int, process: WorkerProcess) -> None:
        if self.metrics is not None:
            self.metrics.in_service(process.metrics, str(index))

    def _retire(self, process: WorkerProcess) -> None:
        """After join(): the exited worker's counts join the supervisor's totals."""
        if self.metrics is not None:
            self.metrics.retire(process.metrics)

    def run(self) -> None:
        pid = os.getpid()
        logger.info("Started parent process [%d]", pid, extra={
            "color_message": f"Started parent process [{style(str(pid), fg='cyan', bold=True)}]"})
        if self.config.metrics:
            from ruvicorn.metrics import SupervisorMetrics

            try:
                self.metrics = SupervisorMetrics(self.config)
            except OSError as exc:
                logger.error("Metrics endpoint: %s", exc)
                sys.exit(STARTUP_FAILURE)
        self.processes = [self._spawn(i) for i in range(self.processes_num)]
        while not self.should_exit.wait(POLL_SECONDS):
            self.handle_signals()
            self.keep_subprocess_alive()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join()
        if self.metrics is not None:
            self.metrics.stop()
        logger.info("Stopping parent process [%d]", pid, extra={
            "color_message": f"Stopping parent process [{style(str(pid), fg='cyan', bold=True)}]"})
        if self.exit_code:
            sys.exit(self.exit_code)

    def keep_subprocess_alive(self) -> None:
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            if process.process.is_alive():
                logger.error("Child process [%s] did not answer the health check in time; "
                             "killing it.", process.pid)
            process.kill()
            process.join()
            self._retire(process)
            if not process.ever_ready and process.exitcode in (EXIT_USAGE, STARTUP_FAILURE):
                # It failed before serving (app, TLS or bind): every restart would fail the same.
                logger.error("Child process [%s] failed to start, stopping the parent process.",
                             process.pid)
                self.exit_code = process.exitcode or STARTUP_FAILURE
                self.should_exit.set()
                return
            logger.info("Child process [%s] died", process.pid)
            self.processes[index] = self._spawn(index)

    def handle_signals(self) -> None:
        while self.signal_queue:
            sig = self.signal_queue.pop(0)
            handler = getattr(self, f"handle_{SIGNAL_NAMES[sig].lower()}", None)
            if handler is not None:
                handler()
            else:
                logger.debug("Received signal %s, but no handler is defined for it.",
                             SIGNAL_NAMES[sig])

    def handle_int(self) -> None:
        logger.info("Received SIGINT, exiting.")
        self.should_exit.set()

    def handle_term(self) -> None:
        logger.info("Received SIGTERM, exiting.")
        self.should_exit.set()

    def handle_hup(self) -> None:
        logger.info("Received SIGHUP, restarting processes.")
        self.restart_all()

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN, increasing the number of processes.")
        self.processes_num += 1
        self.processes.append(self._spawn(len(self.processes)))

    def handle_ttou(self) -> None:
        logger.info("Received SIGTTOU, decreasing number of processes.")
        if self.processes_num <= 1:
            logger.info("Already reached one process, cannot decrease the number of processes "
                        "anymore.")
            return
        self.processes_num -= 1
        process = self.processes.pop()
        process.terminate()
        process.join()
        self._retire(process)

    def _stop_requested(self) -> bool:
        # Signal handlers only queue (taking a lock in a handler can deadlock); peek at the queue.
        return self.should_exit.is_set() or any(
            sig in (signal.SIGINT, signal.SIGTERM) for sig in self.signal_queue)

    def restart_all(self) -> None:
        """Bring each replacement into service before retiring the worker it replaces."""
        for index, old in enumerate(list(self.processes)):
            if self.should_exit.is_set():
                return
            new = self._spawn(None)
            if not new.wait_until_ready(self.ready_timeout, self._stop_requested):
                new.kill()
                new.join()
                self._retire(new)
                if not self.should_exit.is_set():
                    logger.error("New child process [%s] was not ready in time; keeping worker "
                                 "[%s] and aborting the restart.", new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self._retire(old)
            self.processes[index] = new
            self._in_service(index, new)
