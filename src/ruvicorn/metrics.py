"""``--metrics``: the server's Prometheus series, on their own endpoint.

The C++ core counts into a *slot* (``ruvicorn/metrics.hpp``): plain 64-bit counters and
fixed-bucket histograms that the exporter reads at scrape time, so a request costs a few clock
reads and increments, and nothing at all with metrics off. The gauges (connections, WebSockets,
HTTP/2 streams, write buffers, paused connections) and the event loop's lag are sampled by a
timer every ``PUBLISH_INTERVAL`` seconds.

One process: the slot is an anonymous mapping and the endpoint a thread of the server. With
``--workers`` (and ``--reload``) each worker counts into a slot shared with the supervisor
(a memfd both map), and the supervisor serves the one endpoint: it sums the slots of the
running workers and of those that have exited. A worker that exits (crash, restart,
``--limit-max-requests``) has its final counts folded into the supervisor's retired totals
before its slot goes, so the server's counters never go backwards while the supervisor runs;
gauges carry a ``worker`` label.
``process_start_time_seconds`` (and, in OpenMetrics, each counter's ``_created``) marks the one
reset there is: the supervisor's own restart.

The exposition is prometheus_client's (``pip install 'ruvicorn[metrics]'``); the tests parse it
with prometheus_client's parser.
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import os
import tempfile
import threading
import time
from multiprocessing import reduction
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ruvicorn import _core
from ruvicorn.protocols import app_raised, app_returned_value

if TYPE_CHECKING:
    from ruvicorn.config import Config
    from ruvicorn.server import ServerState

SLOT_SIZE: int = _core.METRICS_SLOT_SIZE
PUBLISH_INTERVAL = 0.5  # seconds between gauge samples (and event-loop lag measurements)

logger = logging.getLogger("ruvicorn.error")

MISSING_CLIENT = "--metrics needs prometheus_client: pip install 'ruvicorn[metrics]'."


def client_available() -> bool:
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


# --- slots -------------------------------------------------------------------------------------


def private_slot() -> mmap.mmap:
    """A zeroed, page-aligned slot for one process."""
    return mmap.mmap(-1, SLOT_SIZE)


def _rebuild_shared(dup: Any) -> mmap.mmap:
    fd = dup.detach()
    try:
        return mmap.mmap(fd, SLOT_SIZE)
    finally:
        os.close(fd)


class SharedSlot:
    """A worker's slot: a memfd (or an unlinked temporary file) mapped by the supervisor and,
    once pickled into the spawned worker, by the worker too."""

    def __init__(self) -> None:
        if hasattr(os, "memfd_create"):
            self.fd = os.memfd_create("ruvicorn-metrics")
        else:
            self.fd, path = tempfile.mkstemp(prefix="ruvicorn-metrics-")
            os.unlink(path)
        os.ftruncate(self.fd, SLOT_SIZE)
        self.memory = mmap.mmap(self.fd, SLOT_SIZE)

    def __reduce__(self) -> tuple[Callable[[Any], mmap.mmap], tuple[Any]]:
        # Only while a worker is spawned: the descriptor travels with it.
        return _rebuild_shared, (reduction.DupFd(self.fd),)

    def close(self) -> None:
        self.memory.close()
        os.close(self.fd)


# --- in the server process -------------------------------------------------------------------


_app_called = _core.metrics_app_called


async def run_asgi_metered(app: Any, scope: dict, exchange: Any) -> None:
    """ruvicorn.protocols.run_asgi for HTTP with --metrics: the server's "dispatch" share ends
    here, in the app's task, as the app is called. Written out rather than wrapping run_asgi:
    a coroutine around it cost about 200 ns a request."""
    _app_called(exchange)
    try:
        result = await app(scope, exchange.receive, exchange.send)
    except BaseException as exc:
        if app_raised(exchange, exc):
            raise
    else:
        if result is None:
            exchange.app_returned()
        else:
            app_returned_value(exchange, result)


class ServerMetrics:
    """Counting in one server process: the slot attached to the protocol context, the sampling
    timer, and (without a supervisor) the endpoint."""

    def __init__(self, context: Any, loop: asyncio.AbstractEventLoop, memory: Any,
                 exporter: Exporter | None) -> None:
        self.context = context
        self.loop = loop
        self.memory = memory
        self.exporter = exporter
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0
        _core.metrics_attach(context, memory)
        context.run_http = run_asgi_metered
        self._publish(0.0)

    def _publish(self, lag: float) -> None:
        _core.metrics_publish(self.context, lag)
        self._due = self.loop.time() + PUBLISH_INTERVAL
        self._timer = self.loop.call_later(PUBLISH_INTERVAL, self._tick)

    def _tick(self) -> None:
        # How late the timer fired is how long the loop was busy with something else.
        self._publish(max(0.0, self.loop.time() - self._due))

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.exporter is not None:
            self.exporter.stop()
            self.exporter = None


def start_server_metrics(config: Config, loop: asyncio.AbstractEventLoop, state: ServerState,
                         memory: Any = None) -> ServerMetrics:
    """``memory``: the slot a supervisor gave this worker (it serves the endpoint), or None to
    count into a private slot and serve the endpoint here. Raises OSError if it cannot bind."""
    exporter = None
    if memory is None:
        memory = private_slot()
        slots = [("0", memory)]
        exporter = Exporter(config, Collector(lambda: (None, slots, 0)))
    return ServerMetrics(state.http_context, loop, memory, exporter)


# --- in the supervisor --------------------------------------------------------------------------


class SupervisorMetrics:
    """The endpoint of a server with worker processes: one slot per worker, and the totals of
    the workers that have exited."""

    def __init__(self, config: Config) -> None:
        self._lock = threading.Lock()
        self._retired = private_slot()
        self._any_retired = False
        self._restarts = 0
        self._slots: dict[int, tuple[SharedSlot, str | None]] = {}
        self.exporter = Exporter(config, Collector(self._snapshot))

    def new_slot(self) -> SharedSlot:
        slot = SharedSlot()
        with self._lock:
            self._slots[id(slot)] = (slot, None)
        return slot

    def in_service(self, slot: SharedSlot | None, label: str) -> None:
        """``slot``'s worker now serves as worker ``label`` (the gauges' label)."""
        if slot is None:
            return
        with self._lock:
            self._slots[id(slot)] = (slot, label)

    def retire(self, slot: SharedSlot | None) -> None:
        """``slot``'s worker has exited: its counts join the retired totals (exactly once)."""
        if slot is None:
            return
        with self._lock:
            if self._slots.pop(id(slot), None) is None:
                return
            _core.metrics_fold(self._retired, slot.memory)
            self._any_retired = True
            self._restarts += 1
        slot.close()

    def _snapshot(self) -> tuple[Any, list[tuple[str | None, Any]], int]:
        with self._lock:  # a worker retired now is counted either live or retired, never twice
            slots = [(label, slot.memory) for slot, label in self._slots.values()]
            retired = self._retired if self._any_retired else None
            data = _read(retired, slots)
            return data, slots, self._restarts

    def stop(self) -> None:
        self.exporter.stop()


