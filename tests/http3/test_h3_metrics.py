"""--metrics counts HTTP/3 requests under protocol "3", as it counts HTTP/1.1 and HTTP/2 ones."""

from __future__ import annotations

import time

import httpx
import pytest
from h3_client import H3Client

from helpers import ServerProcess, free_port

parser = pytest.importorskip("prometheus_client.parser",
                             reason="the metrics tests parse with prometheus_client")

METRICS_PORT = free_port()
SERVER_ARGS = ["--metrics", "--metrics-port", str(METRICS_PORT)]


def requests_total(**labels: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5).text
    return sum(sample.value
               for family in parser.text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "ruvicorn_requests_total"
               and all(sample.labels.get(k) == v for k, v in labels.items()))


def test_http3_requests_are_counted(h3_server: ServerProcess) -> None:
    assert h3_server.wait_for_stderr(f"Metrics on http://127.0.0.1:{METRICS_PORT}/metrics", 5)
    with H3Client(h3_server.port) as c:
        for _ in range(3):
            assert c.get("/text?msg=x").status == 200
        assert c.get("/status?code=404").status == 404
        assert c.request("POST", "/body?echo=1", body=b"abc").status == 200
    # Counters are published at once, but a scrape may race the last response's accounting.
    deadline = time.monotonic() + 10
    while requests_total(protocol="3") < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert requests_total(protocol="3", method="GET", status="2xx") == 3
    assert requests_total(protocol="3", method="GET", status="4xx") == 1
    assert requests_total(protocol="3", method="POST", status="2xx") == 1
    assert requests_total(protocol="1.1") == 0
