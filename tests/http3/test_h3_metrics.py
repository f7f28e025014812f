"""--metrics over HTTP/3: requests counted under protocol "3", as HTTP/1.1 and HTTP/2 ones are;
QUIC connections in ``ruvicorn_connections_open{protocol="3"}`` and running request streams in
``ruvicorn_http3_streams_open``."""

from __future__ import annotations

import time
from typing import Callable

import httpx
import pytest
from h3_client import H3Client

from helpers import ServerProcess, free_port

parser = pytest.importorskip("prometheus_client.parser",
                             reason="the metrics tests parse with prometheus_client")

METRICS_PORT = free_port()
SERVER_ARGS = ["--metrics", "--metrics-port", str(METRICS_PORT)]
WAIT = 10.0  # gauges are sampled every 0.5 s; counters are published at once


def value(name: str, **labels: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5).text
    return sum(sample.value
               for family in parser.text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == name
               and all(sample.labels.get(k) == v for k, v in labels.items()))


def wait_until(check: Callable[[], bool], what: str) -> None:
    # A scrape is the only way to see the server's counts: poll it, bounded.
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never showed {what}")
        time.sleep(0.05)


def test_http3_requests_are_counted(h3_server: ServerProcess) -> None:
    assert h3_server.wait_for_stderr(f"Metrics on http://127.0.0.1:{METRICS_PORT}/metrics", 5)
    before = value("ruvicorn_requests_total", protocol="3")
    with H3Client(h3_server.port) as c:
        for _ in range(3):
            assert c.get("/text?msg=x").status == 200
        assert c.get("/status?code=404").status == 404
        assert c.request("POST", "/body?echo=1", body=b"abc").status == 200
    # A scrape may race the last response's accounting.
    wait_until(lambda: value("ruvicorn_requests_total", protocol="3") >= before + 5,
               "five more HTTP/3 requests")
    assert value("ruvicorn_requests_total", protocol="3", method="GET", status="2xx") == 3
    assert value("ruvicorn_requests_total", protocol="3", method="GET", status="4xx") == 1
    assert value("ruvicorn_requests_total", protocol="3", method="POST", status="2xx") == 1
    assert value("ruvicorn_requests_total", protocol="1.1") == 0


def test_http3_connections_and_streams_are_gauged(h3_server: ServerProcess) -> None:
    def gauges(connections: int, streams: int) -> Callable[[], bool]:
        return lambda: (value("ruvicorn_connections_open", protocol="3") == connections
                        and value("ruvicorn_http3_streams_open") == streams)

    wait_until(gauges(0, 0), "no HTTP/3 connection before the test")
    with H3Client(h3_server.port) as c:
        held = c.start("GET", "/hold?token=h3-gauges")
        wait_until(gauges(1, 1), "one HTTP/3 connection with one stream running")
        assert c.get("/release?token=h3-gauges").status == 200
        assert c.wait(held).body == b"released"
        wait_until(gauges(1, 0), "the connection with no stream running")
    wait_until(gauges(0, 0), "the connection gone")
