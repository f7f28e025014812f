"""Micro-benchmarks need pytest-benchmark (``pip install pytest-benchmark``); without it they are
skipped rather than failing."""

import pytest

pytest.importorskip("pytest_benchmark")
