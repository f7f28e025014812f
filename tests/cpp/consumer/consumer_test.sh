#!/usr/bin/env bash
# Installs ruvicorn_core from a configured build tree, builds examples/cpp as a separate CMake
# project against the installed package, runs the example on a free port and checks its answers
# with curl and raw sockets (bash /dev/tcp). Every wait is bounded; the server is stopped by PID.
set -euo pipefail

config=Release flags="" generator="" cxx="" curl=curl
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2 ;;
    --config) config=$2 ;;
    --example-src) example_src=$2 ;;
    --work-dir) work=$2 ;;
    --generator) generator=$2 ;;
    --cxx) cxx=$2 ;;
    --flags) flags=$2 ;;
    --curl) curl=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
expect_contains() {  # name, haystack, needle
  if [[ "$2" != *"$3"* ]]; then fail "$1: expected to contain [$3], got:"; printf '%s\n' "$2" >&2; fi
}

# 1. Install into a fresh prefix and build the example as an outside consumer.
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build_dir" --config "$config" --prefix "$prefix" >"$work/install.log"
configure=(cmake -S "$example_src" -B "$work/build" -DCMAKE_BUILD_TYPE="$config"
           -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
[[ -n "$generator" ]] && configure+=(-G "$generator")
[[ -n "$cxx" ]] && configure+=(-DCMAKE_CXX_COMPILER="$cxx")
[[ -n "$flags" ]] && configure+=(-DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags")
"${configure[@]}" >"$work/configure.log"
found_dir=$(sed -n 's/^ruvicorn_core_DIR:PATH=//p' "$work/build/CMakeCache.txt")
[[ "$found_dir" == "$prefix"/* ]] || { echo "FAIL: package found at [$found_dir], not in $prefix" >&2; exit 1; }
cmake --build "$work/build" --config "$config" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
server_bin=$(find "$work/build" -name ruvicorn_example_server -type f -perm -u+x | head -n 1)
[[ -x "$server_bin" ]] || { echo "FAIL: example binary not built" >&2; exit 1; }

# 2. Start it on a free port; its first stdout line names the port (no polling).
coproc SERVER { exec "$server_bin" --host 127.0.0.1 --port 0 2>"$work/server.err"; }
server_pid=$SERVER_PID
exec {server_out}<&"${SERVER[0]}"  # bash drops SERVER[] when the coprocess ends; keep the pipe
stop_server() { kill -KILL "$server_pid" 2>/dev/null || true; }
trap stop_server EXIT
IFS= read -r -t 10 -u "$server_out" line || { echo "FAIL: server did not start" >&2; exit 1; }
port=${line##*:}
base="http://127.0.0.1:$port"
echo "example listening on $base"
c() { "$curl" -sS --max-time 10 "$@" || echo "[curl exit $?]"; }

# 3. Hello world, keep-alive: two URLs in one curl share one connection.
out=$(c -w '[connects=%{num_connects}]\n' "$base/" "$base/")
expect_contains keep-alive "$out" $'Hello, world!\n[connects=1]\nHello, world!\n[connects=0]'

# HTTP/2 with prior knowledge on the same port (when this curl speaks it).
if "$curl" --version | grep -q HTTP2; then
  out=$(c --http2-prior-knowledge -w '[%{http_version}]' "$base/")
  expect_contains h2c "$out" $'Hello, world!\n[2]'
  out=$(c --http2-prior-knowledge --data-binary 'h2 body' "$base/echo")
  [[ "$out" == "h2 body" ]] || fail "h2c echo: got [$out]"
fi

# HEAD: headers only, Content-Length of the GET.
out=$(c -I "$base/" | tr -d '\r')
expect_contains head "$out" "HTTP/1.1 200"
[[ "${out,,}" == *"content-length: 14"* ]] || fail "head: no content-length 14 in [$out]"

# Bodies, fixed and chunked, echoed back.
out=$(c --data-binary 'ping' "$base/echo")
[[ "$out" == "ping" ]] || fail "echo: got [$out]"
out=$(printf 'chunked body' | c -H 'Transfer-Encoding: chunked' --data-binary @- "$base/echo")
[[ "$out" == "chunked body" ]] || fail "chunked echo: got [$out]"
code=$(c -o /dev/null -w '%{http_code}' "$base/missing")
[[ "$code" == 404 ]] || fail "404: got $code"
code=$(c -o /dev/null -w '%{http_code}' -X DELETE "$base/")
[[ "$code" == 405 ]] || fail "405: got $code"
code=$(head -c 2000000 /dev/zero | c -o /dev/null -w '%{http_code}' --data-binary @- "$base/echo")
[[ "$code" == 413 ]] || fail "413 over max_body_size: got $code"

# raw NAME BYTES: writes BYTES on a fresh connection, prints everything until the server closes.
raw() {
  local reply
  exec {fd}<>"/dev/tcp/127.0.0.1/$port"
  printf '%b' "$2" >&"$fd"
  reply=$(timeout 10 cat <&"$fd" | tr -d '\r') || reply+="[$1: no close within 10 s]"
  exec {fd}>&-
  printf '%s' "$reply"
}

# 4. Pipelining: three requests in one write; answers in order, the last one closes.
out=$(raw pipelining 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello')
statuses=$(grep -o '^HTTP/1.1 [0-9]*' <<<"$out" | tr '\n' ' ')
[[ "$statuses" == "HTTP/1.1 200 HTTP/1.1 404 HTTP/1.1 200 " ]] || fail "pipelining order: [$statuses]"
[[ "$out" == *"Hello, world!"*"Not Found"*hello ]] || fail "pipelining bodies: [$out]"

# 5. Bad input gets the core's error response, then the connection closes.
out=$(raw bad-request 'NOT HTTP AT ALL\r\n\r\n')
expect_contains bad-request "$out" "HTTP/1.1 400"
long_header=$(head -c 70000 /dev/zero | tr '\0' 'a')
out=$(raw head-too-large "GET / HTTP/1.1\\r\\nHost: a\\r\\nX-Big: $long_header\\r\\n\\r\\n")
[[ "$out" =~ ^HTTP/1.1\ 4(31|13|00) ]] || fail "oversized head: [${out:0:200}]"
out=$(raw bad-after-good 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n')
statuses=$(grep -o '^HTTP/1.1 [0-9]*' <<<"$out" | tr '\n' ' ')
[[ "$statuses" == "HTTP/1.1 200 HTTP/1.1 400 " ]] || fail "error after a good request: [$statuses]"

# 6. WebSocket echo at /ws (RFC 6455 1.3 sample key; no deflate offered, so frames are plain):
# a masked text frame "hi" (zero mask key) and a masked close 1000 come back unmasked, in order.
exec {ws}<>"/dev/tcp/127.0.0.1/$port"
printf '%b' 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x82\x00\x00\x00\x00hi\x88\x82\x00\x00\x00\x00\x03\xe8' >&"$ws"
timeout 10 cat <&"$ws" >"$work/ws.out" || fail "websocket: no close within 10 s"
exec {ws}>&-
out=$(tr -d '\r' <"$work/ws.out")
expect_contains ws-handshake "$out" "HTTP/1.1 101"
expect_contains ws-handshake "$out" "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
frames=$(tail -c 8 "$work/ws.out" | od -An -tx1 | tr -d ' \n')
[[ "$frames" == 81026869880203e8 ]] || fail "websocket frames: [$frames]"
code=$(c -o /dev/null -w '%{http_code}' -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
       -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 8' "$base/ws")
[[ "$code" == 426 ]] || fail "websocket version 8: got $code"

# 7. Still serving after all that; then a clean stop by PID.
out=$(c "$base/")
[[ "$out" == "Hello, world!" ]] || fail "after errors: got [$out]"
kill -TERM "$server_pid"
# The server's stdout reaches end-of-file when it exits.
read -r -t 5 -u "$server_out" _ && rc=0 || rc=$?
if ((rc > 128)); then
  kill -KILL "$server_pid"
  fail "server ignored SIGTERM for 5 s"
fi
wait "$server_pid" && status=0 || status=$?
trap - EXIT
[[ $status == 0 ]] || fail "server exit status $status"
if [[ -s "$work/server.err" ]]; then fail "server wrote to stderr:"; cat "$work/server.err" >&2; fi

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
