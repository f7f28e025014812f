"""The servers under test: how each is started, which interpreter runs it, which scenario
families (HTTP/1.1 and WebSocket, HTTP/2 on cleartext, HTTP/2 over TLS, idle connections) it
serves. Servers marked ``default=False`` are variants for A/B runs, chosen by name only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Tuple

from .scenarios import H2, H2_TLS, H3, HTTP1, IDLE_H2, IDLE_HTTP1, IDLE_WS, Scenario
from .tls import TlsFiles

APP = "bench.apps:app"
CEILING_SCENARIOS = frozenset(
    {"plaintext", "pipeline", "close", "ws-32", "ws-16k", "ws-32-x16", "idle-http1", "idle-ws"})
IDLE = frozenset({IDLE_HTTP1, IDLE_WS, IDLE_H2})
# Idle connections must outlive the measurement: keep-alive timeouts of 5 s would close them.
RUVICORN_IDLE_ARGS = ("--timeout-keep-alive", "600")
# (python, port, TLS files for the h2-tls family or None) -> command line
Argv = Callable[[str, int, Optional[TlsFiles]], List[str]]


@dataclass(frozen=True)
class Server:
    name: str
    role: str  # "ruvicorn" or "peer": selects the interpreter
    module: str  # the distribution whose version is reported, and that must be importable
    argv: Argv
    scenarios: FrozenSet[str] | None = None  # None: every scenario of its families
    families: FrozenSet[str] = frozenset({HTTP1})
    notes: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)  # added to the server's environment
    idle_args: Tuple[str, ...] = ()  # added to the command line of the idle-* families
    default: bool = True  # in the default --servers list
    python: str | None = None  # this interpreter rather than the role's (bench --python)

    def serves(self, scenario: Scenario) -> bool:
        return scenario.family in self.families and (
            self.scenarios is None or scenario.name in self.scenarios)

    def command(self, python: str, port: int, tls: TlsFiles | None, family: str) -> List[str]:
        return [*self.argv(python, port, tls), *(self.idle_args if family in IDLE else ())]


def _ruvicorn(http: str, metrics: bool = False) -> Argv:
    def argv(python: str, port: int, tls: TlsFiles | None) -> List[str]:
        # HTTP/2 is on by default: prior knowledge on cleartext, ALPN h2 over TLS.
        args = [python, "-m", "ruvicorn", APP, "--port", str(port), "--http", http,
                "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
        if metrics:  # the endpoint on a free port; nobody scrapes it during the run
            args += ["--metrics", "--metrics-port", "0"]
        if tls:
            args += ["--ssl-certfile", str(tls.cert), "--ssl-keyfile", str(tls.key)]
        return args
    return argv


def _ruvicorn_h3(quic: str) -> Argv:
    def argv(python: str, port: int, tls: TlsFiles | None) -> List[str]:
        # The QUIC library is chosen by RUVICORN_QUIC (ruvicorn/http3.py).
        assert tls is not None
        return ["env", f"RUVICORN_QUIC={quic}", python, "-m", "ruvicorn", APP, "--port",
                str(port), "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
                "--http3", "--ssl-certfile", str(tls.cert), "--ssl-keyfile", str(tls.key)]
    return argv


def _hypercorn_h3(python: str, port: int, tls: TlsFiles | None) -> List[str]:
    # HTTP/3 through aioquic on --quic-bind (its TCP listener, required, on the same port).
    assert tls is not None
    return [python, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--quic-bind",
            f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "uvloop", "--log-level",
            "warning", "--certfile", str(tls.cert), "--keyfile", str(tls.key), APP]


def _uvicorn(http: str) -> Argv:
    def argv(python: str, port: int, tls: TlsFiles | None) -> List[str]:
        return [python, "-m", "uvicorn", APP, "--port", str(port), "--http", http,
                "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    return argv


def _granian(http: str) -> Argv:
    def argv(python: str, port: int, tls: TlsFiles | None) -> List[str]:
        args = [python, "-m", "granian", "--interface", "asgi", "--http", http,
                "--loop", "uvloop", "--workers", "1", "--runtime-threads", "1",
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
                "--log-level", "warning"]
        if tls:
            args += ["--ssl-certificate", str(tls.cert), "--ssl-keyfile", str(tls.key)]
        return [*args, APP]
    return argv


def _hypercorn(python: str, port: int, tls: TlsFiles | None) -> List[str]:
    # HTTP/2 by prior knowledge on cleartext, by ALPN (h2 first) over TLS.
    args = [python, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "uvloop", "--log-level", "warning"]
    if tls:
        args += ["--certfile", str(tls.cert), "--keyfile", str(tls.key)]
    return [*args, APP]


def _ceiling(python: str, port: int, tls: TlsFiles | None) -> List[str]:
    return [python, "-m", "bench.ceiling", "--port", str(port)]


def _gc_variant(variant: str) -> Argv:
    """ruvicorn-pico started through bench.gc_variant (the cyclic GC set up another way)."""
    def argv(python: str, port: int, tls: TlsFiles | None) -> List[str]:
        command = _ruvicorn("pico")(python, port, tls)
        return [python, "-m", "bench.gc_variant", variant, *command[3:]]
    return argv


ALL_HTTP = frozenset({HTTP1, H2, H2_TLS})
SERVERS = [
    Server("ruvicorn-pico", "ruvicorn", "ruvicorn", _ruvicorn("pico"), families=ALL_HTTP | IDLE,
           idle_args=RUVICORN_IDLE_ARGS),
    # HTTP/2 by prior knowledge never reaches the HTTP/1 parser: one ruvicorn row is enough.
    Server("ruvicorn-llhttp", "ruvicorn", "ruvicorn", _ruvicorn("llhttp")),
    # The cost of --metrics: ruvicorn-pico with every request counted (compare the two rows).
    Server("ruvicorn-metrics", "ruvicorn", "ruvicorn", _ruvicorn("pico", metrics=True),
           scenarios=frozenset({"plaintext", "pipeline", "json", "h2-plaintext"}),
           families=frozenset({HTTP1, H2}),
           notes=["ruvicorn-pico with --metrics (needs prometheus_client)"]),
    Server("uvicorn-httptools", "peer", "uvicorn", _uvicorn("httptools"),
           families=frozenset({HTTP1, IDLE_HTTP1, IDLE_WS}), idle_args=RUVICORN_IDLE_ARGS),
    Server("uvicorn-h11", "peer", "uvicorn", _uvicorn("h11")),
    Server("granian", "peer", "granian", _granian("1"),
           families=frozenset({HTTP1, IDLE_HTTP1, IDLE_WS})),
    Server("granian-h2", "peer", "granian", _granian("2"),
           families=frozenset({H2, H2_TLS, IDLE_H2})),
    Server("hypercorn", "peer", "hypercorn", _hypercorn, families=ALL_HTTP),
    Server("ceiling", "peer", "uvloop", _ceiling, CEILING_SCENARIOS,
           families=frozenset({HTTP1, IDLE_HTTP1, IDLE_WS})),
    # HTTP/3: ruvicorn with each QUIC library, and the one Python peer that serves HTTP/3.
    Server("ruvicorn-qh3", "ruvicorn", "qh3", _ruvicorn_h3("qh3"), families=frozenset({H3})),
    Server("ruvicorn-aioquic", "ruvicorn", "aioquic", _ruvicorn_h3("aioquic"),
           families=frozenset({H3})),
    Server("hypercorn-h3", "peer", "hypercorn", _hypercorn_h3, families=frozenset({H3})),
    # A/B variants of ruvicorn-pico (not run unless named): picohttpparser's portable scan; the
    # cyclic GC as shipped, without the start-up freeze, or with a larger young generation, each
    # logging its collections' count and time when it exits.
    Server("ruvicorn-pico-portable", "ruvicorn", "ruvicorn", _ruvicorn("pico"),
           families=ALL_HTTP, env={"RUVICORN_PICO_SSE42": "0"}, default=False),
    Server("ruvicorn-gc-freeze", "ruvicorn", "ruvicorn", _gc_variant("stats"),
           families=ALL_HTTP, default=False),
    Server("ruvicorn-gc-nofreeze", "ruvicorn", "ruvicorn", _gc_variant("nofreeze+stats"),
           families=ALL_HTTP, default=False),
    Server("ruvicorn-gc-10k", "ruvicorn", "ruvicorn", _gc_variant("threshold=10000+stats"),
           families=ALL_HTTP, default=False),
]
BASELINE = "uvicorn-httptools"  # the reference of the HTTP/1.1 and WebSocket rows
H2_BASELINE = "granian-h2"  # the reference of the HTTP/2 rows
H3_BASELINE = "hypercorn-h3"  # the reference of the HTTP/3 rows
CEILING = "ceiling"


def baseline(scenario: Scenario) -> str:
    if scenario.is_h3:
        return H3_BASELINE
    return H2_BASELINE if scenario.is_h2 or scenario.idle == "h2" else BASELINE
