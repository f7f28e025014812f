"""Event loops that refuse the server's own callbacks, and an app that arms them
(tests/server/test_loop_failures.py, through ``--loop faulty_loop:uvloop_loop`` and
``--app-dir tests/server``).

Once armed (``GET /arm?what=call_soon,call_later``), ``call_soon``/``call_later`` raise
``MemoryError`` for callbacks that belong to ruvicorn's C++ binding (the periodic sweep, the held
output flush, a WebSocket's timer, a denial's head); asyncio's own callbacks (tasks, futures)
still run, so only the binding's failure paths are exercised.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

import uvloop

import apps  # tests/server/apps.py, on the path through --app-dir

FAILING: set[str] = set()
REFUSED: dict[str, int] = {"call_soon": 0, "call_later": 0}


def _ours(callback: Any) -> bool:
    """Scheduled by the binding itself: a C++ lambda (sweep, held output) or a WsSession method,
    not a protocol method asyncio schedules (connection_made)."""
    owner = getattr(callback, "__self__", None)
    if type(owner).__module__ == "pybind11_builtins":
        return True
    return type(owner).__name__ == "WsSession"


class _Refusing:
    def call_soon(self, callback: Any, *args: Any, **kwargs: Any) -> Any:
        if "call_soon" in FAILING and _ours(callback):
            REFUSED["call_soon"] += 1
            raise MemoryError("call_soon refused by the test loop")
        return super().call_soon(callback, *args, **kwargs)  # type: ignore[misc]

    def call_later(self, delay: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
        if "call_later" in FAILING and _ours(callback):
            REFUSED["call_later"] += 1
            raise MemoryError("call_later refused by the test loop")
        return super().call_later(delay, callback, *args, **kwargs)  # type: ignore[misc]


class RefusingAsyncioLoop(_Refusing, asyncio.SelectorEventLoop):
    pass


class RefusingUvloop(_Refusing, uvloop.Loop):  # type: ignore[misc]
    pass


def asyncio_loop() -> asyncio.AbstractEventLoop:
    return RefusingAsyncioLoop()


def uvloop_loop() -> asyncio.AbstractEventLoop:
    return RefusingUvloop()


async def _respond(send: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await apps.hello(scope, receive, send)
        return
    path = scope["path"]
    if scope["type"] == "websocket":
        await receive()
        if path == "/deny":
            await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
            await asyncio.sleep(0.2)  # the head is due before the body comes
            await send({"type": "websocket.http.response.body", "body": b"denied"})
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text") or ""})
    if path == "/arm":
        FAILING.update(parse_qs(scope["query_string"].decode())["what"][0].split(","))
        await _respond(send, b"armed")
    elif path == "/disarm":
        FAILING.clear()
        await _respond(send, repr(REFUSED).encode())
    elif path == "/stream":
        # Pieces with a suspension between them: each waits for the held-output flush.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        for i in range(3):
            await send({"type": "http.response.body", "body": b"piece%d;" % i, "more_body": True})
            await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b"end"})
    else:
        await _respond(send, b"ok")
