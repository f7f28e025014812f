"""Fixtures for the WebSocket tests: servers running ``tests.websocket.ws_apps:app``.

No ``__init__.py`` here (like tests/http): the directory must not become a package that shadows
the ``websockets`` client library's imports. A module may set ``SERVER_ARGS`` and ``PARSERS``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import ServerProcess, run_server  # noqa: E402

APP = "tests.websocket.ws_apps:app"


def server_args(app: str, parser: str, extra: list[str]) -> list[str]:
    return [app, "--host", "127.0.0.1", "--http", parser, "--log-level", "info",
            "--timeout-graceful-shutdown", "3", *extra]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "parser" in metafunc.fixturenames:
        parsers = getattr(metafunc.module, "PARSERS", ["pico"])
        metafunc.parametrize("parser", parsers, scope="module")


@pytest.fixture(scope="module")
def server(parser: str, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    extra = list(getattr(request.module, "SERVER_ARGS", []))
    app = getattr(request.module, "APP", APP)
    with run_server(server_args(app, parser, extra), cwd=str(REPO)) as proc:
        yield proc
