"""Hand-written ASGI apps that the HTTP wire tests serve (``tests.http.apps:app``).

Each route exercises one part of the ASGI HTTP spec. What an app observes but cannot put in its own
response (an exception raised by send(), an http.disconnect) goes to a side channel, ``EVENTS``,
keyed by a token from the query string; the tests read it back with ``/inspect``, which long-polls
so that tests wait on an event instead of sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

EVENTS: dict[str, list[Any]] = {}
_WAKE: dict[str, asyncio.Event] = {}
SEEN_PATHS: set[str] = set()
ONE_MIB = b"x" * (1024 * 1024)


def record(token: str, item: Any) -> None:
    EVENTS.setdefault(token, []).append(item)
    wake = _WAKE.pop(token, None)
    if wake is not None:
        wake.set()


async def wait_events(token: str, count: int, timeout: float, until: str = "") -> list[Any]:
    """Waits until ``count`` events (or the event ``until``) arrived, or the timeout passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def done() -> bool:
        events = EVENTS.get(token, [])
        return until in events if until else len(events) >= count

    while not done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        wake = _WAKE.setdefault(token, asyncio.Event())
        try:
            await asyncio.wait_for(wake.wait(), remaining)
        except asyncio.TimeoutError:
            break
    return EVENTS.get(token, [])


def _jsonable(value: Any) -> Any:
    """Scope values as JSON; bytes become latin-1 text, so every byte survives."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def describe_scope(scope: Scope) -> dict[str, Any]:
    out = {k: _jsonable(v) for k, v in scope.items() if k != "state"}
    out["_types"] = {k: type(v).__name__ for k, v in scope.items()}
    headers = scope.get("headers", [])
    out["_header_types"] = sorted({f"{type(h).__name__}:{type(h[0]).__name__}:{type(h[1]).__name__}"
                                   for h in headers})
    out["_state"] = _jsonable(dict(scope["state"])) if "state" in scope else None
    return out


async def respond(send: Send, status: int, body: bytes = b"",
                  headers: list[tuple[bytes, bytes]] | None = None,
                  content_type: bytes = b"text/plain") -> None:
    all_headers = [(b"content-type", content_type),
                   (b"content-length", str(len(body)).encode())] + list(headers or [])
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, data: Any, status: int = 200) -> None:
    await respond(send, status, json.dumps(data).encode(), content_type=b"application/json")


async def read_body(receive: Receive) -> tuple[bytes, int, str]:
    """The whole request body, the number of http.request messages, and how reading ended."""
    parts: list[bytes] = []
    messages = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts), messages, "disconnect"
        messages += 1
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts), messages, "complete"


async def try_send(send: Send, message: Message) -> str:
    """Sends and reports the outcome: "ok" or "ExceptionType: message"."""
    try:
        await send(message)
    except Exception as exc:  # the tests assert on the type name
        return f"{type(exc).__name__}: {exc}"
    return "ok"


# --- routes ---------------------------------------------------------------------------------


async def route_scope(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    await respond_json(send, describe_scope(scope))


async def route_body(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    body, messages, ending = await read_body(receive)
    if q.get("echo"):
        await respond(send, 200, body)
        return
    await respond_json(send, {"length": len(body), "messages": messages, "ending": ending,
                              "sha256": hashlib.sha256(body).hexdigest()})


async def route_text(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    await respond(send, 200, q.get("msg", "hello").encode() * int(q.get("repeat", "1")))


async def route_stream(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    chunks = int(q.get("chunks", "3"))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    for i in range(chunks):
        await send({"type": "http.response.body", "body": f"chunk{i};".encode(), "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def route_sized(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Content-Length given, body streamed in pieces: also what HEAD must strip."""
    body = b"hello world"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body[:5], "more_body": True})
    await send({"type": "http.response.body", "body": body[5:]})


