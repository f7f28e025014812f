"""Turning raw runs into medians, ratios and a Markdown report.

HTTP/1.1 and WebSocket rows are compared with uvicorn-httptools (and the ceiling); HTTP/2 rows
with granian-h2 and with the same server's HTTP/1.1 twin scenario (h2-plaintext with plaintext),
in rate and in memory per connection."""

from __future__ import annotations

import statistics
from typing import Dict, List

from .scenarios import SCENARIOS, Scenario
from .servers import BASELINE, CEILING, H2_BASELINE, H3_BASELINE, baseline

CLIENT_BOUND = 0.9  # load generator CPU share above which a rate says more about the client
NOISY = 0.25  # CPU share used by other processes above which a rate was disturbed


def _median(values: List[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def summarize(records: List[Dict]) -> Dict[str, Dict[str, Dict]]:
    """{scenario: {server: {rate, min, max, p50_ms, p99_ms, rss_mib, rss_idle_mib,
    rss_per_conn_kib, rate_per_server_cpu, errors, runs, failed, baseline, vs_baseline,
    vs_ceiling}}}, medians over rounds; HTTP/2 cells add protocol, tls, rss_per_stream_kib
    (per request in flight) and, against the HTTP/1.1 twin, vs_http1, rss_per_conn_vs_http1,
    rss_per_stream_vs_http1."""
    cells: Dict[str, Dict[str, Dict]] = {}
    # Servers in the order they ran (the --python twins of a ruvicorn row follow it).
    servers = list(dict.fromkeys(r["server"] for r in records))
    for scenario in SCENARIOS:
        for server in servers:
            runs = [r for r in records
                    if r["scenario"] == scenario.name and r["server"] == server]
            if not runs:
                continue
            ok = [r for r in runs if "error" not in r]
            rates = [r["rate"] for r in ok if r["rate"] is not None]
            cell = {
                "rate": _median(rates),
                "min": min(rates) if rates else None,
                "max": max(rates) if rates else None,
                "p50_ms": _median([r["p50_ms"] for r in ok]),
                "p99_ms": _median([r["p99_ms"] for r in ok]),
                "rss_mib": _median([r["rss_mib"] for r in ok]),
                "rss_idle_mib": _median([r.get("rss_idle_mib") for r in ok]),
                "rss_per_conn_kib": _median([r.get("rss_per_conn_kib") for r in ok]),
                "client_cpu": _median([r.get("client_cpu") for r in ok]),
                "server_cpu": _median([r.get("server_cpu") for r in ok]),
                "other_cpu": _median([r.get("other_cpu") for r in ok]),
                # Robust to a shared server core, as long as the server set the pace.
                "rate_per_server_cpu": _median([r["rate"] / r["server_cpu"] for r in ok
                                                if r.get("server_cpu") and r["rate"]]),
                "errors": sum(r["errors"] for r in ok),
                "runs": len(ok),
                "failed": [r["error"] for r in runs if "error" in r],
            }
            if scenario.is_h2:
                cell["protocol"] = next((r["protocol"] for r in ok if "protocol" in r), None)
                cell["tls"] = next((r["tls"] for r in ok if "tls" in r), None)
            if scenario.is_idle:
                cell["open"] = _median([r["open"] for r in ok])
            cells.setdefault(scenario.name, {})[server] = cell
    for scenario in SCENARIOS:
        row = cells.get(scenario.name, {})
        twins = cells.get(scenario.http1_twin, {})
        for name, cell in row.items():
            cell["baseline"] = baseline(scenario)
            key = "rss_per_conn_kib" if scenario.is_idle else "rate"
            cell["vs_baseline"] = _ratio(cell, row.get(cell["baseline"]), key)
            cell["vs_ceiling"] = None if scenario.is_h2 else _ratio(cell, row.get(CEILING), key)
            if scenario.is_h2:
                per_conn = cell["rss_per_conn_kib"]
                cell["rss_per_stream_kib"] = None if per_conn is None \
                    else per_conn / scenario.streams
            if scenario.http1_twin:
                # The twin keeps one request in flight per connection, h2load `streams`.
                twin = twins.get(name)
                cell["vs_http1"] = _ratio(cell, twin)
                cell["rss_per_conn_vs_http1"] = _ratio(cell, twin, "rss_per_conn_kib")
                cell["rss_per_stream_vs_http1"] = _ratio(
                    {"rate": cell["rss_per_stream_kib"]},
                    twin and {"rate": twin["rss_per_conn_kib"]})
    return cells


def _ratio(cell: Dict, reference: Dict | None, key: str = "rate") -> float | None:
    if reference is None or not cell[key] or not reference[key]:
        return None
    return cell[key] / reference[key]


def _num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def _cpu(cell: Dict) -> str:
    shares = (cell["server_cpu"], cell["client_cpu"], cell["other_cpu"])
    return "/".join("–" if v is None else f"{v * 100:.0f}" for v in shares)


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def _shown(summary: Dict[str, Dict[str, Dict]], http2: bool,
           http3: bool = False) -> List[Scenario]:
    return [s for s in SCENARIOS if s.is_h2 == http2 and s.is_h3 == http3 and not s.is_idle
            and summary.get(s.name)]


def idle(summary: Dict[str, Dict[str, Dict]], servers: List[str]) -> List[str]:
    """Memory per idle connection (KiB, median over rounds) and the ratio to the baseline."""
    scenarios = [s for s in SCENARIOS if s.is_idle and summary.get(s.name)]
    if not scenarios:
        return []
    return overview(summary, servers, scenarios, key="rss_per_conn_kib", fmt="{:.2f}",
                    connections=True)


def overview(summary: Dict[str, Dict[str, Dict]], servers: List[str],
             scenarios: List[Scenario] | None = None, key: str = "rate",
             fmt: str = "{:,.0f}", connections: bool = False) -> List[str]:
    """Scenarios down, servers across: the median of `key` (the rate) and its ratio to the
    row's baseline; with `connections`, a column of the connections asked for, and the count a
    server held when it held fewer. Only the servers with a cell in these rows get a column."""
    scenarios = scenarios if scenarios is not None else _shown(summary, http2=False)
    servers = [n for n in servers if any(n in summary[s.name] for s in scenarios)]
    extra = "connections | " if connections else ""
    lines = [f"| scenario | {extra}" + " | ".join(servers) + " |",
             "|---|" + "---:|" * (len(servers) + connections)]
    for scenario in scenarios:
        row = summary[scenario.name]
        cells = [_num(scenario.connections)] if connections else []
        for name in servers:
            cell = row.get(name)
            if cell is None:
                cells.append("")
            elif cell[key] is None:
                cells.append("failed")
            else:
                ratio = f" ({_x(cell['vs_baseline'])})" if cell["vs_baseline"] else ""
                short = connections and (cell.get("open") or 0) < scenario.connections
                cells.append(_num(cell[key], fmt) + ratio
                             + (f" [{_num(cell['open'])} open]" if short else ""))
        lines.append(f"| {scenario.name} | " + " | ".join(cells) + " |")
    return lines


def http2_vs_http1(summary: Dict[str, Dict[str, Dict]]) -> List[str]:
    """Each server's HTTP/2 scenarios against its own HTTP/1.1 twins: rate, and memory per
    connection and per request in flight (HTTP/1.1: one per connection; HTTP/2: streams)."""
    lines = ["| server | HTTP/2 vs HTTP/1.1 | HTTP/1.1 req/s | HTTP/2 req/s | ratio "
             "| HTTP/1.1 KiB/conn | HTTP/2 KiB/conn | ratio | HTTP/2 KiB/stream | ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario in _shown(summary, http2=True):
        twins = summary.get(scenario.http1_twin)
        if not twins:
            continue
        for name, cell in summary[scenario.name].items():
            twin = twins.get(name)
            if twin is None:
                continue
            lines.append(
                f"| {name} | {scenario.name} vs {scenario.http1_twin} | {_num(twin['rate'])} "
                f"| {_num(cell['rate'])} | {_x(cell['vs_http1'])} "
                f"| {_num(twin['rss_per_conn_kib'], '{:.1f}')} "
                f"| {_num(cell['rss_per_conn_kib'], '{:.1f}')} "
                f"| {_x(cell['rss_per_conn_vs_http1'])} "
                f"| {_num(cell['rss_per_stream_kib'], '{:.1f}')} "
                f"| {_x(cell['rss_per_stream_vs_http1'])} |")
    return lines if len(lines) > 2 else []


def details(summary: Dict[str, Dict[str, Dict]]) -> List[str]:
    lines: List[str] = []
    bound = noisy = False
    for scenario in SCENARIOS:
        row = summary.get(scenario.name)
        if not row or scenario.is_idle:
            continue
        unit = "msgs/s" if scenario.is_ws else "req/s"
        if scenario.is_h2:
            other = f"vs own {scenario.http1_twin or 'HTTP/1.1 (no twin)'}"
        else:
            other = f"vs {CEILING}"
        lines += ["", f"### {scenario.name}: {scenario.description}", "",
                  f"| server | {unit} median (min–max) | p50 ms | p99 ms | peak RSS MiB "
                  f"| Δ RSS KiB/conn | vs {baseline(scenario)} | {other} "
                  f"| CPU % server/load/other | {unit.split('/')[0]} per server CPU-s | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, cell in row.items():
            if cell["rate"] is None:
                lines.append(f"| {name} | failed: {cell['failed'][0][:60]} | | | | | | | | | |")
                continue
            spread = f"{_num(cell['rate'])} ({_num(cell['min'])}–{_num(cell['max'])})"
            if (cell["client_cpu"] or 0) >= CLIENT_BOUND:
                spread += " †"
                bound = True
            if (cell["other_cpu"] or 0) >= NOISY:
                spread += " ‡"
                noisy = True
            versus = cell.get("vs_http1") if scenario.is_h2 else cell["vs_ceiling"]
            lines.append(
                f"| {name} | {spread} | {_num(cell['p50_ms'], '{:.2f}')} "
                f"| {_num(cell['p99_ms'], '{:.2f}')} | {_num(cell['rss_mib'], '{:.1f}')} "
                f"| {_num(cell['rss_per_conn_kib'], '{:.1f}')} "
                f"| {_x(cell['vs_baseline'])} | {_x(versus)} | {_cpu(cell)} "
                f"| {_num(cell['rate_per_server_cpu'])} | {cell['errors']} |")
    if lines:
        lines += ["", "Δ RSS KiB/conn: (peak RSS during the run − RSS after the server's first "
                  "request) / connections. Each scenario family (HTTP/1.1, HTTP/2, HTTP/2 over "
                  "TLS) runs in a fresh process, so the figure is clean for the first scenario "
                  "of a family; later ones also carry what earlier ones left on the heap."]
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
    http1, http2 = _shown(summary, http2=False), _shown(summary, http2=True)
    http3 = _shown(summary, http2=False, http3=True)
    tools = ", ".join(t for t in (meta.get("wrk") if http1 else None,
                                  meta.get("h2load") if http2 else None,
                                  meta.get("h3load") if http3 else None) if t)
    lines = [
        f"CPU: {meta['cpu']} ({meta['cpus']} cores), Linux {meta['kernel']}, {tools}; "
        f"{meta['rounds']} round(s) of {meta['duration']} s, server on CPU {meta['server_cpu']}, "
        f"load generator on CPU {meta['load_cpu']}.",
        "",
        *_disturbed(result["runs"]),
    ]
    if http1:
        lines += [f"Median rate per scenario (ratio to {BASELINE}):", "",
                  *overview(summary, ran, http1), ""]
    if http2:
        lines += [f"HTTP/2 (h2load, 64 connections x 10 streams; TLS 1.3 "
                  f"{meta.get('h2load_tls13_cipher', '')} for *-tls): median rate per scenario "
                  f"(ratio to {H2_BASELINE}):", "", *overview(summary, ran, http2), ""]
    if http3:
        lines += [f"HTTP/3 (bench/h3load.py: gtlsclient, 4 QUIC connections x 100 streams; "
                  f"TLS 1.3): median rate per scenario (ratio to {H3_BASELINE}):", "",
                  *overview(summary, ran, http3), ""]
    if http2:
        versus = http2_vs_http1(summary)
        if versus:
            lines += ["HTTP/2 against the same server's HTTP/1.1: rate, and Δ RSS per "
                      "connection and per request in flight (HTTP/2: 10 per connection, "
                      "HTTP/1.1: one):", "", *versus, ""]
    memory = idle(summary, ran)
    if memory:
        lines += ["Memory per idle connection, KiB (RSS with the connections open minus RSS "
                  "after the first request, over the connections; each made one request, a "
                  f"WebSocket handshake or an HTTP/2 GET; ratio to {BASELINE}, HTTP/2 to "
                  f"{H2_BASELINE}):", "", *memory, ""]
    lines += [*details(summary)[1:], "", "Servers:", ""]
    for name, info in servers.items():
        version = info["version"] or "-"
        notes = "; ".join(info["notes"])
        env = " ".join(f"{k}={v}" for k, v in info.get("env", {}).items())
        lines.append(f"- {name} ({info['module']} {version}, Python {info['python']}"
                     + (f", {env}" if env else "") + f"): {info['status']}"
                     + (f" - {notes}" if notes else ""))
    return "\n".join(lines) + "\n"
