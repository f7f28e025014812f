"""Running the load generators (wrk for HTTP/1.1, h2load for HTTP/2, bench/h3load.py for HTTP/3,
bench/native/wsload.c for WebSocket), reading their output."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Dict, List

from . import h2load, h3load, native
from .cpu import children_seconds
from .process import pinned
from .scenarios import Scenario

LUA_DIR = Path(__file__).parent / "lua"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk_argv(scenario: Scenario, port: int, duration: int, cpu: str | None) -> List[str]:
    argv = ["wrk", "-t1", f"-c{scenario.connections}", f"-d{duration}s", "--latency",
            "--timeout", "5s"]
    for header in scenario.headers:
        argv += ["-H", header]
    if scenario.lua:
        argv += ["-s", str(LUA_DIR / scenario.lua)]
    argv.append(f"http://127.0.0.1:{port}{scenario.path}")
    if scenario.lua_args:
        argv += ["--", *scenario.lua_args]
    return pinned(argv, cpu)


def wsload_argv(scenario: Scenario, port: int, duration: int, cpu: str | None) -> List[str]:
    argv = [str(native.binary("wsload")), "--port", str(port), "--path", scenario.path,
            "--connections", str(scenario.connections), "--size", str(scenario.ws_size),
            "--depth", str(scenario.ws_depth), "--duration", str(duration)]
    return pinned(argv, cpu)


def run(scenario: Scenario, port: int, duration: int, cpu: str | None, cwd: Path,
        scratch: Path) -> Dict:
    """One measurement: rate (req/s or msgs/s), p50/p99 in ms, errors; or an "error" key.
    scratch holds the files a load generator needs (h2load's upload body and request log)."""
    log_file = scratch / "h2load.log"
    if scenario.is_ws:
        argv = wsload_argv(scenario, port, duration, cpu)
    elif scenario.is_h3:
        upload = h2load.upload_file(scratch, scenario.upload) if scenario.upload else None
        argv = h3load.argv(port, scenario.path, scenario.connections, duration, upload, cpu)
    elif scenario.is_h2:
        argv = h2load.argv(scenario, port, duration, cpu, log_file, scratch)
        log_file.unlink(missing_ok=True)  # not a previous run's rows
    else:
        argv = wrk_argv(scenario, port, duration, cpu)
    cpu_before = children_seconds()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd,
                              timeout=duration + 30)
    except subprocess.TimeoutExpired:
        return {"error": "load generator timed out"}
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[-300:] or f"exit {done.returncode}"}
    if scenario.is_ws:
        result = parse_wsload(done.stdout)
    elif scenario.is_h3:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    elif scenario.is_h2:
        result = h2load.parse(done.stdout)
        latency = h2load.read_latency(log_file)
        if "error" not in result:
            result["p50_ms"], result["p99_ms"] = latency
    else:
        result = parse_wrk(done.stdout)
    if "error" not in result and result.get("client_cpu") is None:
        result["client_cpu"] = (children_seconds() - cpu_before) / duration
    result["load_argv"] = argv
    if not scenario.latency:
        result["p50_ms"] = result["p99_ms"] = None
    return result


def parse_wsload(out: str) -> Dict:
    result = json.loads(out.strip().splitlines()[-1])
    if "error" in result:
        return {"error": result["error"]}
    return {"rate": result["msgs_per_s"], "p50_ms": result["p50_ms"],
            "p99_ms": result["p99_ms"], "errors": result["errors"],
            "client_cpu": result["client_cpu"]}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> Dict:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        return {"error": "no Requests/sec in wrk output: " + out.strip()[-200:]}
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        connect, read, write, timeout = map(int, socket_errors.groups())
        # A server that closes after each response shows up as read errors under
        # Connection: close; only connect/write/timeout are real failures.
        errors += connect + write + timeout
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return {"rate": float(rate.group(1)),
            "p50_ms": _ms(p50.group(1)) if p50 else None,
            "p99_ms": _ms(p99.group(1)) if p99 else None,
            "errors": errors}
