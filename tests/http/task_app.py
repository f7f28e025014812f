"""The app of tests/http/test_http_app_tasks.py (served with ``--app-dir tests/http``): what an app
sees of its task and of its context, and a loop whose transports count their reads and writes
(``--loop task_app:counting_loop``).

Routes: ``/task`` reports whether the app runs in an asyncio Task that stays the same across an
await; ``/ctx?set=V[&sleep=S]`` answers the value of a context variable it found, then sets it
to V (and sleeps before answering); ``/stats?port=P`` the reads and writes of the connection
from client port P; ``/echo`` answers the request body; ``/exit`` raises SystemExit(3),
``/interrupt`` KeyboardInterrupt; anything else answers "ok". ``factory_app``: the same with a
task factory on the loop.
"""

from __future__ import annotations

import asyncio
import json
from asyncio import selector_events
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qs

marker: ContextVar[str] = ContextVar("marker", default="unset")
marker.set("set-at-import")

STATS: dict[int, dict[str, int]] = {}  # client port -> reads, writes


class _CountingTransport(selector_events._SelectorSocketTransport):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        peer = self.get_extra_info("peername")
        self._stats = STATS.setdefault(peer[1], {"reads": 0, "writes": 0})

    def _read_ready__data_received(self) -> None:
        self._stats["reads"] += 1  # a readiness event: one recv, and data_received with it
        super()._read_ready__data_received()

    def write(self, data: Any) -> None:
        self._stats["writes"] += 1
        super().write(data)


class _CountingLoop(asyncio.SelectorEventLoop):
    def _make_socket_transport(self, sock: Any, protocol: Any, waiter: Any = None, *,
                               extra: Any = None, server: Any = None) -> Any:
        return _CountingTransport(self, sock, protocol, waiter, extra, server)


def counting_loop() -> asyncio.AbstractEventLoop:
    return _CountingLoop()


async def _respond(send: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    path = scope["path"]
    if path == "/task":
        task = asyncio.current_task()
        await asyncio.sleep(0)
        same = asyncio.current_task() is task
        await _respond(send, json.dumps({"task": isinstance(task, asyncio.Task),
                                         "same": same}).encode())
    elif path == "/ctx":
        seen = marker.get()
        marker.set(query["set"])
        if "sleep" in query:
            await asyncio.sleep(float(query["sleep"]))
        await _respond(send, f"{seen};{marker.get()}".encode())
    elif path == "/stats":
        await _respond(send, json.dumps(STATS.get(int(query["port"]), {})).encode())
    elif path == "/echo":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await _respond(send, body)
    elif path == "/exit":
        raise SystemExit(3)
    elif path == "/interrupt":
        raise KeyboardInterrupt
    else:
        await _respond(send, b"ok")


class TaggedTask(asyncio.Task):  # type: ignore[type-arg]
    """The tasks of factory_app's task factory."""


def _tagging_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task:
    return TaggedTask(coro, loop=loop, **kwargs)


async def factory_app(scope: dict, receive: Any, send: Any) -> None:
    """``app`` with a task factory set on the loop during lifespan start-up; ``/factory``
    answers whether the request's task came from it."""
    if scope["type"] == "lifespan":
        asyncio.get_running_loop().set_task_factory(_tagging_factory)
    elif scope["path"] == "/factory":
        tagged = isinstance(asyncio.current_task(), TaggedTask)
        await _respond(send, json.dumps({"tagged": tagged}).encode())
        return
    await app(scope, receive, send)
