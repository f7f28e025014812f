"""Starlette and FastAPI WebSocket routes (``tests.websocket.fw_apps:starlette_app`` and
``fastapi_app``)."""

from __future__ import annotations

from typing import Optional

from fastapi import FastAPI, WebSocketDisconnect
from fastapi import WebSocket as FastAPIWebSocket
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

DISCONNECTS: list[int] = []


async def starlette_echo(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="json.v1" if "json.v1" in websocket.scope["subprotocols"]
                           else None)
    try:
        while True:
            data = await websocket.receive_json()
            if data.get("close"):
                await websocket.close(code=data["close"], reason="as asked")
                return
            await websocket.send_json({"echo": data, "path": websocket.url.path})
    except WebSocketDisconnect as exc:
        DISCONNECTS.append(exc.code)


async def starlette_bytes(websocket: WebSocket) -> None:
    await websocket.accept()
    async for chunk in websocket.iter_bytes():
        await websocket.send_bytes(chunk[::-1])


async def starlette_deny(websocket: WebSocket) -> None:
    await websocket.close(code=1008)


starlette_app = Starlette(routes=[
    WebSocketRoute("/ws", starlette_echo),
    WebSocketRoute("/bytes", starlette_bytes),
    WebSocketRoute("/deny", starlette_deny),
])

fastapi_app = FastAPI()


@fastapi_app.websocket("/items/{item_id}/ws")
async def items_ws(websocket: FastAPIWebSocket, item_id: int, q: Optional[str] = None) -> None:
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            await websocket.send_text(f"item {item_id} q={q}: {text}")
    except WebSocketDisconnect as exc:
        DISCONNECTS.append(exc.code)


@fastapi_app.websocket("/disconnects")
async def disconnects(websocket: FastAPIWebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(DISCONNECTS)
    await websocket.close()
