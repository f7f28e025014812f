"""The app of tests/http2/test_h2_large_bodies.py: bodies of a known pattern, any size, sent in
any number of pieces, with or without content-length and trailers, so that a client can check
every byte of a large response and where it came from."""

from __future__ import annotations

from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_BASE = bytes(range(251))  # a prime period: pieces of any size never line up with it


def pattern(size: int, seed: int) -> bytes:
    """The body of /large?size=...&seed=...: byte i is (i + seed) % 251."""
    start = seed % 251
    return (_BASE * (size // 251 + 2))[start:start + size]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    q = dict(parse_qsl(scope["query_string"].decode()))
    size, seed = int(q.get("size", "13")), int(q.get("seed", "0"))
    pieces = int(q.get("pieces", "1"))
    body = pattern(size, seed)
    trailers = q.get("trailers") == "1"
    headers = [(b"content-type", b"application/octet-stream")]
    if q.get("cl") == "1":
        headers.append((b"content-length", str(size).encode()))
    if "wrong-cl" in q:  # a content-length the body does not match
        headers.append((b"content-length", q["wrong-cl"].encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers,
                "trailers": trailers})
    step = -(-size // pieces)
    for i in range(pieces):
        last = i == pieces - 1
        await send({"type": "http.response.body", "body": body[i * step:(i + 1) * step],
                    "more_body": not last})
    if trailers:
        await send({"type": "http.response.trailers", "more_trailers": False,
                    "headers": [(b"x-size", str(size).encode())]})
