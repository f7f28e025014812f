"""The measurement loop: every round starts each server in turn (A B C, A B C, ...), runs every
scenario against it and stops it, so slow drifts of a shared machine hit all servers alike."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from . import cpu, loadgen, sysinfo
from .process import ServerProcess, free_port, pinned
from .scenarios import SCENARIOS, Scenario
from .servers import SERVERS, Server

ROOT = Path(__file__).resolve().parent.parent
MAX_RESTARTS = 2


@dataclass
class Options:
    rounds: int = 3
    duration: int = 5
    warmup: int = 1
    servers: List[str] = field(default_factory=lambda: [s.name for s in SERVERS])
    scenarios: List[str] = field(default_factory=lambda: [s.name for s in SCENARIOS])
    server_cpu: str | None = "0"
    load_cpu: str | None = "1"
    ruvicorn_python: str = sys.executable
    peers_python: str = sys.executable
    ready_timeout: float = 15.0
    log_dir: Path = Path("bench/results/logs")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_env() -> Dict[str, str]:
    env = dict(os.environ)
    # The servers import bench.apps, so the directory holding bench/ goes first.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


class Runner:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.env = server_env()
        self.scenarios = [s for s in SCENARIOS if s.name in opts.scenarios]
        self.info: Dict[str, Dict] = {}  # per server: status, version, python, argv, notes
        self.records: List[Dict] = []

    def python_for(self, server: Server) -> str:
        return self.opts.ruvicorn_python if server.role == "ruvicorn" else self.opts.peers_python

    def discover(self) -> List[Server]:
        """The selected servers whose module imports in their interpreter; others noted."""
        active = []
        for server in SERVERS:
            if server.name not in self.opts.servers:
                continue
            python = self.python_for(server)
            found = sysinfo.probe(python, server.module, self.env, ROOT)
            argv = pinned(server.argv(python, 0), self.opts.server_cpu)
            self.info[server.name] = {"status": "ok", "module": server.module,
                                      "version": found["version"],
                                      "python": found["python"], "interpreter": python,
                                      "packages": found["packages"],
                                      "argv": argv, "notes": []}
            if found["version"] is None:
                self.skip(server, f"not installed ({server.module} not importable by {python})")
            else:
                active.append(server)
        return active

    def skip(self, server: Server, why: str, status: str = "skipped") -> None:
        self.info[server.name]["status"] = status
        self.info[server.name]["notes"].append(why)
        log(f"  {server.name}: {status}: {why}")

    def run(self) -> List[Dict]:
        self.opts.log_dir.mkdir(parents=True, exist_ok=True)
        active = self.discover()
        for round_no in range(self.opts.rounds):
            log(f"round {round_no + 1}/{self.opts.rounds}")
            for server in list(active):
                if not self.run_server(server, round_no):
                    active.remove(server)  # it will not start next round either
        return self.records

    def start(self, server: Server) -> ServerProcess | None:
        port = free_port()
        argv = pinned(server.argv(self.python_for(server), port), self.opts.server_cpu)
        self.info[server.name]["argv"] = argv
        proc = ServerProcess(argv, port, self.env, ROOT, self.opts.log_dir / f"{server.name}.log")
        why = proc.wait_ready(self.opts.ready_timeout)
        if why is None:
            return proc
        proc.stop()
        self.skip(server, f"{why} (log: {self.opts.log_dir / server.name}.log)", "failed")
        return None

    def run_server(self, server: Server, round_no: int) -> bool:
        """Measure every scenario on one server; False if it never became ready."""
        proc = self.start(server)
        if proc is None:
            return False
        restarts = 0
        try:
            if self.opts.warmup:
                loadgen.run(SCENARIOS[0], proc.port, self.opts.warmup, self.opts.load_cpu, ROOT)
            for scenario in self.scenarios:
                if not server.serves(scenario.name):
                    continue
                if not proc.alive():
                    if restarts == MAX_RESTARTS:
                        self.record(server, scenario, round_no, {"error": "server died"}, None)
                        continue
                    restarts += 1
                    self.info[server.name]["notes"].append(
                        f"round {round_no + 1}: exited with {proc.proc.returncode} "
                        f"before {scenario.name}; restarted")
                    proc.stop()
                    proc = self.start(server)
                    if proc is None:
                        return False
                self.measure(server, proc, scenario, round_no)
        finally:
            if proc is not None:
                proc.stop()
        return True

    def measure(self, server: Server, proc: ServerProcess, scenario: Scenario,
                round_no: int) -> None:
        exact = proc.reset_peak_rss()
        pids = proc.pids()
        before = cpu.Sample.take(pids)
        result = loadgen.run(scenario, proc.port, self.opts.duration, self.opts.load_cpu, ROOT)
        result.update(before.shares(cpu.Sample.take(pids)))
        rss = proc.peak_rss_mib()
        if not exact:
            result["rss_note"] = "high-water mark not reset: peak since start"
        self.record(server, scenario, round_no, result, rss)

    def record(self, server: Server, scenario: Scenario, round_no: int, result: Dict,
               rss: float | None) -> None:
        result.update(server=server.name, scenario=scenario.name, round=round_no + 1,
                      rss_mib=rss)
        self.records.append(result)
        if "error" in result:
            log(f"  {server.name:18} {scenario.name:10} ERROR {result['error'][:120]}")
        else:
            log(f"  {server.name:18} {scenario.name:10} {result['rate']:>10.0f}/s "
                f"p99 {result['p99_ms'] or 0:7.2f} ms  rss {rss or 0:6.1f} MiB  "
                f"cpu server {result['server_cpu']:4.0%} client {result['client_cpu']:4.0%} "
                f"other {result['other_cpu']:4.0%}"
                + (f"  errors {result['errors']}" if result["errors"] else ""))
