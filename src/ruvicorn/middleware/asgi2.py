"""Run an ASGI 2 (double-callable) application as ASGI 3."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class ASGI2Middleware:
    def __init__(self, app: Callable[[Scope], Any]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = self.app(scope)
        await instance(receive, send)
