"""Fixtures for framework tests: each module names its ``APP`` and gets one server per parser;
every test runs over HTTP/1.1 and over HTTP/2 (prior knowledge; the parser plays no part there,
so HTTP/2 runs once, with the default parser)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from fw_client import make_client  # noqa: E402

from helpers import ServerProcess, run_server  # noqa: E402

PARSERS = ["pico", "llhttp"]


@pytest.fixture(scope="module", params=PARSERS)
def parser(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(parser: str, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    app = request.module.APP
    args = [app, "--host", "127.0.0.1", "--http", parser, "--log-level", "info",
            "--no-access-log"]
    with run_server(args, cwd=str(REPO)) as proc:
        yield proc


@pytest.fixture(params=["http1", "http2"])
def protocol(parser: str, request: pytest.FixtureRequest) -> str:
    if request.param == "http2" and parser != PARSERS[0]:
        pytest.skip("HTTP/2 does not use the HTTP/1.1 parser: run once")
    return str(request.param)


@pytest.fixture
def client(server: ServerProcess, protocol: str) -> Iterator[httpx.Client]:
    with make_client(server.url, protocol) as c:
        yield c
