"""Normal WebSocket paths through the ``websockets`` client library: echo, subprotocols, accept
headers, close codes both ways, rejection (403 and the denial response), app failures."""

from __future__ import annotations

import ast
import contextlib
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from ws_server import events

from helpers import ServerProcess


def ws_url(server: ServerProcess, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"



def test_echo_text_and_bytes(server: ServerProcess) -> None:
    with connect(ws_url(server, "/echo")) as ws:
        ws.send("héllo ✓")
        assert ws.recv() == "héllo ✓"
        ws.send(b"\x00\xff" * 5000)
        assert ws.recv() == b"\x00\xff" * 5000
        ws.send("")
        assert ws.recv() == ""
        for i in range(50):
            ws.send(f"m{i}")
        assert [ws.recv() for _ in range(50)] == [f"m{i}" for i in range(50)]


def test_scope_and_subprotocol_and_headers(server: ServerProcess) -> None:
    with connect(ws_url(server, "/echo"), subprotocols=["chat.v2", "chat.v1"]) as ws:
        assert ws.subprotocol == "chat.v2"
        headers = ws.response.headers
        assert headers["x-extra"] == "yes"
        assert headers["server"] == "ruvicorn"
        assert "date" in headers
        ws.send("scope")
        scope = ast.literal_eval(ws.recv())
        assert scope == {"type": "websocket", "scheme": "ws", "path": "/echo",
                         "subprotocols": ["chat.v2", "chat.v1"]}


def test_no_subprotocol_offered(server: ServerProcess) -> None:
    with connect(ws_url(server, "/echo")) as ws:
        assert ws.subprotocol is None
        assert "sec-websocket-protocol" not in ws.response.headers


def test_client_close_code_and_reason_reach_app(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with connect(ws_url(server, f"/echo?token={token}")) as ws:
        ws.send("x")
        ws.recv()
        ws.close(code=4001, reason="bye now")
    assert ws.close_code == 4001  # the server echoed the code
    assert events(server, token) == [{"disconnect": 4001, "reason": "bye now"}]


def test_server_close_code_and_reason(server: ServerProcess) -> None:
    with connect(ws_url(server, "/echo")) as ws:
        ws.send("close:4321:done here")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4321, "done here")


def test_close_right_after_accept(server: ServerProcess) -> None:
    with connect(ws_url(server, "/close?code=1001&reason=going")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (1001, "going")


def test_close_before_accept_is_403(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(server, f"/reject?token={token}"))
    assert info.value.response.status_code == 403
    assert server.wait_for_stderr('"WebSocket /reject?token=', timeout=5)
    assert server.wait_for_stderr('" 403', timeout=5)
    # No close frame either way: the code only, as uvicorn.
    assert events(server, token) == [{"type": "websocket.disconnect", "code": 1006}]


def test_denial_response(server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(server, "/deny"))
    assert info.value.response.status_code == 401
    assert info.value.response.body == b"denied"


@pytest.mark.parametrize(("path", "body", "framing"), [
    ("/deny-nolength", b"hardbody", ("content-length", "8")),  # sent whole: a length, as uvicorn
    ("/deny-pieces", b"hard body", ("transfer-encoding", "chunked")),
])
def test_denial_body_framing_without_length(server: ServerProcess, path: str, body: bytes,
                                            framing: tuple[str, str]) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(server, path))
    response = info.value.response
    assert response.status_code == 403 and response.body == body
    assert response.headers.get(framing[0]) == framing[1]
    other = "transfer-encoding" if framing[0] == "content-length" else "content-length"
    assert other not in response.headers


def test_denial_head_goes_out_when_the_app_fails_after_it(server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(server, "/deny-start-twice"))
    assert info.value.response.status_code == 404
    assert server.wait_for_stderr("Expected ASGI message 'websocket.http.response.body' but got "
                                  "'websocket.http.response.start'.", timeout=5)


@pytest.mark.parametrize("status", [700, 99, 600])
def test_denial_with_an_invalid_status_is_500(server: ServerProcess, status: int) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(server, f"/deny-status?status={status}"))
    response = info.value.response
    assert response.status_code == 500
    assert response.body == b"Internal Server Error"
    assert response.headers["content-length"] == "21"
    assert response.headers["connection"] == "close"
    assert server.wait_for_stderr(f"Invalid HTTP status code '{status}' in response.", timeout=5)


def test_exception_before_accept_is_500(server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(server, "/raise-before"))
    assert info.value.response.status_code == 500
    assert server.wait_for_stderr("boom before accept", timeout=5)


def test_exception_after_accept_is_1011(server: ServerProcess) -> None:
    with connect(ws_url(server, "/raise-after")) as ws:
        ws.send("trigger")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    assert info.value.rcvd.code == 1011
    assert server.wait_for_stderr("boom after accept", timeout=5)


def test_app_return_closes_1000(server: ServerProcess) -> None:
    with connect(ws_url(server, "/return")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    assert info.value.rcvd.code == 1000


def test_app_returning_a_value_is_an_error(server: ServerProcess) -> None:
    with connect(ws_url(server, "/return-value")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    # As uvicorn: logged, and the connection dropped without a close frame (the client: 1006).
    assert info.value.rcvd is None and ws.close_code == 1006
    assert server.wait_for_stderr("ASGI callable should return None, but returned 'not-none'.",
                                  timeout=5)


def test_second_accept_drops_the_connection(server: ServerProcess) -> None:
    with connect(ws_url(server, "/accept-twice")) as ws:
        assert ws.recv() == "accepted once"  # what was sent before still arrives
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    assert info.value.rcvd is None and ws.close_code == 1006
    assert server.wait_for_stderr("Expected ASGI message 'websocket.send' or 'websocket.close', "
                                  "but got 'websocket.accept'.", timeout=5)


def test_send_after_disconnect_raises_oserror(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with connect(ws_url(server, f"/late-send?token={token}")) as ws:
        ws.close(1000)
    got = events(server, token, count=2)
    assert got == [{"disconnect": 1000}, "send raised ClientDisconnected"]


def test_http_on_same_server_still_works(server: ServerProcess) -> None:
    r = httpx.get(f"{server.url}/plain")
    assert r.status_code == 200 and "'type': 'http'" in r.text


def test_many_connections(server: ServerProcess) -> None:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(ws_url(server, "/echo"))) for _ in range(20)]
        for i, ws in enumerate(sockets):
            ws.send(f"c{i}")
        assert [ws.recv() for ws in sockets] == [f"c{i}" for i in range(20)]
