"""Makes the repository's ``bench`` package and tests/helpers.py importable. These tests check
the benchmark runner's parsing, certificates and report on recorded load-generator output: no
load is generated and no speed is measured."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
