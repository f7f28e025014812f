#!/usr/bin/env bash
# User and system CPU per request of one server under wrk, to see where a server's time goes
# between its own code and the kernel (python -m bench reports their sum, per server CPU-second).
#
#   bench/cpu_split.sh PORT PATH -- SERVER COMMAND...
#   PYTHONPATH=src bench/cpu_split.sh 8000 /starlette -- python -m ruvicorn bench.apps:app --port 8000
#
# The server (and the processes it starts) run on CPU 0, wrk (-t1 -c64) on CPU 1: 2 s of warm-up,
# then 8 s measured from /proc/PID/stat.
set -euo pipefail
port=$1 path=$2
shift 3
taskset -c 0 "$@" > /dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port$path" && break; sleep 0.2; done
taskset -c 1 wrk -t1 -c64 -d2s "http://127.0.0.1:$port$path" > /dev/null
pids="$pid $(pgrep -P "$pid" || true)"
snapshot() {
  local user=0 sys=0 u s
  for p in $pids; do
    read -r u s < <(awk '{print $14, $15}' "/proc/$p/stat")
    user=$((user + u)) sys=$((sys + s))
  done
  echo "$user $sys"
}
read -r u0 s0 < <(snapshot)
out=$(taskset -c 1 wrk -t1 -c64 -d8s "http://127.0.0.1:$port$path")
read -r u1 s1 < <(snapshot)
n=$(awk '/requests in/ {print $1}' <<< "$out")
hz=$(getconf CLK_TCK)
python3 -c "n, hz = $n, $hz
print(f'{n / 8:,.0f} req/s; per request: user {($u1 - $u0) / hz / n * 1e6:.2f} us, '
      f'system {($s1 - $s0) / hz / n * 1e6:.2f} us')"
