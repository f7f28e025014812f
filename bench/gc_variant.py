"""Runs ruvicorn with the cyclic GC set up another way, for A/B runs of its GC policy
(``python -m bench --servers ruvicorn-pico,ruvicorn-gc-nofreeze,ruvicorn-gc-10k``):

    python -m bench.gc_variant nofreeze bench.apps:app --port 8000 ...
    python -m bench.gc_variant threshold=10000[,10[,10]] bench.apps:app ...

``nofreeze`` makes ruvicorn's start-up ``gc.freeze()`` do nothing (what ruvicorn did before);
``threshold=...`` sets ``gc.set_threshold`` before ruvicorn starts (on top of the freeze). Parts
join with ``+``."""

from __future__ import annotations

import gc
import sys
from typing import List


def apply(variant: str) -> None:
    for part in variant.split("+"):
        if part == "nofreeze":
            gc.freeze = lambda: None  # type: ignore[assignment]
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
