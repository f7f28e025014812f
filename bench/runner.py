"""The measurement loop: every round starts each server in turn (A B C, A B C, ...), runs every
scenario against it and stops it, so slow drifts of a shared machine hit all servers alike.

A server runs one process per scenario family it serves (HTTP/1.1, HTTP/2 on cleartext, HTTP/2
over TLS), each fresh, so a TLS server gets its own command line and the peak memory of one
family is not inherited by the next."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from . import cpu, h2load, h3load, loadgen, sysinfo
from .process import Probe, ServerProcess, free_port, http_probe, pinned
from .scenarios import FAMILIES, H2, H2_TLS, H3, HTTP1, IDLE_H2, SCENARIOS, Scenario
from .servers import SERVERS, Server
from .tls import TlsFiles

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
    scratch: Path = Path("bench/results/scratch")  # h2load's upload body and request log
    tls: TlsFiles | None = None  # the certificate of the h2-tls family
    # --python: more interpreters for the ruvicorn rows, as (label, path): ruvicorn-pico@3.13
    pythons: List[Tuple[str, str]] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_env() -> Dict[str, str]:
    env = dict(os.environ)
    # The servers import bench.apps, so the directory holding bench/ goes first.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def probe_for(family: str) -> Probe | None:
    """How a server process of this family shows it is ready (None: HTTP/1.1 GET)."""
    if family == H3:
        return h3load.probe
    if family not in (H2, H2_TLS, IDLE_H2):
        return None
    tls = family == H2_TLS
    return lambda port, timeout: h2load.probe(port, tls, timeout)


def expand(servers: List[Server], opts: Options) -> List[Server]:
    """The selected servers, each ruvicorn one followed by its twins on the --python
    interpreters (named server@label)."""
    out = []
    for server in servers:
        if server.name not in opts.servers:
            continue
        out.append(server)
        if server.role == "ruvicorn":
            out += [dataclasses.replace(server, name=f"{server.name}@{label}", python=path)
                    for label, path in opts.pythons]
    return out


Unit = Tuple[Server, str]  # one server process per round: a server and a scenario family


class Runner:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.env = server_env()
        self.scenarios = [s for s in SCENARIOS if s.name in opts.scenarios]
        self.info: Dict[str, Dict] = {}  # per server: status, version, python, argv, notes
        self.records: List[Dict] = []

    def python_for(self, server: Server) -> str:
        if server.python:
            return server.python
        return self.opts.ruvicorn_python if server.role == "ruvicorn" else self.opts.peers_python

    def argv(self, server: Server, family: str, port: int) -> List[str]:
        tls = self.opts.tls if family in (H2_TLS, H3) else None
        return pinned(server.command(self.python_for(server), port, tls, family),
                      self.opts.server_cpu)

    def plan(self, server: Server) -> Dict[str, List[Scenario]]:
        """The selected scenarios this server serves, by family."""
        by_family: Dict[str, List[Scenario]] = {}
        for scenario in self.scenarios:
            if server.serves(scenario):
                by_family.setdefault(scenario.family, []).append(scenario)
        return {f: by_family[f] for f in FAMILIES if f in by_family}

    def discover(self) -> List[Unit]:
        """A (server, family) per process to start each round, for the selected servers whose
        module imports in their interpreter; others noted."""
        units = []
        for server in expand(SERVERS, self.opts):
            python = self.python_for(server)
            found = sysinfo.probe(python, server.module, self.env, ROOT)
            families = self.plan(server)
            self.info[server.name] = {
                "status": "ok", "module": server.module, "version": found["version"],
                "python": found["python"], "interpreter": python,
                "packages": found["packages"],
                "argv": self.argv(server, next(iter(families), HTTP1), 0),
                "argv_by_family": {f: self.argv(server, f, 0) for f in families},
                "env": server.env, "notes": list(server.notes)}
            if found["version"] is None:
                self.skip(server, f"not installed ({server.module} not importable by {python})")
            elif not families:
                self.skip(server, "serves none of the selected scenarios")
            else:
                units += [(server, family) for family in families]
        return units

    def skip(self, server: Server, why: str, status: str = "skipped") -> None:
        self.info[server.name]["status"] = status
        self.info[server.name]["notes"].append(why)
        log(f"  {server.name}: {status}: {why}")

    def run(self) -> List[Dict]:
        self.opts.log_dir.mkdir(parents=True, exist_ok=True)
        self.opts.scratch.mkdir(parents=True, exist_ok=True)
        active = self.discover()
        for round_no in range(self.opts.rounds):
            log(f"round {round_no + 1}/{self.opts.rounds}")
            for unit in list(active):
                if not self.run_server(unit, round_no):
                    active.remove(unit)  # it will not start next round either
                    if not any(other is unit[0] for other, _ in active):
                        self.info[unit[0].name]["status"] = "failed"
        return self.records

    def start(self, unit: Unit) -> ServerProcess | None:
        server, family = unit
        port = free_port()
        argv = self.argv(server, family, port)
        info = self.info[server.name]
        info["argv_by_family"][family] = argv
        info["argv"] = next(iter(info["argv_by_family"].values()))
        name = server.name if family == HTTP1 else f"{server.name}.{family}"
        log_path = self.opts.log_dir / f"{name}.log"
        proc = ServerProcess(argv, port, {**self.env, **server.env}, ROOT, log_path)
        why = proc.wait_ready(self.opts.ready_timeout, probe_for(family))
        if why is None:
            return proc
        proc.stop()
        why = f"{why} (log: {log_path})"
        self.info[server.name]["notes"].append(f"{family}: {why}")
        log(f"  {server.name}: {family} failed: {why}")
        return None

    def run_server(self, unit: Unit, round_no: int) -> bool:
        """Measure every scenario of one family on one server; False if it never became
        ready."""
        server, family = unit
        scenarios = self.plan(server)[family]
        proc = self.start(unit)
        if proc is None:
            return False
        idle = proc.rss_mib()  # after one request, before any load
        restarts = 0
        try:
            if self.opts.warmup and not scenarios[0].is_idle:
                loadgen.run(scenarios[0], proc.port, self.opts.warmup, self.opts.load_cpu, ROOT,
                            self.opts.scratch)
            for scenario in scenarios:
                if not proc.alive():
                    if restarts == MAX_RESTARTS:
                        self.record(server, scenario, round_no, {"error": "server died"}, None)
                        continue
                    restarts += 1
                    self.info[server.name]["notes"].append(
                        f"round {round_no + 1}: exited with {proc.proc.returncode} "
                        f"before {scenario.name}; restarted")
                    proc.stop()
                    proc = self.start(unit)
                    if proc is None:
                        return False
                    idle = proc.rss_mib()
                self.measure(server, proc, scenario, round_no, idle)
        finally:
            if proc is not None:
                proc.stop()
        return True

    def measure(self, server: Server, proc: ServerProcess, scenario: Scenario,
                round_no: int, idle_rss: float | None) -> None:
        if scenario.is_idle:
            self.record(server, scenario, round_no, *self.measure_idle(proc, scenario, idle_rss))
            return
        if scenario.family == HTTP1 and not scenario.is_ws and not scenario.lua:
            # One request first: the Starlette and FastAPI routes import their framework on
            # first use, which is not what a run should measure.
            http_probe(proc.port, 10.0, scenario.path)
        exact = proc.reset_peak_rss()
        pids = proc.pids()
        before = cpu.Sample.take(pids)
        result = loadgen.run(scenario, proc.port, self.opts.duration, self.opts.load_cpu, ROOT,
                             self.opts.scratch)
        result.update(before.shares(cpu.Sample.take(pids)))
        rss = proc.peak_rss_mib()
        if not exact:
            result["rss_note"] = "high-water mark not reset: peak since start"
        result["rss_idle_mib"] = idle_rss
        if rss is not None and idle_rss is not None:
            # What the run added over the process just after its first request, per
            # connection: clean for a family's first scenario; later ones also carry what
            # the earlier ones left on the heap.
            result["rss_per_conn_kib"] = (rss - idle_rss) * 1024 / scenario.connections
        self.record(server, scenario, round_no, result, rss)

    def measure_idle(self, proc: ServerProcess, scenario: Scenario,
                     before: float | None) -> Tuple[Dict, float | None]:
        """bench/idle.py opens the connections and holds them while the server's RSS is read:
        (RSS with them open - RSS after the first request) / connections open."""
        argv = pinned([sys.executable, "-m", "bench.idle", "--port", str(proc.port), "--kind",
                       scenario.idle, "--connections", str(scenario.connections), "--path",
                       scenario.path], self.opts.load_cpu)
        client = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, cwd=ROOT, env=self.env)
        try:
            line = client.stdout.readline()  # type: ignore[union-attr]
            time.sleep(0.5)  # the server's last writes and frees of the final answers
            rss = proc.rss_mib()
        finally:
            client.stdin.close()  # type: ignore[union-attr]
            try:
                client.wait(60)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait()
        return idle_result(line, before, rss, argv), rss

    def record(self, server: Server, scenario: Scenario, round_no: int, result: Dict,
               rss: float | None) -> None:
        result.update(server=server.name, scenario=scenario.name, round=round_no + 1,
                      rss_mib=rss)
        self.records.append(result)
        if "error" in result:
            log(f"  {server.name:18} {scenario.name:16} ERROR {result['error'][:120]}")
        elif scenario.is_idle:
            log(f"  {server.name:18} {scenario.name:16} {result['open']:>6} open  "
                f"{result['rss_per_conn_kib'] or 0:6.2f} KiB/conn  rss {rss or 0:6.1f} MiB"
                + (f"  failed {result['failed']}" if result["failed"] else ""))
        else:
            log(f"  {server.name:18} {scenario.name:16} {result['rate']:>10.0f}/s "
                f"p99 {result['p99_ms'] or 0:7.2f} ms  rss {rss or 0:6.1f} MiB  "
                f"cpu server {result['server_cpu']:4.0%} client {result['client_cpu']:4.0%} "
                f"other {result['other_cpu']:4.0%}"
                + (f"  errors {result['errors']}" if result["errors"] else ""))


def idle_result(line: str, before: float | None, rss: float | None, argv: List[str]) -> Dict:
    """The record of an idle-* run from bench/idle.py's JSON line and the two RSS readings."""
    try:
        found = json.loads(line)
    except ValueError:
        return {"error": f"bench.idle printed {line.strip()[-200:]!r}"}
    opened = found["open"]
    if not opened:
        return {"error": f"no connection stayed open: {found['failed']}"}
    per_conn = None
    if rss is not None and before is not None:
        per_conn = (rss - before) * 1024 / opened
    return {"rate": None, "p50_ms": None, "p99_ms": None, "open": opened,
            "failed": found["failed"], "errors": sum(found["failed"].values()),
            "seconds": found["seconds"], "rss_idle_mib": before, "rss_per_conn_kib": per_conn,
            "load_argv": argv}
