#!/usr/bin/env bash
# Interleaved A/B of two ruvicorn source trees on h2-plaintext, for changes too small for the
# machine's drift between minutes (python -m bench compares servers, not two builds of one).
#
#   bench/h2_ab.sh A_SRC B_SRC [ROUNDS] [PYTHON]
#   bench/h2_ab.sh /tmp/before/src src 4 /work/venv312/bin/python
#
# Each tree's src/ must hold its built extension. Per round, A then B: the server on CPU 0,
# h2load -c64 -m10 on CPU 1, 2 s of warm-up and 5 s measured. Prints each run's req/s, then the
# medians and the median of the per-round B/A ratios.
set -euo pipefail
a=$1 b=$2 rounds=${3:-4} python=${4:-python}
cd "$(dirname "$0")/.."
run() {  # $1: src dir; prints req/s
  local port pid
  port=$((20000 + RANDOM % 20000))
  PYTHONPATH=$1 taskset -c 0 "$python" -m ruvicorn bench.apps:app --port "$port" --loop uvloop \
    --no-access-log --log-level warning > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/plaintext" && break; sleep 0.2; done
  taskset -c 1 h2load -c64 -m10 -D 2 "http://127.0.0.1:$port/plaintext" > /dev/null 2>&1
  taskset -c 1 h2load -c64 -m10 -D 5 "http://127.0.0.1:$port/plaintext" 2>&1 \
    | awk '/^finished in/ {print $4}'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
results=()
for i in $(seq "$rounds"); do
  ra=$(run "$a") rb=$(run "$b")
  echo "round $i: A $ra  B $rb"
  results+=("$ra $rb")
done
printf '%s\n' "${results[@]}" | "$python" -c '
import statistics, sys
rows = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
a, b = zip(*rows)
ratios = [y / x for x, y in rows]
print(f"median A {statistics.median(a):,.0f}  B {statistics.median(b):,.0f}  "
      f"B/A per round {min(ratios):.3f}-{max(ratios):.3f}, median {statistics.median(ratios):.3f}")
'
