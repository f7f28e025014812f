"""How app tasks start, and what stays exact when they start eagerly (Python 3.12+: inside
data_received, an app that does not suspend answering before the task is even registered): the
task an app sees, its context (never the previous pipelined app's), the task bookkeeping behind
--limit-concurrency and graceful shutdown, the order of pipelined responses, and one write for
the responses of one read. On uvloop and on asyncio's loop (tests/http/task_app.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterator

import pytest
from http_wire import Conn, get, request

from helpers import ServerProcess, run_server

HERE = str(Path(__file__).resolve().parent)
LOOPS = {"uvloop": "uvloop", "asyncio": "task_app:counting_loop"}
LIMIT = 4


def args(loop: str, *extra: str) -> list[str]:
    return ["task_app:app", "--app-dir", HERE, "--host", "127.0.0.1", "--loop", LOOPS[loop],
            "--log-level", "info", "--no-access-log", "--timeout-graceful-shutdown", "3",
            "--limit-concurrency", str(LIMIT), *extra]


@pytest.fixture(scope="module", params=sorted(LOOPS))
def loop(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(loop: str) -> Iterator[ServerProcess]:
    with run_server(args(loop)) as proc:
        yield proc


def pipelined(port: int, targets: list[str]) -> list[bytes]:
    with Conn(port) as conn:
        conn.send(b"".join(request("GET", t) for t in targets))
        bodies = [conn.read_response().body for _ in targets]
        assert not conn.buf
    return bodies


def test_the_app_runs_in_its_own_task(server: ServerProcess) -> None:
    expected = {"task": True, "same": True}
    assert json.loads(get(server.port, "/task").body) == expected
    for body in pipelined(server.port, ["/task"] * 4):
        assert json.loads(body) == expected


def test_each_request_starts_from_the_servers_context(server: ServerProcess) -> None:
    # The first app suspends, so the second starts from inside its send(); none may see the
    # value an earlier one set.
    bodies = pipelined(server.port, ["/ctx?set=a&sleep=0.05", "/ctx?set=b", "/ctx?set=c",
                                     "/ctx?set=d&sleep=0", "/ctx?set=e"])
    assert bodies == [f"set-at-import;{v}".encode() for v in "abcde"]
    with Conn(server.port) as conn:
        for value in "fg":
            conn.send(request("GET", f"/ctx?set={value}"))
            assert conn.read_response().body == f"set-at-import;{value}".encode()


def test_reset_contextvars_with_pipelining(loop: str) -> None:
    with run_server(args(loop, "--reset-contextvars")) as server:
        bodies = pipelined(server.port, ["/ctx?set=a&sleep=0.05", "/ctx?set=b", "/ctx?set=c"])
        assert bodies == [b"unset;a", b"unset;b", b"unset;c"]


def test_pipelined_responses_keep_their_order(server: ServerProcess) -> None:
    targets = ["/ctx?set=slow&sleep=0.2", "/other", "/ctx?set=x", "/ctx?set=later&sleep=0.05",
               "/other"]
    assert pipelined(server.port, targets) == [
        b"set-at-import;slow", b"ok", b"set-at-import;x", b"set-at-import;later", b"ok"]


def test_finished_tasks_are_not_left_registered(loop: str) -> None:
    # Tasks that finished before they could be registered must not count against
    # --limit-concurrency, nor keep graceful shutdown waiting for them.
    with run_server(args(loop)) as server:
        for _ in range(3 * LIMIT):
            assert get(server.port, "/other").status == 200
        with Conn(server.port) as conn:
            for _ in range(3 * LIMIT):
                conn.send(request("GET", "/other"))
                assert conn.read_response().status == 200
        assert pipelined(server.port, ["/other"] * (3 * LIMIT)) == [b"ok"] * (3 * LIMIT)
        assert server.stop() == 0
    log = server.stderr_text()
    assert "Waiting for background tasks" not in log, log
    assert "internal error" not in log, log


@pytest.mark.parametrize(("target", "code"), [("/exit", 3), ("/interrupt", 0)])
def test_system_exit_or_interrupt_from_the_app_stops_the_server(
        loop: str, target: str, code: int) -> None:
    # As from a task's own step: the loop stops on it and the server exits by itself
    # (SystemExit's code) after the client got its 500. Started eagerly, the app raises it inside
    # data_received, which must neither swallow it nor log it as the server's own error.
    with run_server(args(loop)) as server:
        assert get(server.port, target).status == 500
        assert server.wait(timeout=10) == code
    assert "internal error" not in server.stderr_text(), server.stderr_text()


def test_pipelined_requests_with_bodies_are_answered_in_order(server: ServerProcess) -> None:
    # Each app starts once its body is complete or the read is over: an eager app that reads
    # its body finds it all, and the next request's bytes are not taken for this one's.
    bodies = [b"", b"a" * 10, b"b" * 70_000, b"c"]
    payload = b"".join(request("POST", "/echo", [("Content-Length", str(len(b)))], b)
                       for b in bodies)
    payload += request("POST", "/echo", [("Transfer-Encoding", "chunked")],
                       b"3\r\nxyz\r\n2\r\n12\r\n0\r\n\r\n")
    payload += request("GET", "/other")
    with Conn(server.port) as conn:
        conn.send(payload)
        got = [conn.read_response().body for _ in range(len(bodies) + 2)]
        assert not conn.buf
    assert got == [*bodies, b"xyz12", b"ok"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="apps start eagerly on Python 3.12+ only")
def test_responses_of_one_read_share_one_write(loop: str) -> None:
    if loop != "asyncio":
        pytest.skip("the counting transports are asyncio's")
    payload = b"".join(request("GET", f"/ctx?set={i}") for i in range(6))
    payload += b"".join(request("POST", "/echo", [("Content-Length", "3")], f"e{i:02}".encode())
                        for i in range(4))
    expected = [f"set-at-import;{i}".encode() for i in range(6)]
    expected += [f"e{i:02}".encode() for i in range(4)]
    with run_server(args(loop)) as server:
        with Conn(server.port) as conn:
            port = conn.sock.getsockname()[1]
            conn.send(payload)
            assert [conn.read_response().body for _ in expected] == expected
            assert not conn.buf
            stats = json.loads(get(server.port, f"/stats?port={port}").body)
    # Ten requests came in one read or very few (a readiness event may, rarely, come without
    # data): never more writes than reads, where one write per response would be ten.
    assert 1 <= stats["writes"] <= stats["reads"] < len(expected), stats


def test_a_task_factory_set_at_start_up_is_used(loop: str) -> None:
    # Set during lifespan start-up: ruvicorn creates every app task through it (no eager start).
    argv = args(loop)
    argv[0] = "task_app:factory_app"
    with run_server(argv) as proc:
        assert json.loads(get(proc.port, "/factory").body) == {"tagged": True}
        for body in pipelined(proc.port, ["/factory"] * 3):
            assert json.loads(body) == {"tagged": True}
