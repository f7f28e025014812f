"""ASGI apps for the WebSocket tests (``tests.websocket.ws_apps:app``), routed by path.

What an app observes but cannot send back (its websocket.disconnect, an exception from send())
goes to ``EVENTS``; tests read it over a second connection at ``/events/<token>``, which waits
for the event instead of the test sleeping.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

EVENTS: dict[str, list[Any]] = {}
_WAKE: dict[str, asyncio.Event] = {}


def record(token: str, item: Any) -> None:
    EVENTS.setdefault(token, []).append(item)
    wake = _WAKE.pop(token, None)
    if wake is not None:
        wake.set()


def _token(scope: Scope) -> str:
    return parse_qs(scope["query_string"].decode()).get("token", [""])[0]


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts (with the first offered subprotocol) and echoes until the client closes."""
    token = _token(scope)
    assert (await receive())["type"] == "websocket.connect"
    subprotocols = scope.get("subprotocols") or []
    await send({"type": "websocket.accept",
                "subprotocol": subprotocols[0] if subprotocols else None,
                "headers": [(b"x-extra", b"yes")]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            record(token, {"disconnect": message["code"], "reason": message.get("reason")})
            return
        if message.get("text") is not None:
            text = message["text"]
            if text.startswith("close:"):
                _, code, reason = text.split(":", 2)
                await send({"type": "websocket.close", "code": int(code), "reason": reason})
                continue
            if text == "scope":
                info = {k: scope[k] for k in ("type", "scheme", "path", "subprotocols")}
                await send({"type": "websocket.send", "text": repr(info)})
                continue
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def reject(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.close"})
    if _token(scope):
        record(_token(scope), await receive())  # the whole websocket.disconnect message


async def deny(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.http.response.start", "status": 401,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"6")]})
    await send({"type": "websocket.http.response.body", "body": b"denied"})


async def deny_nolength(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    await send({"type": "websocket.http.response.body", "body": b"hardbody"})


async def deny_pieces(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    await send({"type": "websocket.http.response.body", "body": b"hard", "more_body": True})
    await send({"type": "websocket.http.response.body", "body": b" body"})


async def deny_status(scope: Scope, receive: Receive, send: Send) -> None:
    query = parse_qs(scope["query_string"].decode())
    await receive()
    await send({"type": "websocket.http.response.start", "status": int(query["status"][0]),
                "headers": [(b"content-length", b"0")]})
    await send({"type": "websocket.http.response.body", "body": b""})


async def deny_start_twice(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    start = {"type": "websocket.http.response.start", "status": 404,
             "headers": [(b"content-length", b"0")]}
    await send(start)
    await send(start)  # raises: the head already chosen still goes out


async def accept_twice(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "accepted once"})
    await send({"type": "websocket.accept"})


async def deny_late(scope: Scope, receive: Receive, send: Send) -> None:
    """A denial whose body waits for /release/<token>: the head must not wait with it."""
    token = _token(scope)
    await receive()
    await send({"type": "websocket.http.response.start", "status": 401,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"6")]})
    gate = asyncio.Event()
    GATES[token] = gate
    await gate.wait()
    await send({"type": "websocket.http.response.body", "body": b"denied"})


async def raise_before_accept(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    raise RuntimeError("boom before accept")


async def raise_after_accept(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    raise RuntimeError("boom after accept")


async def return_after_accept(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})


async def return_value_after_accept(scope: Scope, receive: Receive, send: Send) -> str:
    await receive()
    await send({"type": "websocket.accept"})
    return "not-none"


async def close_with(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts, then closes with ?code=&reason= right away."""
    query = parse_qs(scope["query_string"].decode())
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": int(query["code"][0]),
                "reason": query.get("reason", [""])[0]})


async def slow_reader(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts, waits for the 'go' event from /release, then counts what it receives."""
    token = _token(scope)
    await receive()
    await send({"type": "websocket.accept"})
    gate = asyncio.Event()
    GATES[token] = gate
    record(token, "waiting")
    await gate.wait()
    count = 0
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            break
        count += 1
        if message.get("text") == "last":
            await send({"type": "websocket.send", "text": str(count)})


async def flood(scope: Scope, receive: Receive, send: Send) -> None:
    """Sends ?count= messages of ?size= bytes as fast as send() lets it, then reports. With
    ?again=1 a failed send() is followed by one more, whose outcome is reported too."""
    query = parse_qs(scope["query_string"].decode())
    token = _token(scope)
    await receive()
    await send({"type": "websocket.accept"})
    payload = b"x" * int(query["size"][0])
    try:
        for _ in range(int(query["count"][0])):
            await send({"type": "websocket.send", "bytes": payload})
        record(token, "sent all")
    except OSError as exc:
        record(token, f"send failed: {type(exc).__name__}")
        if "again" in query:
            try:
                await send({"type": "websocket.send", "bytes": b"again"})
                record(token, "sent again")
            except OSError as again:
                record(token, f"send again failed: {type(again).__name__}")


async def send_after_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    token = _token(scope)
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    record(token, {"disconnect": message.get("code")})
    try:
        await send({"type": "websocket.send", "text": "too late"})
    except OSError as exc:
        record(token, f"send raised {type(exc).__name__}")


async def hold(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts and waits for the disconnect (for shutdown and keepalive tests)."""
    token = _token(scope)
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    record(token, {"disconnect": message.get("code")})
    # Also where a test can read it after the server stopped (graceful shutdown).
    print(f"hold got {message!r}", file=sys.stderr, flush=True)


async def accept_late(scope: Scope, receive: Receive, send: Send) -> None:
    """Waits for /release/<token> before accepting (the client may be gone by then)."""
    token = _token(scope)
    await receive()
    gate = asyncio.Event()
    GATES[token] = gate
    record(token, "waiting")
    await gate.wait()
    try:
        await send({"type": "websocket.accept"})
        record(token, "accepted")
    except OSError as exc:
        record(token, f"accept raised {type(exc).__name__}")
    record(token, await receive())


async def send_then_park(scope: Scope, receive: Receive, send: Send) -> None:
    """On its first message "N", sends N numbered messages, then stops receiving (messages the
    client sent after "N" stay queued) until /release/<token>."""
    token = _token(scope)
    await receive()
    await send({"type": "websocket.accept"})
    count = int((await receive())["text"])
    for i in range(count):
        await send({"type": "websocket.send", "text": f"m{i}"})
    gate = asyncio.Event()
    GATES[token] = gate
    record(token, "parked")
    await gate.wait()


async def text_check(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers each text message with what the app sees: the text, its length, whether it equals
    the str CPython builds from the same UTF-8 (a str in the wrong internal kind does not) and
    isascii()."""
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message["text"]
        answer = [text, len(text), text == text.encode().decode(), text.isascii()]
        await send({"type": "websocket.send", "text": repr(answer)})


async def cancel_receive(scope: Scope, receive: Receive, send: Send) -> None:
    """Cancels a receive() that waits (awaited directly, then inside a task), says "ready" and
    waits for /release/<token> without receiving: a message that came meanwhile stays queued
    for the next receive() (nothing lost to the cancelled one)."""
    token = _token(scope)
    await receive()
    await send({"type": "websocket.accept"})
    waiting = asyncio.ensure_future(receive())
    await asyncio.sleep(0)  # one loop step: the waiter is now pending on an empty queue
    waiting.cancel()
    try:
        await waiting
    except asyncio.CancelledError:
        record(token, "cancelled")
    task = asyncio.ensure_future(_receive_in_task(receive))
    await asyncio.sleep(0)  # the task's receive() waits
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        record(token, "task cancelled")
    gate = asyncio.Event()
    GATES[token] = gate
    await send({"type": "websocket.send", "text": "ready"})
    await gate.wait()
    message = await receive()
    await send({"type": "websocket.send", "text": "got " + message["text"]})
    record(token, await receive())


async def _receive_in_task(receive: Receive) -> Message:
    return await receive()


async def receive_twice(scope: Scope, receive: Receive, send: Send) -> None:
    """A second receive() while one waits is the app's error (RuntimeError), and send() with a
    message that is no dict a TypeError; the session goes on."""
    token = _token(scope)
    await receive()
    await send({"type": "websocket.accept"})
    first = asyncio.ensure_future(receive())
    await asyncio.sleep(0)
    try:
        receive()
    except RuntimeError as exc:
        record(token, f"RuntimeError: {exc}")
    try:
        await send("not a dict")  # type: ignore[arg-type]
    except TypeError as exc:
        record(token, f"TypeError: {exc}")
    await send({"type": "websocket.send", "text": "ready"})
    message = await first
    await send({"type": "websocket.send", "text": "got " + message["text"]})
    record(token, await receive())


GATES: dict[str, asyncio.Event] = {}

ROUTES: dict[str, Callable[[Scope, Receive, Send], Awaitable[Any]]] = {
    "/echo": echo,
    "/reject": reject,
    "/deny": deny,
    "/deny-late": deny_late,
    "/deny-nolength": deny_nolength,
    "/deny-pieces": deny_pieces,
    "/deny-status": deny_status,
    "/accept-twice": accept_twice,
    "/deny-start-twice": deny_start_twice,
    "/raise-before": raise_before_accept,
    "/raise-after": raise_after_accept,
    "/return": return_after_accept,
    "/return-value": return_value_after_accept,
    "/close": close_with,
    "/slow": slow_reader,
    "/flood": flood,
    "/late-send": send_after_disconnect,
    "/hold": hold,
    "/accept-late": accept_late,
    "/send-then-park": send_then_park,
    "/text-check": text_check,
    "/cancel-receive": cancel_receive,
    "/receive-twice": receive_twice,
}


async def http(scope: Scope, receive: Receive, send: Send) -> None:
    path = scope["path"]
    body = b""
    if path.startswith("/events/"):
        token = path.split("/", 2)[2]
        query = parse_qs(scope["query_string"].decode())
        count = int(query.get("count", ["1"])[0])
        deadline = asyncio.get_running_loop().time() + float(query.get("timeout", ["10"])[0])
        while len(EVENTS.get(token, [])) < count:
            wake = _WAKE.setdefault(token, asyncio.Event())
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(wake.wait(), remaining)
            except asyncio.TimeoutError:
                break
        body = repr(EVENTS.get(token, [])).encode()
    elif path.startswith("/release/"):
        GATES[path.split("/", 2)[2]].set()
        body = b"ok"
    else:
        body = repr({"type": scope["type"], "path": path}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> Any:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await http(scope, receive, send)
        return
    route = ROUTES.get(scope["path"])
    if route is None:
        await receive()
        await send({"type": "websocket.close", "code": 1008})
        return None
    return await route(scope, receive, send)  # a route may return a value (a bug)
