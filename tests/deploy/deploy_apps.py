"""The app the deployment tests put behind a proxy: it reports what the server made of the request
(client, scheme, Host) and, on a UNIX socket, which connections the server has open on it; it
echoes WebSocket messages after a first message with the same report."""

from __future__ import annotations

import json
import os
from typing import Any


def unix_connections(path: str) -> list[int]:
    """Inodes of the open connections a UNIX listening socket has accepted (Linux): the server's
    end of each carries the socket's path. Read while a request is in flight, its own connection
    is among them."""
    inodes = []
    with open("/proc/net/unix") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            # Num RefCount Protocol Flags Type St Inode Path; St 03 = connected
            if len(fields) == 8 and fields[7] == path and fields[5] == "03":
                inodes.append(int(fields[6]))
    return sorted(inodes)


def _report(scope: dict) -> str:
    client = scope.get("client")
    server = scope.get("server")
    on_unix_socket = bool(server) and server[1] is None and os.path.exists("/proc/net/unix")
    headers = dict(scope["headers"])
    return json.dumps({
        "client": client[0] if client else None,
        "scheme": scope["scheme"],
        "path": scope["path"],
        "host": headers.get(b"host", b"").decode("latin-1"),
        "http_version": scope.get("http_version"),
        "connections": unix_connections(server[0]) if on_unix_socket else None,
    })


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": _report(scope).encode()})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": _report(scope)})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text"),
                        "bytes": message.get("bytes")})
