"""Applications with various lifespan behaviours (served by the lifespan tests)."""

from __future__ import annotations

from typing import Any


async def startup_failed(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database is down"})


async def raises(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        raise RuntimeError("lifespan not for me")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def with_state(scope: dict, receive: Any, send: Any) -> None:
    """Puts a value in the lifespan state; requests report what their scope["state"] holds."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["greeting"] = "from-lifespan"
                scope["state"]["hits"] = 0
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    state = scope["state"]
    body = f"{state['greeting']} hits={state['hits']}".encode()
    state["hits"] += 1  # a shallow copy: the next request still sees 0
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def shutdown_failed(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.failed", "message": "could not flush"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
