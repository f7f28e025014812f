"""The app the metrics tests serve: a status chosen by the path, a failing route, a large body
for a client that does not read, a route that blocks the event loop, a slow one, the worker's
pid, and a WebSocket echo."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

BIG = b"x" * (16 * 1024 * 1024)


async def app(scope: dict, receive: Any, send: Any) -> None:
    """Served with --lifespan off."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message.get("text") or ""})
        await receive()  # the client's close: websocket.disconnect
        return
    path = scope["path"]
    while (await receive()).get("more_body"):
        pass
    if path == "/fail":
        raise RuntimeError("the app fails before its response")
    body = b"ok"
    status = 200
    if path.startswith("/status/"):
        status = int(path.rsplit("/", 1)[1])
    elif path == "/big":
        body = BIG
    elif path == "/block":
        time.sleep(0.8)  # holds the event loop: the lag gauge must show it
    elif path == "/slow":
        await asyncio.sleep(3)
    elif path == "/pid":
        body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
