"""The servers under test: how each is started and which interpreter runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, FrozenSet, List

APP = "bench.apps:app"
CEILING_SCENARIOS = frozenset(
    {"plaintext", "pipeline", "close", "ws-32", "ws-16k", "ws-32-x16"})


@dataclass(frozen=True)
class Server:
    name: str
    role: str  # "ruvicorn" or "peer": selects the interpreter
    module: str  # the distribution whose version is reported, and that must be importable
    argv: Callable[[str, int], List[str]]  # (python, port) -> command line
    scenarios: FrozenSet[str] | None = None  # None: every scenario
    notes: List[str] = field(default_factory=list)

    def serves(self, scenario: str) -> bool:
        return self.scenarios is None or scenario in self.scenarios


def _ruvicorn(http: str) -> Callable[[str, int], List[str]]:
    def argv(python: str, port: int) -> List[str]:
        return [python, "-m", "ruvicorn", APP, "--port", str(port), "--http", http,
                "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    return argv


def _uvicorn(http: str) -> Callable[[str, int], List[str]]:
    def argv(python: str, port: int) -> List[str]:
        return [python, "-m", "uvicorn", APP, "--port", str(port), "--http", http,
                "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    return argv


def _granian(python: str, port: int) -> List[str]:
    return [python, "-m", "granian", "--interface", "asgi", "--http", "1", "--loop", "uvloop",
            "--workers", "1", "--runtime-threads", "1", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--log-level", "warning", APP]


def _hypercorn(python: str, port: int) -> List[str]:
    return [python, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "uvloop", "--log-level", "warning", APP]


def _ceiling(python: str, port: int) -> List[str]:
    return [python, "-m", "bench.ceiling", "--port", str(port)]


SERVERS = [
    Server("ruvicorn-pico", "ruvicorn", "ruvicorn", _ruvicorn("pico")),
    Server("ruvicorn-llhttp", "ruvicorn", "ruvicorn", _ruvicorn("llhttp")),
    Server("uvicorn-httptools", "peer", "uvicorn", _uvicorn("httptools")),
    Server("uvicorn-h11", "peer", "uvicorn", _uvicorn("h11")),
    Server("granian", "peer", "granian", _granian),
    Server("hypercorn", "peer", "hypercorn", _hypercorn),
    Server("ceiling", "peer", "uvloop", _ceiling, CEILING_SCENARIOS),
]
BASELINE = "uvicorn-httptools"
CEILING = "ceiling"
