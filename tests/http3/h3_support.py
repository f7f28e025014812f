"""Shared by the HTTP/3 tests and their fixtures: where the repository is, which QUIC libraries
the server can use, how it is started."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for extra in ("tests", "tests/http", "tests/http2", "tests/http3"):
    if str(REPO / extra) not in sys.path:
        sys.path.insert(0, str(REPO / extra))

from helpers import sanitized  # noqa: E402  (tests/ is on sys.path from here on)

APP = "tests.http.apps:app"


def quic_libraries() -> list[str]:
    """The QUIC libraries the server is tested with: the default one (aioquic), or the one
    $RUVICORN_TEST_QUIC names (RUVICORN_TEST_QUIC=qh3 runs them all on qh3). qh3 is not in the
    default run: it stalls the handshake of aioquic's client (the tests' client) for 1-1.2 s and
    now and then for good (test_idle_timeout[qh3] timed out after 30 s on a quiet machine), which
    made every qh3 test a coin toss for CI rather than a check of ruvicorn."""
    wanted = os.environ.get("RUVICORN_TEST_QUIC")
    names = [wanted] if wanted else ["aioquic"]
    return [n for n in names if importlib.util.find_spec(n) is not None]


def server_args(certfile: str, keyfile: str, extra: list[str], app: str = APP) -> list[str]:
    return [app, "--host", "127.0.0.1", "--log-level", "info", "--no-access-log",
            "--timeout-graceful-shutdown", "3", "--http3", "--ssl-certfile", certfile,
            "--ssl-keyfile", keyfile, *extra]


def assert_grew_less(before: int, after: int, limit: int) -> None:
    if not sanitized():
        assert after - before < limit, f"RSS grew by {(after - before) >> 20} MiB"