# --- exposition ----------------------------------------------------------------------------------


def _read(retired: Any, slots: list[tuple[str | None, Any]]) -> dict:
    memories = [memory for _, memory in slots]
    data = _core.metrics_read(memories if retired is None else [*memories, retired])
    data["workers"] = data["workers"][: len(memories)]
    return data


class Collector:
    """A prometheus_client collector over the slots, read at scrape time."""

    def __init__(self, source: Callable[[], tuple[Any, list[tuple[str | None, Any]], int]]) -> None:
        self.source = source
        self.created = time.time()

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            HistogramMetricFamily,
        )

        data, slots, restarts = self.source()
        if data is None:
            data = _read(None, slots)
        created = self.created

        requests = CounterMetricFamily(
            "ruvicorn_requests", "Requests that reached the app, by HTTP version, method and "
            "status class ('none': the client left before any response).",
            labels=["protocol", "method", "status"])
        for protocol, method, status, count in data["requests"]:
            requests.add_metric([protocol, method, status], count, created=created)
        yield requests

        bounds = data["bounds"]
        yield _histogram(HistogramMetricFamily(
            "ruvicorn_request_duration_seconds",
            "From the request head parsed to the response's last byte handed to the kernel.",
            labels=["protocol"]), bounds, data["duration"], [])
        share = HistogramMetricFamily(
            "ruvicorn_server_share_seconds",
            "The server's own time in each request: phase 'dispatch' from the head parsed to "
            "the app called, phase 'respond' from the app's last message to the last byte "
            "handed to the kernel.", labels=["protocol", "phase"])
        _histogram(share, bounds, data["dispatch"], ["dispatch"])
        _histogram(share, bounds, data["respond"], ["respond"])
        yield share

        errors = CounterMetricFamily(
            "ruvicorn_request_errors", "Requests the server refused itself, without the app: "
            "parse errors by kind (400, smuggling, 413, 414, 431, 501/505), 408 and 503 "
            "(--limit-concurrency).", labels=["kind"])
        for kind, count in data["errors"]:
            errors.add_metric([kind], count, created=created)
        yield errors
        h2_errors = CounterMetricFamily(
            "ruvicorn_http2_connection_errors", "HTTP/2 connections ended by a protocol error, "
            "by the GOAWAY code sent.", labels=["code"])
        for code, count in data["h2_errors"]:
            h2_errors.add_metric([code], count, created=created)
        yield h2_errors
        if restarts:
            yield CounterMetricFamily(
                "ruvicorn_worker_exits", "Worker processes that have exited (their counts stay "
                "in the totals).", value=restarts, created=created)
        yield from _gauges(data["workers"], slots)


