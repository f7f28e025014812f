"""Runs ruvicorn with the cyclic GC set up another way, for A/B runs of its GC policy
(``python -m bench --servers ruvicorn-pico,ruvicorn-gc-nofreeze,ruvicorn-gc-10k``):

    python -m bench.gc_variant nofreeze bench.apps:app --port 8000 ...
    python -m bench.gc_variant threshold=10000[,10[,10]] bench.apps:app ...

``nofreeze`` makes ruvicorn's start-up ``gc.freeze()`` do nothing (what ruvicorn did before);
``threshold=...`` sets ``gc.set_threshold`` before ruvicorn starts (on top of the freeze);
``stats`` writes, when the server exits, how many collections of each generation ran and how
long they took (to stderr: bench/results/logs/<server>.log). Parts join with ``+``."""

from __future__ import annotations

import atexit
import gc
import sys
import time
from typing import Dict, List


class Stats:
    """Collections and their time per generation, from gc.callbacks."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._start = 0.0

    def __call__(self, phase: str, info: Dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            generation = info["generation"]
            self.count[generation] += 1
            self.seconds[generation] += time.perf_counter() - self._start

    def report(self) -> None:
        parts = ", ".join(f"gen{g}: {self.count[g]} in {self.seconds[g] * 1000:.0f} ms"
                          for g in range(3))
        print(f"bench.gc_variant: {time.monotonic() - self.started:.1f} s up; {parts}",
              file=sys.stderr, flush=True)


def apply(variant: str) -> None:
    for part in variant.split("+"):
        if part == "nofreeze":
            gc.freeze = lambda: None  # type: ignore[assignment]
        elif part == "stats":
            stats = Stats()
            gc.callbacks.append(stats)
            atexit.register(stats.report)
        elif part.startswith("threshold="):
            gc.set_threshold(*(int(v) for v in part.split("=", 1)[1].split(",")))
        else:
            raise SystemExit(f"bench.gc_variant: unknown variant part {part!r}")


def main(argv: List[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    apply(argv[0])
    from ruvicorn.__main__ import main as ruvicorn_main

    sys.argv = ["ruvicorn", *argv[1:]]
    ruvicorn_main()


if __name__ == "__main__":
    main(sys.argv[1:])
