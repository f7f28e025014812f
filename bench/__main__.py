"""python -m bench: run ruvicorn and its peers on the same apps, print a Markdown table, write
JSON (raw numbers, versions, command lines) and a PNG chart.

HTTP/1.1 scenarios use wrk, WebSocket ones a C client built on first use, HTTP/2 ones (h2-*)
h2load from nghttp2 (apt-get install nghttp2-client): 64 connections of 10 streams, on cleartext
by prior knowledge, or over TLS with ALPN h2 (*-tls, with a throw-away certificate made by
openssl in the output directory). HTTP/3 ones (h3-*) use bench/h3load.py, several ngtcp2
gtlsclient connections (apt-get install ngtcp2-client). HTTP/1.1 rows are compared with
uvicorn-httptools, HTTP/2 rows with granian-h2 and with the same server's HTTP/1.1 twin scenario,
HTTP/3 rows with hypercorn-h3. The idle-* scenarios (bench/idle.py) open --idle-connections
connections that each make one request and stay open, and report the server's memory per
connection. A scenario whose tool is missing is skipped with one line.

--python runs every selected ruvicorn server again on each interpreter given (a path, or X.Y
found with pyenv or as pythonX.Y on PATH), as ruvicorn-pico@X.Y...; that interpreter must import
ruvicorn and uvloop (a virtualenv with ruvicorn installed, or PYTHONPATH=src with the extension
built for it). Variants for A/B runs are named only: ruvicorn-pico-portable (picohttpparser
without SSE4.2), ruvicorn-gc-nofreeze and ruvicorn-gc-10k (bench/gc_variant.py)."""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from . import chart, h2load, h3load, native, report, scenarios, sysinfo, tls
from .runner import Options, Runner, log
from .scenarios import SCENARIOS, Scenario
from .servers import SERVERS


def _names(value: str, known: List[str]) -> List[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)}; known: {known}")
    return names


def parse_args(argv: List[str] | None) -> argparse.Namespace:
    servers = [s.name for s in SERVERS]
    defaults = [s.name for s in SERVERS if s.default]
    names = [s.name for s in SCENARIOS]
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="1 round of 1 s per scenario, no warm-up (about 3 minutes for everything)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--duration", type=int, default=5, help="seconds per run (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds per server start")
    p.add_argument("--servers", type=lambda v: _names(v, servers), default=defaults,
                   help="comma-separated subset of: " + ", ".join(servers)
                   + " (default: all but the A/B variants)")
    p.add_argument("--scenarios", type=lambda v: _names(v, names), default=names,
                   help="comma-separated subset of: " + ", ".join(names))
    p.add_argument("--ruvicorn-python", default=sys.executable,
                   help="interpreter that runs ruvicorn (default: this one)")
    p.add_argument("--peers-python", default=sys.executable,
                   help="interpreter that runs the peers and the ceiling (default: this one)")
    p.add_argument("--python", type=_pythons, default=[], metavar="PY[,PY...]",
                   help="also run the ruvicorn servers on these interpreters (paths or X.Y)")
    p.add_argument("--idle-connections", type=int, default=None,
                   help="connections of the idle-* scenarios (default "
                        f"{scenarios.IDLE_CONNECTIONS})")
    p.add_argument("--server-cpu", default="0", help="CPU list for the server (taskset -c)")
    p.add_argument("--load-cpu", default="1",
                   help="CPU list for the load generators (wrk, h2load, the WebSocket client)")
    p.add_argument("--no-pin", action="store_true", help="do not use taskset")
    p.add_argument("--ready-timeout", type=float, default=15.0,
                   help="seconds a server has to answer before it is reported as failed")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results",
                   help="output directory (default bench/results/)")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 1, 0
    return args


def _pythons(value: str) -> List[Tuple[str, str]]:
    found = []
    for spec in (v.strip() for v in value.split(",") if v.strip()):
        resolved = sysinfo.interpreter(spec)
        if resolved is None:
            raise argparse.ArgumentTypeError(f"no Python {spec} found (a path, or X.Y)")
        found.append(resolved)
    return found


