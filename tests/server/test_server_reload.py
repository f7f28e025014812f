"""--reload: watchfiles-driven restarts that survive code which fails to import."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from helpers import protocol_available, run_server

pytest.importorskip("watchfiles")
pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")
READY = "Application startup complete."

APP_SOURCE = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": b"{version}"}})
'''


def _write(path: Path, version: str) -> None:
    path.write_text(APP_SOURCE.format(version=version))


def test_reload_on_change_and_survive_broken_code(tmp_path: Path) -> None:
    module = tmp_path / "reload_app.py"
    _write(module, "v1")
    args = ["--reload", "--reload-dir", str(tmp_path), "--app-dir", str(tmp_path),
            "reload_app:app"]
    with run_server(args, cwd=str(tmp_path)) as server:
        assert server.wait_for_stderr(READY)
        assert "Started reloader process" in server.stderr_text()
        assert httpx.get(server.url + "/", timeout=10).text == "v1"

        _write(module, "v2")
        assert server.wait_for_stderr("detected changes in 'reload_app.py'. Reloading...", 20)
        assert server.wait_for_stderr(READY, count=2)
        assert server.wait_for_stderr("Finished server process", 20)
        assert httpx.get(server.url + "/", timeout=10).text == "v2"

        module.write_text("this is not python (\n")
        assert server.wait_for_stderr("previous version keeps serving", 30)
        assert "SyntaxError" in server.stderr_text()
        assert httpx.get(server.url + "/", timeout=10).text == "v2"

        _write(module, "v3")
        assert server.wait_for_stderr(READY, count=3)
        assert server.wait_for_stderr("Finished server process", 20, count=2)
        assert httpx.get(server.url + "/", timeout=10).text == "v3"
        assert server.stop(signal.SIGTERM) == 0
    assert "Stopping reloader process" in server.stderr_text()


def test_reload_include_pattern(tmp_path: Path) -> None:
    _write(tmp_path / "reload_app.py", "v1")
    data = tmp_path / "data.txt"
    data.write_text("1")
    args = ["--reload", "--reload-dir", str(tmp_path), "--reload-include", "*.txt",
            "--app-dir", str(tmp_path), "reload_app:app"]
    with run_server(args, cwd=str(tmp_path)) as server:
        assert server.wait_for_stderr(READY)
        data.write_text("2")
        assert server.wait_for_stderr("detected changes in 'data.txt'", 20)
        assert server.wait_for_stderr(READY, count=2)


def test_reload_needs_an_import_string() -> None:
    import subprocess
    import sys

    from helpers import subprocess_env

    code = "import ruvicorn\nasync def app(s, r, c): pass\nruvicorn.run(app, reload=True)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=subprocess_env(), timeout=30)
    assert result.returncode == 1
    assert "You must pass the application as an import string" in result.stderr
