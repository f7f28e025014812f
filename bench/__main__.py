"""python -m bench: run ruvicorn and its peers on the same apps, print a Markdown table, write
JSON (raw numbers, versions, command lines) and a PNG chart."""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path
from typing import List

from . import chart, native, report, sysinfo
from .runner import Options, Runner, log
from .scenarios import SCENARIOS
from .servers import SERVERS


def _names(value: str, known: List[str]) -> List[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)}; known: {known}")
    return names


def parse_args(argv: List[str] | None) -> argparse.Namespace:
    servers = [s.name for s in SERVERS]
    scenarios = [s.name for s in SCENARIOS]
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="1 round of 1 s per scenario, no warm-up (under 2 minutes)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--duration", type=int, default=5, help="seconds per run (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds per server start")
    p.add_argument("--servers", type=lambda v: _names(v, servers), default=servers,
                   help="comma-separated subset of: " + ", ".join(servers))
    p.add_argument("--scenarios", type=lambda v: _names(v, scenarios), default=scenarios,
                   help="comma-separated subset of: " + ", ".join(scenarios))
    p.add_argument("--ruvicorn-python", default=sys.executable,
                   help="interpreter that runs ruvicorn (default: this one)")
    p.add_argument("--peers-python", default=sys.executable,
                   help="interpreter that runs the peers and the ceiling (default: this one)")
    p.add_argument("--server-cpu", default="0", help="CPU list for the server (taskset -c)")
    p.add_argument("--load-cpu", default="1", help="CPU list for wrk and the WebSocket client")
    p.add_argument("--no-pin", action="store_true", help="do not use taskset")
    p.add_argument("--ready-timeout", type=float, default=15.0,
                   help="seconds a server has to answer before it is reported as failed")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results",
                   help="output directory (default bench/results/)")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 1, 0
    return args


def main(argv: List[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        log("wrk is not installed; HTTP scenarios need it (apt-get install wrk)")
        return 2
    if any(s.is_ws for s in SCENARIOS if s.name in args.scenarios):
        try:
            native.binary("wsload")
        except native.BuildError as exc:
            log(f"the WebSocket load client cannot be built: {exc}")
            return 2
    pin = not args.no_pin and shutil.which("taskset") is not None
    args.out.mkdir(parents=True, exist_ok=True)
    opts = Options(rounds=args.rounds, duration=args.duration, warmup=args.warmup,
                   servers=args.servers, scenarios=args.scenarios,
                   server_cpu=args.server_cpu if pin else None,
                   load_cpu=args.load_cpu if pin else None,
                   ruvicorn_python=args.ruvicorn_python, peers_python=args.peers_python,
                   ready_timeout=args.ready_timeout, log_dir=args.out / "logs")
    started = datetime.datetime.now(datetime.timezone.utc)
    runner = Runner(opts)
    records = runner.run()
    meta = {**sysinfo.machine(), "started": started.isoformat(timespec="seconds"),
            "rounds": opts.rounds, "duration": opts.duration, "warmup": opts.warmup,
            "server_cpu": opts.server_cpu, "load_cpu": opts.load_cpu,
            "scenarios": {s.name: {"description": s.description, "path": s.path,
                                   "connections": s.connections, "lua": s.lua,
                                   "lua_args": list(s.lua_args), "headers": list(s.headers),
                                   "ws_size": s.ws_size, "ws_depth": s.ws_depth}
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