async def route_status(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    code = int(q["code"])
    headers = [(b"etag", b'"abc"')] if code == 304 else []
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def route_order(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Wrong message order or type: send() must raise RuntimeError; the app then answers sanely."""
    case, token = q["case"], q["token"]
    start = {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]}
    body = {"type": "http.response.body", "body": b"ok"}
    if case == "body-first":
        record(token, await try_send(send, body))
        await send(start)
        await send(body)
    elif case == "start-twice":
        await send(start)
        record(token, await try_send(send, start))
        await send(body)
    elif case == "bad-type":
        record(token, await try_send(send, {"type": "http.response.bogus"}))
        await send(start)
        await send(body)
    elif case == "after-complete":
        await send(start)
        await send(body)
        record(token, await try_send(send, {"type": "http.response.body", "body": b"more"}))
    elif case in ("header-value-crlf", "header-name-space"):
        bad = ((b"x-a", b"v\r\nx-injected: 1") if case == "header-value-crlf"
               else (b"x a", b"v"))
        record(token, await try_send(send, {**start, "headers": [bad]}))
        await send(start)
        await send(body)
    elif case == "trailers-unannounced":
        await send({**start, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok", "more_body": False})
        record(token, await try_send(send, {"type": "http.response.trailers", "headers": []}))


async def route_trailers(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    await send({"type": "http.response.start", "status": 200, "trailers": True,
                "headers": [(b"content-type", b"text/plain"), (b"trailer", b"x-checksum")]})
    await send({"type": "http.response.body", "body": b"part1;", "more_body": True})
    await send({"type": "http.response.body", "body": b"part2", "more_body": False})
    await send({"type": "http.response.trailers", "more_trailers": False,
                "headers": [(b"x-checksum", b"abc123")]})


async def route_pathsend(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    path = q["file"]
    headers = [(b"content-type", b"application/octet-stream")]
    if not q.get("chunked"):
        headers.append((b"content-length", str(os.stat(path).st_size).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.pathsend", "path": path})


async def route_cl_mismatch(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Declares Content-Length: 10, then sends more or fewer bytes (uvicorn: RuntimeError)."""
    mode, token = q["mode"], q["token"]
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"10")]})
    if mode == "more":
        outcome = await try_send(send, {"type": "http.response.body", "body": b"0123456789ABCDEF"})
    elif mode == "prefix-then-more":
        await send({"type": "http.response.body", "body": b"01234", "more_body": True})
        outcome = await try_send(send, {"type": "http.response.body", "body": b"56789AB"})
    else:
        outcome = await try_send(send, {"type": "http.response.body", "body": b"01234"})
    record(token, outcome)


