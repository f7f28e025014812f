"""Fixtures for the WebSocket tests: servers running ``tests.websocket.ws_apps:app``.

No ``__init__.py`` here (like tests/http): helper modules are imported by their file names
(``ws_wire``, ``ws_server``). A module may set ``SERVER_ARGS``, ``APP`` and ``PARSERS`` (default
pico only; the handshake tests run with both parsers).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from ws_server import APP, REPO, server_args  # noqa: E402

from helpers import ServerProcess, run_server  # noqa: E402


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
