"""Answers with what the scope says of TLS: scope["extensions"]["tls"] as JSON (or null), over
HTTP (any version) and WebSocket (one text message)."""

from __future__ import annotations

import json
from typing import Any


def _tls(scope: dict) -> bytes:
    return json.dumps({"tls": scope["extensions"].get("tls"),
                       "http_version": scope["http_version"]}).encode()


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": _tls(scope).decode()})
        await send({"type": "websocket.close"})
        return
    if scope["type"] != "http":
        return
    body = _tls(scope)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
