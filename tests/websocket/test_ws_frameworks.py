"""Starlette and FastAPI WebSocket routes served by ruvicorn."""

from __future__ import annotations

import json
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from ws_server import REPO, server_args

from helpers import ServerProcess, run_server


@pytest.fixture(scope="module")
def starlette_server() -> Iterator[ServerProcess]:
    with run_server(server_args("tests.websocket.fw_apps:starlette_app", "pico", []),
                    cwd=str(REPO)) as proc:
        yield proc


@pytest.fixture(scope="module")
def fastapi_server() -> Iterator[ServerProcess]:
    with run_server(server_args("tests.websocket.fw_apps:fastapi_app", "llhttp", []),
                    cwd=str(REPO)) as proc:
        yield proc


def test_starlette_json_echo_and_subprotocol(starlette_server: ServerProcess) -> None:
    url = f"ws://127.0.0.1:{starlette_server.port}/ws"
    with connect(url, subprotocols=["json.v1"]) as ws:
        assert ws.subprotocol == "json.v1"
        ws.send(json.dumps({"n": 1}))
        assert json.loads(ws.recv()) == {"echo": {"n": 1}, "path": "/ws"}
        ws.send(json.dumps({"close": 4005}))
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4005, "as asked")


def test_starlette_bytes_iteration(starlette_server: ServerProcess) -> None:
    with connect(f"ws://127.0.0.1:{starlette_server.port}/bytes") as ws:
        for n in (1, 1000, 100_000):
            data = bytes(range(256)) * (n // 256) + b"xyz"
            ws.send(data)
            assert ws.recv() == data[::-1]


def test_starlette_close_before_accept_is_403(starlette_server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(f"ws://127.0.0.1:{starlette_server.port}/deny")
    assert info.value.response.status_code == 403


def test_starlette_unknown_route_is_403(starlette_server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(f"ws://127.0.0.1:{starlette_server.port}/nope")
    assert info.value.response.status_code == 403


def test_fastapi_path_and_query_params(fastapi_server: ServerProcess) -> None:
    with connect(f"ws://127.0.0.1:{fastapi_server.port}/items/7/ws?q=hi") as ws:
        ws.send("one")
        assert ws.recv() == "item 7 q=hi: one"
        ws.send("two")
        assert ws.recv() == "item 7 q=hi: two"


def test_fastapi_validation_error_rejects(fastapi_server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(f"ws://127.0.0.1:{fastapi_server.port}/items/not-a-number/ws")
    assert info.value.response.status_code == 403


def test_fastapi_client_disconnect_reaches_handler(fastapi_server: ServerProcess) -> None:
    with connect(f"ws://127.0.0.1:{fastapi_server.port}/items/1/ws") as ws:
        ws.send("x")
        ws.recv()
        ws.close(4002)
    with connect(f"ws://127.0.0.1:{fastapi_server.port}/disconnects") as ws:
        assert json.loads(ws.recv())[-1] == 4002
