"""The ASGI lifespan protocol: startup and shutdown events around serving.

``auto``: an app that raises before answering simply does not support lifespan (logged at info).
``on``: the same exception is a failed start-up (exit status 3).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ruvicorn.config import Config

_BAD_TRANSITION = "Got invalid state transition on lifespan protocol."


class LifespanOff:
    def __init__(self, config: Config) -> None:
        self.should_exit = False
        self.state: dict[str, Any] = {}

    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class LifespanOn:
    def __init__(self, config: Config) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.logger = logging.getLogger("ruvicorn.error")
        self.state: dict[str, Any] = {}
        self.should_exit = False
        self.error_occurred = False
        self.startup_failed = False
        self.shutdown_failed = False
        self._started = asyncio.Event()
        self._stopped = asyncio.Event()
        self._inbox: asyncio.Queue[dict] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        self.logger.info("Waiting for application startup.")
        # Keep the task referenced: the loop holds only weak references to tasks.
        self._task = asyncio.get_running_loop().create_task(self._main())
        await self._inbox.put({"type": "lifespan.startup"})
        await self._started.wait()
        if self.startup_failed or (self.error_occurred and self.config.lifespan == "on"):
            self.logger.error("Application startup failed. Exiting.")
            self.should_exit = True
        else:
            self.logger.info("Application startup complete.")

    async def shutdown(self) -> None:
        if self.error_occurred:
            return
        self.logger.info("Waiting for application shutdown.")
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._stopped.wait()
        if self.shutdown_failed or (self.error_occurred and self.config.lifespan == "on"):
            self.logger.error("Application shutdown failed. Exiting.")
            self.should_exit = True
        else:
            self.logger.info("Application shutdown complete.")

    async def _main(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.config.loaded_app(scope, self.receive, self.send)
        except BaseException as exc:
            self.error_occurred = True
            if self.startup_failed or self.shutdown_failed:
                return
            if self.config.lifespan == "auto":
                self.logger.info("ASGI 'lifespan' protocol appears unsupported.")
            else:
                self.logger.error("Exception in 'lifespan' protocol\n", exc_info=exc)
        finally:
            self._started.set()
            self._stopped.set()

    async def receive(self) -> dict:
        return await self._inbox.get()

    async def send(self, message: dict) -> None:
        kind = message["type"]
        if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
            assert not self._started.is_set() and not self._stopped.is_set(), _BAD_TRANSITION
            self._started.set()
            self.startup_failed = kind.endswith("failed")
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            assert self._started.is_set() and not self._stopped.is_set(), _BAD_TRANSITION
            self._stopped.set()
            self.shutdown_failed = kind.endswith("failed")
        else:
            raise RuntimeError(f"Unexpected ASGI lifespan message type {kind!r}")
        if kind.endswith("failed") and message.get("message"):
            self.logger.error(message["message"])
