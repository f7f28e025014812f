"""receive(): request bodies as http.request messages, and http.disconnect."""

from __future__ import annotations

import hashlib
import json
from typing import Iterator

import httpx
from http_wire import Conn, get, inspect, new_token, request

from helpers import ServerProcess

FIVE_MIB = 5 * 1024 * 1024


def test_body_in_one_message(client: httpx.Client) -> None:
    result = client.post("/body", content=b"hello body").json()
    assert result == {"length": 10, "messages": 1, "ending": "complete",
                      "sha256": hashlib.sha256(b"hello body").hexdigest()}


def test_get_without_body_gives_one_empty_message(client: httpx.Client) -> None:
    result = client.get("/body").json()
    assert result["length"] == 0 and result["messages"] == 1 and result["ending"] == "complete"


def test_chunked_request_body_reassembled(server: ServerProcess) -> None:
    body = b"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"
    with Conn(server.port) as conn:
        conn.send(request("POST", "/body?echo=1", [("Transfer-Encoding", "chunked")], body))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"hello world"


def test_chunked_request_with_trailers(server: ServerProcess) -> None:
    body = b"3\r\nabc\r\n0\r\nX-Trailer: yes\r\n\r\n"
    with Conn(server.port) as conn:
        conn.send(request("POST", "/body?echo=1", [("Transfer-Encoding", "chunked")], body))
        assert conn.read_response().body == b"abc"
        # The trailer section was consumed: the connection goes on with the next request.
        conn.send(request("GET", "/text?msg=next"))
        assert conn.read_response().body == b"next"


def test_body_sent_in_pieces(server: ServerProcess) -> None:
    pieces = [b"a" * 1000, b"b" * 2000, b"c" * 3000]
    total = sum(len(p) for p in pieces)
    with Conn(server.port) as conn:
        conn.send(request("POST", "/body?echo=1", [("Content-Length", str(total))]))
        for piece in pieces:
            conn.send(piece)
        resp = conn.read_response()
    assert resp.body == b"".join(pieces)


def test_large_chunked_upload_streams_in_many_messages(client: httpx.Client) -> None:
    block = bytes(range(256)) * 256  # 64 KiB

    def blocks() -> Iterator[bytes]:
        for _ in range(FIVE_MIB // len(block)):
            yield block

    result = client.post("/body", content=blocks()).json()
    assert result["length"] == FIVE_MIB
    assert result["sha256"] == hashlib.sha256(block * (FIVE_MIB // len(block))).hexdigest()
    assert result["messages"] > 1, "a 5 MiB body must arrive in several http.request messages"


def test_large_content_length_upload(client: httpx.Client) -> None:
    body = b"z" * FIVE_MIB
    result = client.post("/body", content=body).json()
    assert result["length"] == FIVE_MIB and result["ending"] == "complete"
    assert result["messages"] > 1


def test_disconnect_after_response_complete(server: ServerProcess) -> None:
    token = new_token()
    assert get(server.port, f"/receive-after?token={token}").body == b"done"
    assert inspect(server.port, token) == ["http.disconnect"]


def test_receive_after_response_is_disconnect_with_the_body_unread(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("POST", f"/after-response?token={token}", [("Content-Length", "10")],
                          b"0123456789"))
        assert conn.read_response().body == b"answered"
    assert inspect(server.port, token) == ["http.disconnect"]


def test_waiting_receive_resolves_when_the_response_completes(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        # Ten of a hundred bytes: the app's second receive() waits for more when it answers.
        conn.send(request("POST", f"/after-response?token={token}&read=1",
                          [("Content-Length", "100")], b"0123456789"))
        assert conn.read_response().body == b"answered"
        assert inspect(server.port, token, count=2) == ["http.request", "http.disconnect"]


def test_client_disconnect_mid_body_seen_by_app(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("POST", f"/disconnect?token={token}", [("Content-Length", "100")],
                          b"0123456789"))
        assert "started" in inspect(server.port, token, until="started")
    events = inspect(server.port, token, until="done")
    assert "http.disconnect" in events, events
    after = events[events.index("http.disconnect") + 1:]
    # send() after the client left is a no-op, not an exception.
    assert after == ["send:ok", "send:ok", "done"], events
    assert get(server.port, "/text").status == 200


def test_client_disconnect_while_app_waits_in_receive(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("POST", f"/disconnect?token={token}", [("Content-Length", "100")]))
        inspect(server.port, token, until="started")
    events = inspect(server.port, token, until="done")
    assert events[:2] == ["started", "http.disconnect"], events
    assert get(server.port, "/text").status == 200


def test_keep_alive_after_unread_body(server: ServerProcess) -> None:
    # /text never calls receive(); the server must skip the body to find the next request.
    with Conn(server.port) as conn:
        conn.send(request("POST", "/text?msg=one", [("Content-Length", "5")], b"XXXXX")
                  + request("GET", "/text?msg=two"))
        assert conn.read_response().body == b"one"
        assert conn.read_response().body == b"two"


def test_body_json_roundtrip(client: httpx.Client) -> None:
    payload = {"k": "v" * 1000}
    body = json.dumps(payload).encode()
    assert client.post("/body?echo=1", content=body).content == body