async def route_raise_before(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    raise ValueError(q.get("marker", "boom-before"))


async def route_raise_after(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise ValueError(q.get("marker", "boom-after"))


async def route_no_response(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    return None


async def route_return_value(scope: Scope, receive: Receive, send: Send,
                             q: dict[str, str]) -> str:
    """Returns a value instead of None, before responding or after a complete response."""
    if q.get("after") == "1":
        await respond(send, 200, b"done")
    return "not-none-" + q.get("marker", "")


async def route_disconnect(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Reads until the client goes away, then checks that send() is a quiet no-op."""
    token = q["token"]
    record(token, "started")
    while True:
        message = await asyncio.wait_for(receive(), 30)
        record(token, message["type"])
        if message["type"] == "http.disconnect":
            break
    record(token, "send:" + await try_send(send, {"type": "http.response.start", "status": 200,
                                                  "headers": []}))
    record(token, "send:" + await try_send(send, {"type": "http.response.body", "body": b"late"}))
    record(token, "done")


async def route_receive_after(scope: Scope, receive: Receive, send: Send,
                              q: dict[str, str]) -> None:
    """After the response is complete, receive() must return http.disconnect (ASGI spec)."""
    token = q["token"]
    await read_body(receive)
    await respond(send, 200, b"done")
    try:
        message = await asyncio.wait_for(receive(), 5)
        record(token, message["type"])
    except asyncio.TimeoutError:
        record(token, "timeout")


async def route_after_response(scope: Scope, receive: Receive, send: Send,
                                q: dict[str, str]) -> None:
    """Answers, then calls receive(): http.disconnect whatever body is still unread (the ASGI
    spec). ``read=1`` first reads one piece and leaves a receive() waiting across the response
    (it must resolve). ``extra=1`` then sends one more body message: it raises, uncaught."""
    token = q["token"]
    pending = None
    if q.get("read") == "1":
        record(token, (await receive())["type"])
        pending = asyncio.ensure_future(receive())
        await asyncio.sleep(0)  # the receive() is now waiting for more body
    await respond(send, 200, b"answered")
    try:
        message = await asyncio.wait_for(pending or receive(), 5)
        record(token, message["type"])
    except asyncio.TimeoutError:
        record(token, "timeout")
    if q.get("extra") == "1":
        await send({"type": "http.response.body", "body": b"extra"})


async def route_reject(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Answers without reading the body: no 100 Continue may be sent."""
    await respond(send, int(q.get("code", "417")), b"rejected")


async def route_hold(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Never reads the body; waits until /release (or ``timeout`` seconds) and then answers."""
    token = q["token"]
    record(token, "holding")
    await wait_events("release-" + token, 1, float(q.get("timeout", "60")))
    await respond(send, 200, b"released")


async def route_park(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Stays in the server until the client goes away (a GET: the first message is the body)."""
    await read_body(receive)
    while (await receive())["type"] != "http.disconnect":
        pass


async def route_release(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    record("release-" + q["token"], "go")
    await respond(send, 200, b"ok")


async def route_head_first(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Sends the head (and an optional first piece), then parks before the rest of the body, as a
    long-poll or SSE endpoint does: the client must see the head while the app waits. The rest is
    ``msg`` after /release (default) or the request body echoed (wait=body); ``length`` adds a
    Content-Length, ``fail`` raises right after the head instead of parking."""
    token = q["token"]
    headers = [(b"content-type", b"text/plain")]
    if "length" in q:
        headers.append((b"content-length", q["length"].encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if q.get("fail"):
        raise ValueError("boom-after-head")
    if q.get("first"):
        await send({"type": "http.response.body", "body": q["first"].encode(), "more_body": True})
    record(token, "parked")
    if q.get("wait") == "body":
        rest, _, _ = await read_body(receive)
    else:
        await wait_events("release-" + token, 1, 60)
        rest = q.get("msg", "late body").encode()
    await send({"type": "http.response.body", "body": rest})


async def route_big_stream(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Streams up to ``mib`` MiB; the bytes handed to send() so far are published under token,
    and how the stream ended (every send() returned, or one raised) under "end-" + token."""
    token, total = q["token"], int(q.get("mib", "1024"))
    progress = EVENTS.setdefault(token, [0])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")]})
    for _ in range(total):
        outcome = await try_send(send, {"type": "http.response.body", "body": ONE_MIB,
                                        "more_body": True})
        if outcome != "ok":
            record("end-" + token, outcome)
            return
        progress[0] += len(ONE_MIB)
    record("end-" + token, await try_send(send, {"type": "http.response.body", "body": b""}))


async def route_progress(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    await respond_json(send, EVENTS.get(q["token"], [0])[0])


async def route_inspect(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    events = await wait_events(q["token"], int(q.get("count", "1")), float(q.get("timeout", "5")),
                               q.get("until", ""))
    await respond_json(send, events)


async def route_seen(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    await respond_json(send, q["path"] in SEEN_PATHS)


async def route_early_hints(scope: Scope, receive: Receive, send: Send,
                            q: dict[str, str]) -> None:
    """103 Early Hints with ``n`` links, then (after /release when ``token`` is given, so the
    client can see the hints arrive first) the final response. ``bad`` sends a link with CR LF,
    ``late`` sends the hint after the response started (an error), recorded under ``token``."""
    links = [f"</r{i}.css>; rel=preload; as=style".encode() for i in range(int(q.get("n", "2")))]
    if "bad" in q:
        links.append(b"</x>\r\nx-injected: 1")
        record(q["token"], await try_send(send, {"type": "http.response.early_hint",
                                                  "links": links}))
        await respond(send, 200, b"after-bad-hint")
        return
    if "late" in q:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        record(q["token"], await try_send(send, {"type": "http.response.early_hint",
                                                  "links": links}))
        await send({"type": "http.response.body", "body": b"late"})
        return
    assert "http.response.early_hint" in scope["extensions"]
    await send({"type": "http.response.early_hint", "links": links})
    if "token" in q:
        await wait_events("release-" + q["token"], 1, 60)
    await respond(send, 200, b"final")


async def route_hop_headers(scope: Scope, receive: Receive, send: Send,
                            q: dict[str, str]) -> None:
    """Connection-specific fields an app may send: HTTP/2 must drop them (RFC 9113 8.2.2)."""
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"Content-Type", b"text/plain"), (b"Connection", b"keep-alive"),
        (b"Keep-Alive", b"timeout=5"), (b"Upgrade", b"h2c"), (b"X-Kept", b"yes")]})
    await send({"type": "http.response.body", "body": b"hop"})


ROUTES: dict[str, Callable[[Scope, Receive, Send, dict[str, str]], Awaitable[Any]]] = {
    "/scope": route_scope,
    "/body": route_body,
    "/text": route_text,
    "/stream": route_stream,
    "/sized": route_sized,
    "/status": route_status,
    "/order": route_order,
    "/trailers": route_trailers,
    "/pathsend": route_pathsend,
    "/cl-mismatch": route_cl_mismatch,
    "/raise-before": route_raise_before,
    "/return-value": route_return_value,
    "/raise-after": route_raise_after,
    "/no-response": route_no_response,
    "/disconnect": route_disconnect,
    "/receive-after": route_receive_after,
    "/after-response": route_after_response,
    "/reject": route_reject,
    "/hold": route_hold,
    "/park": route_park,
    "/release": route_release,
    "/head-first": route_head_first,
    "/big-stream": route_big_stream,
    "/progress": route_progress,
    "/inspect": route_inspect,
    "/seen": route_seen,
    "/early-hints": route_early_hints,
    "/hop-headers": route_hop_headers,
}


async def lifespan(receive: Receive, send: Send, state: dict[str, Any] | None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if state is not None:
                state["started_by"] = "lifespan"
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> Any:
    if scope["type"] == "lifespan":
        await lifespan(receive, send, scope.get("state"))
        return
    assert scope["type"] == "http"
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]  # uvicorn-style: path includes root_path
    SEEN_PATHS.add(path)
    query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
    # Routed on the first segment so that tests can append anything (e.g. encoded characters).
    handler = ROUTES.get("/" + path.split("/")[1] if path.startswith("/") else path)
    if handler is None:
        await respond(send, 404, b"not found")
        return None
    return await handler(scope, receive, send, query)  # a route may return a value (a bug)
