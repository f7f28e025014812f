"""CPU accounting around one run: how much the server, the load generator and everything else on
the machine used, so a run disturbed by other work (or bound by its client) can be told apart."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

_TICK = os.sysconf("SC_CLK_TCK")


def children_seconds() -> float:
    """CPU time of this process's waited-for children (the load generators)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_seconds(pids: List[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def machine_busy_seconds() -> float:
    """CPU time since boot spent in processes (user, nice, system) or stolen by the hypervisor.
    Interrupt time is left out: loopback traffic of the run itself lands there."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system = values[0:3]
    steal = values[7] if len(values) > 7 else 0
    return (user + nice + system + steal) / _TICK


@dataclass
class Sample:
    wall: float
    machine: float
    server: float
    client: float

    @classmethod
    def take(cls, server_pids: List[int]) -> Sample:
        return cls(time.monotonic(), machine_busy_seconds(), process_seconds(server_pids),
                   children_seconds())

    def shares(self, later: Sample) -> Dict[str, float]:
        """Cores used per wall second by the server, the load generator and everything else."""
        wall = max(later.wall - self.wall, 1e-9)
        server = (later.server - self.server) / wall
        client = (later.client - self.client) / wall
        machine = (later.machine - self.machine) / wall
        return {"server_cpu": server, "other_cpu": max(0.0, machine - server - client)}
