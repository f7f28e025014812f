"""The cyclic GC after start-up: what start-up made is frozen (full collections no longer walk
it), and what requests make is still collected, so memory stays bounded."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from helpers import protocol_available, run_server

APPS = str(Path(__file__).resolve().parent)
REQUESTS = 3000
pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")


def test_startup_heap_is_frozen_and_request_cycles_are_collected() -> None:
    with run_server(["--app-dir", APPS, "--no-access-log", "gc_app:app"]) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            before = client.get("/stats").json()
            for _ in range(REQUESTS):
                assert client.get("/cycle").status_code == 200
            after = client.get("/stats").json()
    assert before["gc_enabled"] and before["frozen"] > 1000, before
    assert before["startup_object_frozen"], before
    # Every request left a cycle; the young-generation collections freed all but the latest.
    assert after["alive"] < REQUESTS // 2, after