def _missing_tool(scenario: Scenario) -> str | None:
    """Why this scenario cannot run on this machine, or None."""
    if scenario.is_idle:
        return None
    if scenario.is_h3:
        if not h3load.available():
            return "gtlsclient is not installed (apt-get install ngtcp2-client)"
        if tls.openssl() is None:
            return "openssl is not installed: no certificate (apt-get install openssl)"
        return None
    if scenario.is_h2:
        if not h2load.available():
            return "h2load is not installed (apt-get install nghttp2-client)"
        if scenario.tls and tls.openssl() is None:
            return "openssl is not installed: no certificate (apt-get install openssl)"
        return None
    if scenario.is_ws:
        try:
            native.binary("wsload")
        except native.BuildError as exc:
            return f"the WebSocket load client cannot be built: {exc}"
        return None
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install wrk)"
    return None


def runnable(names: List[str]) -> List[str]:
    """The selected scenarios whose tools are here; one line per reason for the others."""
    keep: List[str] = []
    skipped: Dict[str, List[str]] = {}
    for scenario in SCENARIOS:
        if scenario.name not in names:
            continue
        why = _missing_tool(scenario)
        if why is None:
            keep.append(scenario.name)
        else:
            skipped.setdefault(why, []).append(scenario.name)
    for why, which in skipped.items():
        log(f"skipping {', '.join(which)}: {why}")
    return keep


def main(argv: List[str] | None = None) -> int:
    args = parse_args(argv)
    if args.idle_connections:
        scenarios.set_idle_connections(args.idle_connections)
    args.scenarios = runnable(args.scenarios)
    args.out.mkdir(parents=True, exist_ok=True)
    certificate = None
    with_tls = [s.name for s in SCENARIOS if s.tls and s.name in args.scenarios]
    if with_tls:
        try:
            certificate = tls.make_cert(args.out / "tls")
        except tls.TlsError as exc:
            log(f"skipping {', '.join(with_tls)}: {exc}")
            args.scenarios = [n for n in args.scenarios if n not in with_tls]
    if not args.scenarios:
        log("nothing to run")
        return 2
    pin = not args.no_pin and shutil.which("taskset") is not None
    opts = Options(rounds=args.rounds, duration=args.duration, warmup=args.warmup,
                   servers=args.servers, scenarios=args.scenarios,
                   server_cpu=args.server_cpu if pin else None,
                   load_cpu=args.load_cpu if pin else None,
                   ruvicorn_python=args.ruvicorn_python, peers_python=args.peers_python,
                   ready_timeout=args.ready_timeout, log_dir=args.out / "logs",
                   scratch=args.out / "scratch", tls=certificate, pythons=args.python)
    started = datetime.datetime.now(datetime.timezone.utc)
    runner = Runner(opts)
    records = runner.run()
    meta = {**sysinfo.machine(), "started": started.isoformat(timespec="seconds"),
            "rounds": opts.rounds, "duration": opts.duration, "warmup": opts.warmup,
            "server_cpu": opts.server_cpu, "load_cpu": opts.load_cpu,
            "h2load_tls13_cipher": h2load.TLS13_CIPHER,
            "scenarios": {s.name: {"description": s.description, "path": s.path,
                                   "family": s.family, "connections": s.connections,
                                   "lua": s.lua, "lua_args": list(s.lua_args),
                                   "headers": list(s.headers), "ws_size": s.ws_size,
                                   "ws_depth": s.ws_depth, "streams": s.streams, "tls": s.tls,
                                   "upload": s.upload, "http1_twin": s.http1_twin,
                                   "idle": s.idle}
                          for s in SCENARIOS if s.name in opts.scenarios}}
    result = {"meta": meta, "servers": runner.info, "summary": report.summarize(records),
              "runs": records}
    table = report.markdown(result)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    json_path = args.out / f"bench-{stamp}.json"
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    (args.out / f"bench-{stamp}.md").write_text(table)
    png_path = args.out / f"bench-{stamp}.png"
    why = chart.draw(result["summary"], png_path,
                     f"{meta['cpu']}, one core per side, {opts.rounds} x {opts.duration} s")
    print(table)
    log(f"wrote {json_path}" + (f" and {png_path}" if why is None else f" ({why})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
