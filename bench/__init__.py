"""Side-by-side benchmarks of ruvicorn and its peers: ``python -m bench --help``."""
