"""An app that reports a context variable set when the module is imported (--reset-contextvars)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

marker: ContextVar[str] = ContextVar("marker", default="unset")
marker.set("set-at-import")


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = marker.get().encode()
    marker.set("changed-by-a-request")  # must never leak into the next request
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
