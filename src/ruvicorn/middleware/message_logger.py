"""At ``--log-level trace``: log every ASGI message the app exchanges (logger ruvicorn.asgi)."""

from __future__ import annotations

import itertools
import logging
from typing import Any

from ruvicorn.logging import TRACE_LOG_LEVEL

_BIG_KEYS = ("body", "bytes", "text")


def _summary(message: dict) -> dict:
    out = dict(message)
    for key in _BIG_KEYS:
        if out.get(key) is not None:
            out[key] = f"<{len(out[key])} {'chars' if key == 'text' else 'bytes'}>"
    if "headers" in out:
        out["headers"] = "<...>"
    return out


class MessageLoggerMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.logger = logging.getLogger("ruvicorn.asgi")
        self._ids = itertools.count(1)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        log = self.logger.log
        prefix = f"{scope['type'].upper()} {next(self._ids)}"

        async def logged_receive() -> dict:
            message = await receive()
            log(TRACE_LOG_LEVEL, "%s ASGI [receive] %s", prefix, _summary(message))
            return message

        async def logged_send(message: dict) -> None:
            log(TRACE_LOG_LEVEL, "%s ASGI [send] %s", prefix, _summary(message))
            await send(message)

        log(TRACE_LOG_LEVEL, "%s ASGI [call] scope=%s", prefix,
            {k: v for k, v in scope.items() if k not in ("headers", "state")})
        try:
            await self.app(scope, logged_receive, logged_send)
        except BaseException:
            log(TRACE_LOG_LEVEL, "%s ASGI [raised]", prefix)
            raise
        log(TRACE_LOG_LEVEL, "%s ASGI [completed]", prefix)
