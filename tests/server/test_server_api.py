"""The Python API (Config, Server, run) and the gunicorn worker class."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from helpers import free_port, protocol_available, subprocess_env, wait_port

APPS = str(Path(__file__).resolve().parent)
pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")


def _python(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=subprocess_env(), timeout=timeout, cwd=APPS)


def test_server_serve_and_should_exit() -> None:
    port = free_port()
    result = _python(f"""
        import asyncio, ruvicorn
        from apps import hello

        async def main():
            server = ruvicorn.Server(ruvicorn.Config(hello, port={port}, lifespan="on"))
            task = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.02)
            reader, writer = await asyncio.open_connection("127.0.0.1", {port})
            writer.write(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            await asyncio.wait_for(reader.readuntil(b"hello"), 10)
            writer.close()
            server.should_exit = True
            await asyncio.wait_for(task, 20)
            print("served and stopped", server.server_state.total_requests)
            # Nothing of the server keeps running in the caller's loop after serve() returns.
            print("sweep running", server.server_state.http_context.timers_running)

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert "served and stopped 1" in result.stdout
    assert "sweep running False" in result.stdout
    assert "Application shutdown complete." in result.stderr


def test_server_startup_and_shutdown_directly() -> None:
    port = free_port()
    result = _python(f"""
        import asyncio, ruvicorn
        from apps import hello

        async def main():
            server = ruvicorn.Server(ruvicorn.Config(hello, port={port}))
            await server.startup()
            assert server.started
            reader, writer = await asyncio.open_connection("127.0.0.1", {port})
            writer.close()
            await server.shutdown()
            print("ok")

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_server_on_a_file_descriptor_leaves_it_to_the_caller() -> None:
    """uvicorn serves a duplicate of Config(fd=...): the caller's socket outlives the server."""
    result = _python("""
        import asyncio, socket, ruvicorn
        from apps import hello

        async def main():
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
            port = listener.getsockname()[1]
            server = ruvicorn.Server(ruvicorn.Config(hello, fd=listener.fileno(), lifespan="off"))
            await server.startup()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            await asyncio.wait_for(reader.readuntil(b"hello"), 10)
            writer.close()
            await server.shutdown()
            print("caller's socket still open:", listener.getsockname()[1] == port)
            listener.close()

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert "caller's socket still open: True" in result.stdout


def test_bind_socket_on_a_descriptor_that_is_not_listening_yet() -> None:
    """Workers and reload get the inherited socket as is; the loop serving it listens."""
    import socket

    from ruvicorn.config import Config

    unbound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock = Config(hello_app, fd=unbound.fileno(), workers=2).bind_socket()
        assert (sock.family, sock.getsockname()) == (socket.AF_UNIX, "")
        assert sock.fileno() != unbound.fileno()
        sock.close()
    finally:
        unbound.close()  # still ours: no "Bad file descriptor"


async def hello_app(scope: dict, receive: object, send: object) -> None:
    raise AssertionError("not served")


def test_run_with_an_app_object_stops_on_sigterm() -> None:
    port = free_port()
    code = f"import ruvicorn\nfrom apps import hello\nruvicorn.run(hello, port={port})\n"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=APPS, env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port("127.0.0.1", port)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text == "hello"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _gunicorn_get(app: str, *options: str) -> tuple[str, str]:
    """Serves ``app`` with gunicorn and our worker class; the body of one GET, gunicorn's stderr."""
    pytest.importorskip("gunicorn")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "ruvicorn.workers.RuvicornWorker", "-w", "1",
         "-b", f"127.0.0.1:{port}", "--chdir", APPS, *options, app],
        env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port("127.0.0.1", port)
        deadline = time.monotonic() + 20
        while True:  # the arbiter listens before its worker has booted
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        return response.text, proc.communicate(timeout=10)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_gunicorn_worker_class() -> None:
    body, _ = _gunicorn_get("apps:hello")
    assert body == "hello"


def test_gunicorn_worker_gives_uvicorn_logger_names_gunicorn_handlers() -> None:
    body, stderr = _gunicorn_get("apps:uvicorn_logger_names", "--log-level", "warning",
                                 "--access-logfile", "-")
    assert "access_handlers=1 access_level=20 error_level=30" in body
    assert "app warning through uvicorn.error" in stderr
    assert "app info through uvicorn.error" not in stderr
