"""Answers with "scheme://host:port" of the scope's client, over HTTP and WebSocket (the shape
uvicorn's proxy-header tests compare against), for tests/http/test_http_proxy_headers.py."""

from __future__ import annotations

import ipaddress
from typing import Any


def _client_url(scope: dict) -> str:
    host, port = scope["client"]
    try:
        if ipaddress.ip_address(host).version == 6:  # shown bracketed, as in a URL
            host = f"[{host}]"
    except ValueError:
        pass
    return f"{scope['scheme']}://{host}:{port}"


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": _client_url(scope).encode()})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": _client_url(scope)})
        await send({"type": "websocket.close"})