def _histogram(family: Any, bounds: list[float], series: list, extra: list[str]) -> Any:
    for protocol, counts, total in series:
        cumulative, buckets = 0, []
        for bound, count in zip([*bounds, float("inf")], counts):
            cumulative += count
            buckets.append((_le(bound), cumulative))
        family.add_metric([protocol, *extra], buckets, total)
    return family


def _le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString

    return floatToGoString(bound)


def _gauges(workers: list, slots: list[tuple[str | None, Any]]) -> Iterator[Any]:
    from prometheus_client.core import GaugeMetricFamily

    def family(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
        return GaugeMetricFamily(name, doc, labels=["worker", *labels])

    connections = family("ruvicorn_connections_open", "Open client connections, by the "
                         "protocol they speak.", ("protocol",))
    websockets = family("ruvicorn_websockets_open", "Open WebSocket sessions (HTTP/1.1 "
                        "upgrades and HTTP/2 extended CONNECT streams).")
    streams = family("ruvicorn_http2_streams_open", "HTTP/2 request streams whose exchange "
                     "is running.")
    h3_streams = family("ruvicorn_http3_streams_open", "HTTP/3 request streams whose exchange "
                        "is running.")
    buffered = family("ruvicorn_write_buffer_bytes", "Response bytes waiting in per-connection "
                      "write buffers (not yet taken by the kernel).")
    paused = family("ruvicorn_connections_writing_paused", "Connections whose client reads "
                    "slower than the server writes (the transport paused writing).")
    lag = family("ruvicorn_event_loop_lag_seconds", "How late the worker's sampling timer "
                 "fired: time the event loop spent on other work. A loop blocked since its last "
                 "sample shows the time since then.")
    started = family("ruvicorn_worker_start_time_seconds", "When the worker process started "
                     "counting (Unix time).")
    now = time.time()
    for (label, _), worker in zip(slots, workers):
        if label is None or worker is None:
            continue  # not in service yet, or never counted
        for protocol, count in worker["connections"].items():
            connections.add_metric([label, protocol], count)
        websockets.add_metric([label], worker["websockets"])
        streams.add_metric([label], worker["h2_streams"])
        h3_streams.add_metric([label], worker["h3_streams"])
        buffered.add_metric([label], worker["write_buffer_bytes"])
        paused.add_metric([label], worker["writing_paused"])
        stalled = now - worker["published"] - PUBLISH_INTERVAL
        lag.add_metric([label], max(worker["loop_lag"], stalled, 0.0))
        started.add_metric([label], worker["start_time"])
    yield from (connections, websockets, streams, h3_streams, buffered, paused, lag, started)


class Exporter:
    """prometheus_client's HTTP endpoint on --metrics-address:--metrics-port, in a thread: a
    scrape never waits for the event loop (and so sees a blocked loop's lag)."""

    def __init__(self, config: Config, collector: Collector) -> None:
        from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server

        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        ProcessCollector(registry=registry)
        self.server, self.thread = start_http_server(
            config.metrics_port, addr=config.metrics_address, registry=registry)
        host, port = self.server.server_address[:2]
        self.port = port
        shown = f"[{host}]" if ":" in str(host) else host
        logger.info("Metrics on http://%s:%d/metrics", shown, port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
