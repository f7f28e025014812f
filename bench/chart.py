"""A PNG with one bar chart per scenario (each has its own scale): median rate per server,
with the min-max range as an error bar."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict

from .scenarios import SCENARIOS
from .servers import BASELINE, CEILING, H2_BASELINE


def _colour(name: str) -> str:
    if name.startswith("ruvicorn"):
        return "#d9480f"
    return {BASELINE: "#1c7ed6", H2_BASELINE: "#1c7ed6", CEILING: "#868e96"}.get(name, "#74c0fc")


def draw(summary: Dict[str, Dict[str, Dict]], path: Path, title: str) -> str | None:
    """Write the chart; returns why not when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no chart"
    shown = [s for s in SCENARIOS if s.name in summary and not s.is_idle]
    if not shown:
        return "no results: no chart"
    cols = 3
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.2 * rows), squeeze=False)
    for ax, scenario in zip(axes.flat, shown):
        cells = [(n, c) for n, c in summary[scenario.name].items() if c["rate"]]
        names = [n for n, _ in cells]
        rates = [c["rate"] for _, c in cells]
        below = [c["rate"] - c["min"] for _, c in cells]
        above = [c["max"] - c["rate"] for _, c in cells]
        ax.barh(names, rates, xerr=[below, above], color=[_colour(n) for n in names],
                error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.invert_yaxis()
        ax.set_title(f"{scenario.name}: {scenario.description}", fontsize=8)
        ax.set_xlabel("messages/s" if scenario.is_ws else "requests/s", fontsize=8)
        ax.tick_params(labelsize=7)
        for y, rate in enumerate(rates):
            ax.text(rate, y, f" {rate:,.0f}", va="center", fontsize=6)
        ax.margins(x=0.25)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
