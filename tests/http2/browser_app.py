"""The app a real browser loads in tests/http2/test_h2_browser.py (``tests.http2.browser_app:app``):
a page with sub-resources and a script that opens a WebSocket on the same origin and ends with a
request to ``/done``. Every request records which HTTP version carried it; ``/log?wait=S`` (read
by the test) returns the record once ``/done`` has arrived, or after S seconds.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

LOG: list[dict[str, str]] = []
DONE: asyncio.Event | None = None


def done_event() -> asyncio.Event:
    global DONE
    if DONE is None:
        DONE = asyncio.Event()
    return DONE

PAGE = b"""<!doctype html>
<html><head><title>h2</title>
<link rel="stylesheet" href="/style.css">
<script src="/one.js"></script><script src="/two.js"></script>
</head><body><img src="/pixel.svg"><div id="out">loading</div>
<script>
const ws = new WebSocket("wss://" + location.host + "/ws");
ws.onopen = () => ws.send("ping from the browser");
ws.onmessage = (e) => {
  document.getElementById("out").textContent = "ws:" + e.data + " js:" + window.one + window.two;
  fetch("/done?text=" + encodeURIComponent(e.data)).then(() => ws.close());
};
ws.onerror = () => {
  document.getElementById("out").textContent = "ws-error";
  fetch("/done?text=error");
};
</script></body></html>
"""

RESOURCES = {
    "/": (b"text/html", PAGE),
    "/style.css": (b"text/css", b"body { color: black }"),
    "/one.js": (b"text/javascript", b"window.one = 1;"),
    "/two.js": (b"text/javascript", b"window.two = 2;"),
    "/pixel.svg": (b"image/svg+xml",
                   b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'),
}


async def respond(send: Send, content_type: bytes, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if scope["type"] == "websocket":
        LOG.append({"path": path, "type": "websocket", "http_version": scope["http_version"]})
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        if message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo:" + message["text"]})
            await receive()
        return
    if path == "/log":
        wait = float(scope["query_string"].decode().partition("wait=")[2] or 0)
        if wait:
            try:
                await asyncio.wait_for(done_event().wait(), wait)
            except asyncio.TimeoutError:
                pass
        await respond(send, b"application/json", json.dumps(LOG).encode())
        return
    LOG.append({"path": path, "type": "http", "http_version": scope["http_version"],
                "query": scope["query_string"].decode()})
    if path == "/done":
        done_event().set()
    content_type, body = RESOURCES.get(path, (b"text/plain", b"ok"))
    await respond(send, content_type, body)
