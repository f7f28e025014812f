"""Failures of the application: 500 or a closed connection, traceback in the log only."""

from __future__ import annotations

import time

from http_wire import Conn, PeerClosed, get, inspect, new_token, request

from helpers import ServerProcess


def wait_for_log(server: ServerProcess, needle: str, timeout: float = 5.0) -> str:
    logged = server.wait_for_stderr(needle, timeout)
    assert logged, f"{needle!r} not logged:\n{server.stderr_text()}"
    return server.stderr_text()


def test_exception_before_start_gives_500_and_close(server: ServerProcess) -> None:
    marker = "marker-" + new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/raise-before?marker={marker}")
                  + request("GET", "/text?msg=pipelined"))
        resp = conn.read_response()
        assert resp.status == 500
        assert "close" in resp.connection_tokens()
        assert marker.encode() not in resp.body and b"Traceback" not in resp.body
        assert conn.read_until_close(3) == b"", "nothing after the 500; the connection closes"
    log = wait_for_log(server, marker)
    assert "Traceback" in log and "ValueError" in log
    assert get(server.port, "/text").status == 200


def test_exception_after_start_closes_connection(server: ServerProcess) -> None:
    marker = "marker-" + new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/raise-after?marker={marker}"))
        status, headers = conn.read_head()
        assert status == 200
        assert ("transfer-encoding", "chunked") in headers
        rest = conn.read_until_close(3)
    # The body is cut off: no terminating zero-size chunk, so the client sees an error.
    assert b"partial" in rest
    assert not rest.endswith(b"0\r\n\r\n")
    wait_for_log(server, marker)
    assert get(server.port, "/text").status == 200


def test_return_without_response_gives_500(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/no-response"))
        resp = conn.read_response()
        assert resp.status == 500
        # uvicorn closes after a 500 it had to make up; keep-alive would also be acceptable,
        # but the response must be complete and well framed (read_response checked that).
        try:
            conn.send(request("GET", "/text?msg=after"))
            follow = conn.read_response(timeout=3)
            assert follow.body == b"after"
        except (PeerClosed, BrokenPipeError, ConnectionResetError):
            pass


def test_server_survives_many_failing_requests(server: ServerProcess) -> None:
    deadline = time.monotonic() + 20
    for i in range(20):
        with Conn(server.port) as conn:
            conn.send(request("GET", f"/raise-before?marker=loop{i}"))
            assert conn.read_response().status == 500
        assert time.monotonic() < deadline
    assert get(server.port, "/text").status == 200


def test_return_value_before_response_is_logged_and_gives_500(server: ServerProcess) -> None:
    marker = "marker-" + new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/return-value?marker={marker}"))
        resp = conn.read_response()
        assert resp.status == 500 and "close" in resp.connection_tokens()
        assert conn.read_until_close(3) == b""
    log = wait_for_log(server, f"not-none-{marker}")
    assert f"ASGI callable should return None, but returned 'not-none-{marker}'." in log


def test_return_value_after_response_closes_the_connection(server: ServerProcess) -> None:
    marker = "marker-" + new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/return-value?after=1&marker={marker}"))
        assert conn.read_response().body == b"done"
        wait_for_log(server, f"not-none-{marker}")
        assert conn.closed_within(3)


def test_extra_body_after_complete_response_is_logged_and_closes(server: ServerProcess) -> None:
    token = new_token()
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/after-response?token={token}&extra=1"))
        assert conn.read_response().body == b"answered"
        log = wait_for_log(server, "after response already completed")
        assert "Exception in ASGI application" in log
        assert conn.closed_within(3), "an app that misbehaved after its response: no reuse"
    assert inspect(server.port, token) == ["http.disconnect"]
