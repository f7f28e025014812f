"""Small ASGI apps for the HTTP/3 option and lifecycle tests (``tests.http3.h3_apps:app``)."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["from_lifespan"] = "yes"
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    headers = [(b"content-type", b"text/plain")]
    body = b"ok"
    if path == "/own-alt-svc":
        headers.append((b"alt-svc", b"h3=\":9999\"; ma=60"))
    elif path == "/state":
        body = scope["state"].get("from_lifespan", "missing").encode()
    elif path == "/slow":
        await asyncio.sleep(float(scope["query_string"].decode() or "1"))
        body = b"slow done"
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
