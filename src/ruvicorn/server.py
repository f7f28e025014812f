"""``Server``: listening sockets, signals, the main loop and graceful shutdown.

The per-connection work happens in the C++ protocol (``ruvicorn.protocols``); this module only
starts it, watches the shared ``ServerState`` and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterator, Sequence

from ruvicorn.config import STARTUP_FAILURE, Config, log_running
from ruvicorn.logging import style

if TYPE_CHECKING:
    from ruvicorn.lifespan import LifespanOff, LifespanOn

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
TICK_SECONDS = 0.1

logger = logging.getLogger("ruvicorn.error")


class ServerState:
    """State shared between the server and every protocol object."""

    def __init__(self) -> None:
        self.http_context: Any = None  # ruvicorn._core.HttpContext, set by ruvicorn.protocols
        self.connections: set[Any] = set()  # each has .shutdown() and .abort()
        self.tasks: set[asyncio.Task[None]] = set()
        self.lifespan_state: dict[str, Any] = {}

    @property
    def total_requests(self) -> int:
        """Requests received so far (counted by the protocol in C++, read here for
        --limit-max-requests)."""
        return self.http_context.total_requests if self.http_context is not None else 0


def run_with_loop_factory(main: Awaitable[Any],
                          loop_factory: Callable[[], asyncio.AbstractEventLoop] | None) -> Any:
    """``asyncio.run(main, loop_factory=...)`` on every supported Python."""
    if loop_factory is None:
        return asyncio.run(main)  # type: ignore[arg-type]
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(main)  # type: ignore[arg-type]
    loop = loop_factory()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def freeze_startup_heap() -> bool:
    """Collects the start-up garbage, then moves every object alive (modules, the app and its
    routes, the lifespan state...) into the cyclic GC's permanent generation: a full collection
    then walks only what the requests made, not the whole heap again (HTTP/2 with 640 requests
    in flight ran 32 full collections in 5 s, 372 ms of them; frozen, 13-25 ms). Per-request
    objects are tracked and collected as before. True if nothing was frozen before (so that
    ``thaw_startup_heap`` may undo it)."""
    first = gc.get_freeze_count() == 0
    gc.collect()
    gc.freeze()
    return first


def thaw_startup_heap() -> None:
    """Gives the frozen objects back to the collector (a server run inside a longer process)."""
    gc.unfreeze()


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.server_state = ServerState()
        self.started = False
        self.should_exit = False
        self.force_exit = False
        self.last_notified = 0.0
        self.servers: list[asyncio.AbstractServer] = []
        self.http3: Any = None  # ruvicorn.http3.Http3Endpoint with --http3
        self.lifespan: LifespanOn | LifespanOff
        self._captured_signals: list[int] = []
        self.metrics: Any = None  # ruvicorn.metrics.ServerMetrics with --metrics
        self.metrics_memory: Any = None  # the slot a supervisor gave this worker (--metrics)
        self._froze_heap = False
        self._limit_max_requests: int | None = None
        if config.limit_max_requests is not None:
            # Jitter staggers worker restarts so that all workers do not recycle at once.
            jitter = random.randint(0, max(0, config.limit_max_requests_jitter))
            self._limit_max_requests = config.limit_max_requests + jitter

    @property
    def limit_max_requests(self) -> int | None:
        return self._limit_max_requests

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        run_with_loop_factory(self.serve(sockets=sockets), self.config.get_loop_factory())

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        with self.capture_signals():
            await self._serve(sockets)

    async def _serve(self, sockets: list[socket.socket] | None = None) -> None:
        pid = os.getpid()
        config = self.config
        if not config.loaded:
            config.load()
        self.lifespan = config.lifespan_class(config)
        logger.info("Started server process [%d]", pid,
                    extra={"color_message": "Started server process [" + style("%d", fg="cyan")
                           + "]"})
        await self.startup(sockets=sockets)
        if not self.should_exit:
            await self.main_loop()
        if self.started:
            await self.shutdown(sockets=sockets)
            logger.info("Finished server process [%d]", pid,
                        extra={"color_message": "Finished server process ["
                               + style("%d", fg="cyan") + "]"})

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not self.config.loaded:  # startup() may be called directly, without serve()
            self.config.load()
        if not hasattr(self, "lifespan"):
            self.lifespan = self.config.lifespan_class(self.config)
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)

        config = self.config
        state = self.server_state
        state.lifespan_state = self.lifespan.state

        try:
            from ruvicorn.protocols import create_http_factory
        except ImportError as exc:
            logger.error("The ruvicorn protocol core is not available: %s", exc)
            await self.lifespan.shutdown()
            sys.exit(STARTUP_FAILURE)

        loop = asyncio.get_running_loop()
        factory = create_http_factory(config, loop, config.loaded_app, state)
        listeners: Sequence[socket.socket]
        try:
            if config.metrics:
                from ruvicorn.metrics import start_server_metrics

                self.metrics = start_server_metrics(config, loop, state, self.metrics_memory)
            if sockets is not None:
                # Sockets bound by a supervisor (workers, reload, gunicorn).
                self.servers = [
                    await loop.create_server(factory, sock=sock, ssl=config.ssl,
                                             backlog=config.backlog)
                    for sock in sockets
                ]
                listeners = sockets
            elif config.fd is not None:
                sock = config.socket_from_fd()
                server = await loop.create_server(factory, sock=sock, ssl=config.ssl,
                                                  backlog=config.backlog)
                self.servers = [server]
                listeners = list(server.sockets or [])
            elif config.uds is not None:
                mode = os.stat(config.uds).st_mode if os.path.exists(config.uds) else 0o666
                server = await loop.create_unix_server(factory, path=config.uds, ssl=config.ssl,
                                                       backlog=config.backlog)
                os.chmod(config.uds, mode & 0o7777)
                self.servers = [server]
                listeners = list(server.sockets or [])
            else:
                server = await loop.create_server(factory, host=config.host, port=config.port,
                                                  ssl=config.ssl, backlog=config.backlog)
                self.servers = [server]
                listeners = list(server.sockets or [])
        except OSError as exc:
            logger.error(exc)
            await self.lifespan.shutdown()
            sys.exit(STARTUP_FAILURE)

        if config.http3:
            from ruvicorn.http3 import start_http3

            try:
                self.http3 = await start_http3(config, loop, state,
                                               listeners[0].getsockname()[1])
            except (OSError, ImportError) as exc:
                logger.error("HTTP/3: %s", exc)
                await self.lifespan.shutdown()
                sys.exit(STARTUP_FAILURE)
        if sockets is None:  # a supervisor already logged where it listens
            self._log_started(listeners)
        self._froze_heap = freeze_startup_heap()
        self.started = True

    def _log_started(self, listeners: Sequence[socket.socket]) -> None:
        config = self.config
        if config.fd is not None:
            log_running(config, fd_name=listeners[0].getsockname())
        elif config.uds is not None:
            log_running(config, unix_path=config.uds)
        else:
            port = config.port or listeners[0].getsockname()[1]
            log_running(config, port=port)

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(TICK_SECONDS)

    async def on_tick(self, counter: int) -> bool:
        if counter % 10 == 0 and self.config.callback_notify is not None:
            now = time.time()
            if now - self.last_notified > self.config.timeout_notify:
                self.last_notified = now
                await self.config.callback_notify()
        if self.should_exit:
            return True
        limit = self._limit_max_requests
        if limit is not None and self.server_state.total_requests >= limit:
            logger.info("Maximum request limit of %d exceeded. Terminating process.", limit)
            return True
        return False

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        logger.info("Shutting down")
        state = self.server_state
        for server in self.servers:
            server.close()
        if self.http3 is not None:
            self.http3.stop_accepting()  # its connections are in state.connections
        for sock in sockets or []:
            sock.close()
        # Idle keep-alive connections close now; busy ones after their response; WebSockets 1012.
        for connection in list(state.connections):
            connection.shutdown()

        timeout = self.config.timeout_graceful_shutdown
        try:
            await asyncio.wait_for(self._wait_connections_and_tasks(), timeout=timeout)
        except asyncio.TimeoutError:
            logger.error("Cancel %s running task(s), timeout graceful shutdown exceeded",
                         len(state.tasks))
        if state.tasks or state.connections:
            self._abort_everything()
            await asyncio.sleep(0)  # let cancelled tasks see their CancelledError

        if self.http3 is not None:
            await asyncio.sleep(0)  # the last CONNECTION_CLOSEs leave before the socket closes
            self.http3.close()
        for server in self.servers:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)
        if state.http_context is not None:
            state.http_context.stop_timers()  # the deadline sweep outlives no server
        if self.metrics is not None:
            self.metrics.stop()
            self.metrics = None
        if not self.force_exit:
            await self.lifespan.shutdown()
        if self._froze_heap:
            thaw_startup_heap()
            self._froze_heap = False

    def _abort_everything(self) -> None:
        for task in list(self.server_state.tasks):
            task.cancel()
        for connection in list(self.server_state.connections):
            connection.abort()

    async def _wait_connections_and_tasks(self) -> None:
        state = self.server_state
        if state.connections and not self.force_exit:
            logger.info("Waiting for connections to close. (CTRL+C to force quit)")
            while state.connections and not self.force_exit:
                await asyncio.sleep(TICK_SECONDS)
        if state.tasks and not self.force_exit:
            logger.info("Waiting for background tasks to complete. (CTRL+C to force quit)")
            while state.tasks and not self.force_exit:
                await asyncio.sleep(TICK_SECONDS)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals can only be handled in the main thread
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        # Hand each captured signal to whoever handled it before us (e.g. KeyboardInterrupt for
        # SIGINT), but never re-deliver to SIG_DFL: a clean stop on SIGTERM exits 0.
        for sig in reversed(self._captured_signals):
            if callable(previous.get(sig)):
                signal.raise_signal(sig)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._captured_signals.append(sig)
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True
