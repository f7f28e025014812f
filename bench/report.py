"""Turning raw runs into medians, ratios and a Markdown report."""

from __future__ import annotations

import statistics
from typing import Dict, List

from .scenarios import SCENARIOS
from .servers import BASELINE, CEILING, SERVERS

CLIENT_BOUND = 0.9  # load generator CPU share above which a rate says more about the client
NOISY = 0.25  # CPU share used by other processes above which a rate was disturbed


def _median(values: List[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def summarize(records: List[Dict]) -> Dict[str, Dict[str, Dict]]:
    """{scenario: {server: {rate, min, max, p50_ms, p99_ms, rss_mib, errors, runs, failed,
    vs_baseline, vs_ceiling}}}, medians over rounds."""
    cells: Dict[str, Dict[str, Dict]] = {}
    for scenario in SCENARIOS:
        for server in SERVERS:
            runs = [r for r in records
                    if r["scenario"] == scenario.name and r["server"] == server.name]
            if not runs:
                continue
            ok = [r for r in runs if "error" not in r]
            rates = [r["rate"] for r in ok]
            cells.setdefault(scenario.name, {})[server.name] = {
                "rate": _median(rates),
                "min": min(rates) if rates else None,
                "max": max(rates) if rates else None,
                "p50_ms": _median([r["p50_ms"] for r in ok]),
                "p99_ms": _median([r["p99_ms"] for r in ok]),
                "rss_mib": _median([r["rss_mib"] for r in ok]),
                "client_cpu": _median([r.get("client_cpu") for r in ok]),
                "server_cpu": _median([r.get("server_cpu") for r in ok]),
                "other_cpu": _median([r.get("other_cpu") for r in ok]),
                "errors": sum(r["errors"] for r in ok),
                "runs": len(ok),
                "failed": [r["error"] for r in runs if "error" in r],
            }
    for row in cells.values():
        for cell in row.values():
            cell["vs_baseline"] = _ratio(cell, row.get(BASELINE))
            cell["vs_ceiling"] = _ratio(cell, row.get(CEILING))
    return cells


def _ratio(cell: Dict, reference: Dict | None) -> float | None:
    if reference is None or not cell["rate"] or not reference["rate"]:
        return None
    return cell["rate"] / reference["rate"]


def _num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def _cpu(cell: Dict) -> str:
    shares = (cell["server_cpu"], cell["client_cpu"], cell["other_cpu"])
    return "/".join("–" if v is None else f"{v * 100:.0f}" for v in shares)


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def overview(summary: Dict[str, Dict[str, Dict]], servers: List[str]) -> List[str]:
    """Scenarios down, servers across: median rate and its ratio to the baseline."""
    lines = ["| scenario | " + " | ".join(servers) + " |",
             "|---|" + "---:|" * len(servers)]
    for scenario in SCENARIOS:
        row = summary.get(scenario.name)
        if not row:
            continue
        cells = []
        for name in servers:
            cell = row.get(name)
            if cell is None:
                cells.append("")
            elif cell["rate"] is None:
                cells.append("failed")
            else:
                ratio = f" ({_x(cell['vs_baseline'])})" if cell["vs_baseline"] else ""
                cells.append(_num(cell["rate"]) + ratio)
        lines.append(f"| {scenario.name} | " + " | ".join(cells) + " |")
    return lines


def details(summary: Dict[str, Dict[str, Dict]]) -> List[str]:
    lines: List[str] = []
    bound = noisy = False
    for scenario in SCENARIOS:
        row = summary.get(scenario.name)
        if not row:
            continue
        unit = "msgs/s" if scenario.is_ws else "req/s"
        lines += ["", f"### {scenario.name}: {scenario.description}", "",
                  f"| server | {unit} median (min–max) | p50 ms | p99 ms | peak RSS MiB "
                  f"| vs {BASELINE} | vs {CEILING} | CPU % server/load/other | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, cell in row.items():
            if cell["rate"] is None:
                lines.append(f"| {name} | failed: {cell['failed'][0][:60]} | | | | | | | |")
                continue
            spread = f"{_num(cell['rate'])} ({_num(cell['min'])}–{_num(cell['max'])})"
            if (cell["client_cpu"] or 0) >= CLIENT_BOUND:
                spread += " †"
                bound = True
            if (cell["other_cpu"] or 0) >= NOISY:
                spread += " ‡"
                noisy = True
            lines.append(
                f"| {name} | {spread} | {_num(cell['p50_ms'], '{:.2f}')} "
                f"| {_num(cell['p99_ms'], '{:.2f}')} | {_num(cell['rss_mib'], '{:.1f}')} "
                f"| {_x(cell['vs_baseline'])} | {_x(cell['vs_ceiling'])} | {_cpu(cell)} "
                f"| {cell['errors']} |")
    if bound:
        lines += ["", f"† the load generator used at least {CLIENT_BOUND:.0%} of its core: "
                  "it, not the server, may have set the pace."]
    if noisy:
        lines += ["", f"‡ other processes used at least {NOISY:.0%} of a core during the run: "
                  "the number is disturbed."]
    return lines


def _disturbed(runs: List[Dict]) -> List[str]:
    measured = [r for r in runs if "error" not in r]
    noisy = [r for r in measured if (r.get("other_cpu") or 0) >= NOISY]
    if not noisy:
        return []
    return [f"**Warning:** other processes used at least {NOISY:.0%} of a core during "
            f"{len(noisy)} of {len(measured)} runs (marked ‡ below); compare ratios, not "
            "absolute numbers.", ""]


def markdown(result: Dict) -> str:
    meta, summary, servers = result["meta"], result["summary"], result["servers"]
    ran = [name for name, info in servers.items() if info["status"] == "ok"
           or any(name in row for row in summary.values())]
    lines = [
        f"CPU: {meta['cpu']} ({meta['cpus']} cores), Linux {meta['kernel']}, {meta['wrk']}; "
        f"{meta['rounds']} round(s) of {meta['duration']} s, server on CPU {meta['server_cpu']}, "
        f"load generator on CPU {meta['load_cpu']}.",
        "",
        *_disturbed(result["runs"]),
        f"Median rate per scenario (ratio to {BASELINE}):",
        "",
        *overview(summary, ran),
        *details(summary),
        "",
        "Servers:",
        "",
    ]
    for name, info in servers.items():
        version = info["version"] or "-"
        notes = "; ".join(info["notes"])
        lines.append(f"- {name} ({info['module']} {version}, Python {info['python']}): "
                     f"{info['status']}"
                     + (f" - {notes}" if notes else ""))
    return "\n".join(lines) + "\n"
