"""--reset-contextvars: each request's task starts from an empty contextvars.Context."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from helpers import protocol_available, run_server

APPS = str(Path(__file__).resolve().parent)
pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")


@pytest.mark.parametrize(("flag", "expected"), [([], "set-at-import"),
                                                (["--reset-contextvars"], "unset")])
def test_reset_contextvars(flag: list[str], expected: str) -> None:
    with run_server(["--app-dir", APPS, *flag, "ctxvar_app:app"]) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert [client.get("/").text for _ in range(3)] == [expected] * 3
