"""One worker process: a spawned child that runs ``Server`` on sockets bound by the supervisor,
and answers health pings on a pipe with whether it has finished start-up."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from socket import socket
from typing import Any, Callable

from ruvicorn.config import Config, unimportable_app_exits

multiprocessing.allow_connection_pickling()  # lets listening sockets travel to spawned children
_spawn = multiprocessing.get_context("spawn")

logger = logging.getLogger("ruvicorn.error")


def _answer_pings(conn: Connection, server: Any) -> None:
    try:
        while True:
            conn.recv()
            conn.send(bool(server.started))
    except (EOFError, OSError):
        return  # the supervisor went away or closed the pipe


def _worker_main(config: Config, sockets: list[socket], conn: Connection,
                 stdin_fileno: int | None, metrics_memory: Any = None) -> None:
    """Entry point of the child process."""
    from ruvicorn.server import Server

    if stdin_fileno is not None:
        try:
            sys.stdin = os.fdopen(stdin_fileno)  # keeps breakpoint() usable in workers
        except OSError:
            pass
    config.configure_logging()
    server = Server(config)
    server.metrics_memory = metrics_memory  # --metrics: counted here, served by the supervisor
    threading.Thread(target=_answer_pings, args=(conn, server), daemon=True).start()
    try:
        with unimportable_app_exits():
            server.run(sockets)
    except KeyboardInterrupt:
        pass


class WorkerProcess:
    def __init__(self, config: Config, sockets: list[socket], metrics: Any = None) -> None:
        self.metrics = metrics  # its ruvicorn.metrics.SharedSlot with --metrics
        self.parent_conn, child_conn = _spawn.Pipe()
        try:
            stdin_fileno: int | None = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            stdin_fileno = None
        self.process = _spawn.Process(
            target=_worker_main, args=(config, sockets, child_conn, stdin_fileno, metrics),
            daemon=False)
        self._child_conn = child_conn
        self.ever_ready = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def start(self) -> None:
        self.process.start()

    def ping(self, timeout: float) -> bool | None:
        """The worker's start-up flag, or None if it does not answer within ``timeout``."""
        try:
            self.parent_conn.send(b"ping")
            if not self.parent_conn.poll(timeout):
                return None
            started = bool(self.parent_conn.recv())
        except (OSError, EOFError, ValueError):
            return None
        self.ever_ready = self.ever_ready or started
        return started

    def is_alive(self, timeout: float) -> bool:
        return self.process.is_alive() and self.ping(timeout) is not None

    def wait_until_ready(self, timeout: float, should_stop: Callable[[], bool]) -> bool:
        """True once the worker reports start-up complete; False if it dies, ``should_stop()``
        becomes true, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not should_stop():
            if not self.process.is_alive():
                return False
            if self.ping(timeout=1.0):
                return True
            time.sleep(0.1)
        return False

    def terminate(self) -> None:
        if self.process.exitcode is None and self.process.pid is not None:
            os.kill(self.process.pid, signal.SIGTERM)
            logger.info("Terminated child process [%d]", self.process.pid)

    def kill(self) -> None:
        self.process.kill()

    def join(self, timeout: float | None = None) -> None:
        logger.info("Waiting for child process [%s]", self.process.pid)
        self.process.join(timeout)
        if self.process.exitcode is not None:
            self.close()

    def close(self) -> None:
        self.parent_conn.close()
        self._child_conn.close()
