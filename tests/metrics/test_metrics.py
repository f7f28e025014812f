"""--metrics: the endpoint is scraped during real traffic (httpx over HTTP/1.1 and HTTP/2, raw
sockets for malformed requests and a client that does not read, a WebSocket client) and parsed
with prometheus_client's text parser; the values must move as the traffic says."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from helpers import free_port, run_server

parser = pytest.importorskip("prometheus_client.parser",
                             reason="the metrics tests parse with prometheus_client")

REPO = Path(__file__).resolve().parents[2]
APP = "tests.metrics.metrics_app:app"
WAIT = 15.0  # gauges are sampled every 0.5 s; a scrape is polled until it shows the change

Samples = dict[str, list[Any]]


def scrape(port: int) -> Samples:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in parser.text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 if none)."""
    return sum(s.value for s in samples.get(name, [])
               if all(s.labels.get(k) == v for k, v in labels.items()))


def wait_until(port: int, check: Callable[[Samples], bool], what: str) -> Samples:
    deadline = time.monotonic() + WAIT
    while True:
        samples = scrape(port)
        if check(samples):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never showed {what}")
        time.sleep(0.05)


def status_line(raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", PORTS["app"]), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0]


PORTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    metrics_port = free_port()
    args = [APP, "--host", "127.0.0.1", "--metrics", "--metrics-port", str(metrics_port),
            "--no-access-log", "--lifespan", "off", "--limit-request-body", "100",
            "--limit-request-line", "200", "--limit-request-field-size", "1000",
            "--timeout-graceful-shutdown", "2"]
    with run_server(args, cwd=str(REPO)) as proc:
        assert proc.wait_for_stderr(f"Metrics on http://127.0.0.1:{metrics_port}/metrics", 5)
        PORTS.update(app=proc.port, metrics=metrics_port)
        proc.metrics_port = metrics_port
        yield proc


def test_requests_by_protocol_method_and_status_class(server: Any) -> None:
    port = server.metrics_port
    before = scrape(port)
    with httpx.Client(base_url=server.url) as client:
        for _ in range(3):
            assert client.get("/").status_code == 200
        for _ in range(2):
            assert client.get("/status/404").status_code == 404
        assert client.post("/status/201", content=b"data").status_code == 201
        assert client.delete("/status/503").status_code == 503
        assert client.get("/fail").status_code == 500
    with httpx.Client(base_url=server.url, http1=False, http2=True) as client:
        for _ in range(2):
            response = client.get("/")
            assert response.http_version == "HTTP/2" and response.status_code == 200
        assert client.get("/status/302").status_code == 302

    expected = {("1.1", "GET", "2xx"): 3, ("1.1", "GET", "4xx"): 2, ("1.1", "POST", "2xx"): 1,
                ("1.1", "DELETE", "5xx"): 1, ("1.1", "GET", "5xx"): 1, ("2", "GET", "2xx"): 2,
                ("2", "GET", "3xx"): 1}

    def counted(samples: Samples) -> bool:
        return all(
            value(samples, "ruvicorn_requests_total", protocol=p, method=m, status=s)
            - value(before, "ruvicorn_requests_total", protocol=p, method=m, status=s) == n
            for (p, m, s), n in expected.items())

    after = wait_until(port, counted, "the requests by protocol, method and status")
    # /fail sent no message: no "respond" share for it.
    for protocol, n, responses in (("1.1", 8, 7), ("2", 3, 3)):
        for name, labels, count in (
                ("ruvicorn_request_duration_seconds_count", {}, n),
                ("ruvicorn_server_share_seconds_count", {"phase": "dispatch"}, n),
                ("ruvicorn_server_share_seconds_count", {"phase": "respond"}, responses)):
            delta = (value(after, name, protocol=protocol, **labels)
                     - value(before, name, protocol=protocol, **labels))
            assert delta == count, (name, protocol, labels, delta)
        # The server's share of a request is part of the whole request.
        share = value(after, "ruvicorn_server_share_seconds_sum", protocol=protocol)
        total = value(after, "ruvicorn_request_duration_seconds_sum", protocol=protocol)
        assert 0 < share <= total
    inf = value(after, "ruvicorn_request_duration_seconds_bucket", protocol="1.1", le="+Inf")
    assert inf == value(after, "ruvicorn_request_duration_seconds_count", protocol="1.1")


def test_scrapes_while_requests_flow(server: Any) -> None:
    # Four clients send 200 requests each while the endpoint is scraped in a loop: every scrape
    # parses, the count never goes backwards nor past what was sent, and ends at what was sent.
    port = server.metrics_port
    clients, each = 4, 200

    def count(samples: Samples) -> float:
        return value(samples, "ruvicorn_requests_total", protocol="1.1", method="GET")

    before = count(scrape(port))
    errors: list[BaseException] = []

    def client() -> None:
        try:
            with httpx.Client(base_url=server.url) as c:
                for _ in range(each):
                    assert c.get("/").status_code == 200
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    seen = [before]
    while any(t.is_alive() for t in threads):
        now = count(scrape(port))
        assert seen[-1] <= now <= before + clients * each
        seen.append(now)
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(seen) > 2, "no scrape ran while the requests flowed"
    wait_until(port, lambda s: count(s) == before + clients * each, "every request counted")


@pytest.mark.parametrize("kind, request_bytes, status", [
    ("smuggling", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n", b"400"),
    ("bad_request", b"GET / HTTP/1.1\r\n\r\n", b"400"),
    ("body_too_large", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n", b"413"),
    ("uri_too_long", b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: a\r\n\r\n", b"414"),
    ("headers_too_large", b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 10000 + b"\r\n\r\n",
     b"431"),
])
def test_parse_errors_by_kind(server: Any, kind: str, request_bytes: bytes,
                              status: bytes) -> None:
    port = server.metrics_port
    before = scrape(port)
    assert status_line(request_bytes).split(b" ")[1] == status
    after = wait_until(port, lambda s: value(s, "ruvicorn_request_errors_total", kind=kind)
                       > value(before, "ruvicorn_request_errors_total", kind=kind),
                       f"a {kind} error")
    for other in ("smuggling", "bad_request", "body_too_large", "uri_too_long",
                  "headers_too_large"):
        delta = (value(after, "ruvicorn_request_errors_total", kind=other)
                 - value(before, "ruvicorn_request_errors_total", kind=other))
        assert delta == (1 if other == kind else 0), (other, delta)


def test_open_connections_and_websockets_go_up_and_down(server: Any) -> None:
    port = server.metrics_port

    def gauge(samples: Samples, name: str, **labels: str) -> float:
        return value(samples, name, worker="0", **labels)

    wait_until(port, lambda s: gauge(s, "ruvicorn_connections_open", protocol="1.1") == 0,
               "no HTTP/1.1 connection before the test")
    sockets = []
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sockets.append(sock)
    wait_until(port, lambda s: gauge(s, "ruvicorn_connections_open", protocol="1.1") == 3,
               "three open HTTP/1.1 connections")
    with httpx.Client(base_url=server.url, http1=False, http2=True) as client:
        assert client.get("/").http_version == "HTTP/2"
        wait_until(port, lambda s: gauge(s, "ruvicorn_connections_open", protocol="2") == 1,
                   "one open HTTP/2 connection")
    websockets = pytest.importorskip("websockets.sync.client",
                                     reason="the WebSocket gauge needs the websockets client")
    with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        wait_until(port, lambda s: gauge(s, "ruvicorn_websockets_open") == 1,
                   "one open WebSocket")
    for sock in sockets:
        sock.close()
    wait_until(port, lambda s: gauge(s, "ruvicorn_connections_open", protocol="1.1") == 0
               and gauge(s, "ruvicorn_connections_open", protocol="2") == 0
               and gauge(s, "ruvicorn_websockets_open") == 0,
               "every connection closed again")


def test_slow_client_fills_the_write_buffer_and_pauses(server: Any) -> None:
    port = server.metrics_port
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    try:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")  # 16 MiB, never read
        samples = wait_until(
            port, lambda s: value(s, "ruvicorn_connections_writing_paused", worker="0") == 1,
            "a connection paused on its client")
        assert value(samples, "ruvicorn_write_buffer_bytes", worker="0") > 1024 * 1024
    finally:
        sock.close()
    wait_until(port, lambda s: value(s, "ruvicorn_connections_writing_paused", worker="0") == 0
               and value(s, "ruvicorn_write_buffer_bytes", worker="0") == 0,
               "the buffer gone with the connection")


def test_http2_streams_gauge(server: Any) -> None:
    port = server.metrics_port
    with httpx.Client(base_url=server.url, http1=False, http2=True, timeout=10) as client:
        done = threading.Thread(target=lambda: client.get("/slow"))
        done.start()
        try:
            wait_until(port, lambda s: value(s, "ruvicorn_http2_streams_open", worker="0") == 1,
                       "the running HTTP/2 stream")
        finally:
            done.join(10)
    wait_until(port, lambda s: value(s, "ruvicorn_http2_streams_open", worker="0") == 0,
               "no stream once the exchange ended")


def test_event_loop_lag(server: Any) -> None:
    port = server.metrics_port
    samples = scrape(port)
    assert "ruvicorn_event_loop_lag_seconds" in samples
    blocked = threading.Thread(target=lambda: httpx.get(f"{server.url}/block", timeout=10))
    blocked.start()
    try:
        # The endpoint answers from its own thread while the loop is held.
        wait_until(port, lambda s: value(s, "ruvicorn_event_loop_lag_seconds", worker="0") >= 0.3,
                   "the lag of a blocked loop")
    finally:
        blocked.join(10)
    wait_until(port, lambda s: value(s, "ruvicorn_event_loop_lag_seconds", worker="0") < 0.3,
               "the lag back to small once the loop is free")


def test_workers_one_endpoint_and_counters_survive_a_worker_exit() -> None:
    metrics_port = free_port()
    args = [APP, "--host", "127.0.0.1", "--workers", "2", "--metrics", "--metrics-port",
            str(metrics_port), "--no-access-log", "--lifespan", "off",
            "--timeout-graceful-shutdown", "2"]
    seen: list[float] = []

    def total(samples: Samples) -> float:
        count = value(samples, "ruvicorn_requests_total", protocol="1.1", method="GET",
                      status="2xx")
        assert not seen or count >= seen[-1], "a counter went backwards"
        seen.append(count)
        return count

    def both_workers(samples: Samples) -> bool:
        return {s.labels["worker"] for s in samples.get("ruvicorn_event_loop_lag_seconds", [])} \
            == {"0", "1"}

    with run_server(args, cwd=str(REPO)) as proc:
        wait_until(metrics_port, both_workers, "both workers' gauges")
        pids = set()
        for _ in range(20):
            with httpx.Client(base_url=proc.url) as client:  # a new connection each time
                pids.add(int(client.get("/pid").text))
        assert len(pids) <= 2
        wait_until(metrics_port, lambda s: total(s) == 20, "20 requests over the workers")
        victim = sorted(pids)[0]
        os.kill(victim, signal.SIGKILL)
        samples = wait_until(metrics_port, lambda s: total(s) == 20 and both_workers(s)
                             and value(s, "ruvicorn_worker_exits_total") == 1,
                             "the killed worker replaced, its counts kept")
        starts = [s.value for s in samples["ruvicorn_worker_start_time_seconds"]]
        assert len(starts) == 2
        for _ in range(5):
            with httpx.Client(base_url=proc.url) as client:
                assert client.get("/").status_code == 200
        wait_until(metrics_port, lambda s: total(s) == 25, "the counts going on from 20")


def test_metrics_without_prometheus_client_is_one_line(tmp_path: Path) -> None:
    shadow = tmp_path / "prometheus_client"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")
    from helpers import SRC_DIR, run_cli

    out = run_cli([APP, "--metrics"], cwd=str(REPO),
                  env={"PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC_DIR)])})
    assert out.returncode == 1
    assert "--metrics needs prometheus_client: pip install 'ruvicorn[metrics]'." in out.stderr
    assert "Traceback" not in out.stderr


def test_metrics_are_off_by_default() -> None:
    from ruvicorn.config import Config

    assert Config(APP).metrics is False
    with run_server([APP, "--host", "127.0.0.1", "--no-access-log", "--lifespan", "off"],
                    cwd=str(REPO)) as proc:
        assert httpx.get(f"{proc.url}/").status_code == 200
        assert "Metrics on" not in proc.stderr_text()
