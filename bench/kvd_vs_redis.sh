#!/usr/bin/env bash
# bench/kvd_vs_redis.sh BUILD_DIR: kvd against Redis, in one run, on this machine.
#
# Starts kvd from BUILD_DIR (build it as Release: ./dev bench does) on a
# loopback TCP port with --no-auth and a temporary data directory, and a
# redis-server (appendonly yes, appendfsync everysec) in a temporary
# directory on a random loopback port and a Unix socket. Loads 100k keys with
# 100-byte values into each, then, interleaved, for ROUNDS rounds (default 2):
#   kvd GET   wrk -t2 -c64 -d10s --latency, bench/kvd_get.lua (random keys)
#   Redis     redis-benchmark -t get, then -t set: -d 100 -c 64 -n 500000 -r 100000 -P 1
#   kvd PUT   wrk -t2 -c64 -d10s --latency, bench/kvd_put.lua (100-byte values)
# and the same over the Unix sockets: kvd driven by BUILD_DIR/bench/http_load
# (wrk speaks TCP only; http_load does what the two scripts do, and matches
# wrk's figures over TCP), Redis by redis-benchmark -s. It prints ops/s,
# p99 latency and the server's CPU time per request (from /proc, all its
# threads), each with the ratio kvd/Redis (targets: GET >= 1.0x, PUT >= 0.8x
# in ops/s). On a machine where the load tool shares the server's cores, ops/s
# also depends on which side saturates first; CPU per request does not.
#
# The HTTP ceiling: when nginx is installed (Debian's nginx-light, from
# ./dev deps), each round also drives an nginx with one worker that answers
# every request with a fixed 100-byte body from memory (the least work an
# HTTP/1.1 server can do for a GET, so its rate is the ceiling) over TCP and a
# Unix socket with the same tools and the GET script, and the report adds kvd
# GET / nginx and nginx / Redis GET:
# how far kvd is from the ceiling, and whether an HTTP server can reach
# Redis's GET rate on this machine at all. NGINX=0 leaves it out.
#
# Environment: ROUNDS, DURATION (wrk, default 10s), KEYS (default 100000),
# REQUESTS (redis-benchmark -n, default 500000), CONNECTIONS (default 64).
# FSYNC=1 runs kvd with --fsync and Redis with appendfsync always, so that
# both sync every write before answering it (compare a run without it for
# what --fsync costs). Everything it starts is stopped on exit.
set -euo pipefail

BUILD_DIR=${1:?usage: bench/kvd_vs_redis.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
KVD=$BUILD_DIR/cmd/kvd
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
KEYS=${KEYS:-100000}
REQUESTS=${REQUESTS:-500000}
VALUE_BYTES=100
CONNECTIONS=${CONNECTIONS:-64}
FSYNC=${FSYNC:-0}
NGINX=${NGINX:-1}
KVD_SYNC=()
REDIS_SYNC=everysec
if [ "$FSYNC" = 1 ]; then KVD_SYNC=(--fsync); REDIS_SYNC=always; fi

for tool in wrk redis-server redis-benchmark redis-cli curl; do
  command -v "$tool" >/dev/null || { echo "kvd_vs_redis: $tool is not installed (./dev deps)" >&2; exit 2; }
done
[ -x "$KVD" ] || { echo "kvd_vs_redis: no kvd in $BUILD_DIR (build it first)" >&2; exit 2; }
HTTP_LOAD=$BUILD_DIR/bench/http_load
[ -x "$HTTP_LOAD" ] || { echo "kvd_vs_redis: no bench/http_load in $BUILD_DIR (build it first)" >&2; exit 2; }
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
if [ "$NGINX" = 1 ] && ! command -v nginx >/dev/null; then
  echo "kvd_vs_redis: nginx is not installed (./dev deps): no HTTP ceiling rows" >&2
  NGINX=0
fi
if [ "$build_type" != "Release" ]; then
  echo "kvd_vs_redis: warning: $BUILD_DIR is a '${build_type:-unknown}' build, not Release" >&2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kvd-vs-redis.XXXXXX")
KVD_PID=
REDIS_PID=
NGINX_PID=
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  [ -n "$KVD_PID" ] && kill "$KVD_PID" 2>/dev/null && wait "$KVD_PID" 2>/dev/null || true
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- kvd --------------------------------------------------------------------
mkfifo "$TMP/kvd.out"
"$KVD" --listen 127.0.0.1:0 --no-auth --data-dir "$TMP/kvd-data" --socket "$TMP/kvd.sock" \
  --log-level warn "${KVD_SYNC[@]}" >"$TMP/kvd.out" 2>"$TMP/kvd.log" &
KVD_PID=$!
KVD_PORT=
exec 3<"$TMP/kvd.out"
while IFS= read -r -t 20 line <&3; do
  case "$line" in "listening on tcp "*) KVD_PORT=${line##*:}; break ;; esac
done
[ -n "$KVD_PORT" ] || { echo "kvd_vs_redis: kvd did not start:" >&2; cat "$TMP/kvd.log" >&2; exit 1; }
KVD_URL=http://127.0.0.1:$KVD_PORT

# wait_for CMD...: true once CMD succeeds, within about 5 seconds.
wait_for() {
  for _ in $(seq 50); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# ---- redis ------------------------------------------------------------------
for _ in 1 2 3 4 5; do
  REDIS_PORT=$((20000 + RANDOM % 40000))
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --unixsocket "$TMP/redis.sock" \
    --unixsocketperm 700 --dir "$TMP" --appendonly yes \
    --appendfsync "$REDIS_SYNC" --save '' --protected-mode yes --daemonize no \
    --logfile "$TMP/redis.log" &
  REDIS_PID=$!
  if wait_for redis-cli -p "$REDIS_PORT" ping; then break; fi
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
done
[ -n "$REDIS_PID" ] || { echo "kvd_vs_redis: redis-server did not start" >&2; exit 1; }

# ---- nginx: the HTTP ceiling ----------------------------------------------------
value=$(head -c "$VALUE_BYTES" /dev/zero | tr '\0' 'v')
if [ "$NGINX" = 1 ]; then
  mkdir -p "$TMP/nginx"
  for _ in 1 2 3 4 5; do
    NGINX_PORT=$((20000 + RANDOM % 40000))
    # One process that is its own worker (so its CPU time is all of nginx's),
    # keep-alive without a request cap, no access log: nginx at its fastest.
    cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    listen unix:$TMP/nginx.sock;
    location / { default_type application/octet-stream; return 200 "$value"; }
  }
}
CONF
    nginx -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" 2>>"$TMP/nginx/error.log" &
    NGINX_PID=$!
    if wait_for curl -sf "http://127.0.0.1:$NGINX_PORT/"; then break; fi
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
  done
  [ -n "$NGINX_PID" ] || { echo "kvd_vs_redis: nginx did not start:" >&2; cat "$TMP/nginx/error.log" >&2; exit 1; }
fi

# ---- load -------------------------------------------------------------------
printf '%s' "$value" >"$TMP/value"
echo "loading $KEYS keys with $VALUE_BYTES-byte values into kvd and Redis..." >&2
curl -sS --no-progress-meter -Z --parallel-max 32 -X PUT --data-binary @"$TMP/value" \
  "$KVD_URL/v1/kv/key:[0-$((KEYS - 1))]" >/dev/null
# redis-benchmark names its keys key:%012d.
awk -v n="$KEYS" -v v="$value" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = sprintf("key:%012d", i)
    printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
  }
}' | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
kvd_keys=$(curl -s "$KVD_URL/metrics" | sed -n 's/^kvd_keys //p')
redis_keys=$(redis-cli -p "$REDIS_PORT" dbsize)
echo "loaded: kvd $kvd_keys keys, Redis $redis_keys keys" >&2

# ---- runs -------------------------------------------------------------------
# ops_p99 WHAT RESULT_LINE -> "ops p99_ms" of a RESULT line (bench/kvd_*.lua,
# http_load), with a warning when some requests failed.
ops_p99() {
  local non2xx errors
  non2xx=$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$2")
  errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$2")
  if [ "${non2xx:-0}" != 0 ] || [ "${errors:-0}" != 0 ]; then
    echo "kvd_vs_redis: warning: $1: $non2xx non-2xx responses, $errors socket errors" >&2
  fi
  local ops p99
  ops=$(sed -n 's/.*ops=\([0-9.]*\).*/\1/p' <<<"$2")
  p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$2")
  [ -n "$ops" ] || echo "kvd_vs_redis: warning: $1 printed no result" >&2
  echo "${ops:-0} ${p99:-0}"
}

# The CPU time (user + system, all threads) a process has used, in clock ticks.
TICKS_PER_SECOND=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# cpu_per_request PID TICKS_BEFORE REQUESTS -> microseconds of PID's CPU per
# request since TICKS_BEFORE. Unlike ops/s it does not depend on which side
# of the closed loop (server or load tool, on the same cores) saturates first.
cpu_per_request() {
  awk -v a="$2" -v b="$(cpu_ticks "$1")" -v n="$3" -v hz="$TICKS_PER_SECOND" \
    'BEGIN { printf "%.1f\n", (n > 0 ? (b - a) * 1e6 / hz / n : 0) }'
}
# requests_in OPS_PER_SECOND: requests a run of DURATION made.
DURATION_SECONDS=$(awk -v d="$DURATION" 'BEGIN {
  n = d + 0; u = substr(d, length(d)); print (u == "m" ? n * 60 : u == "h" ? n * 3600 : n) }')
requests_in() { awk -v o="$1" -v s="$DURATION_SECONDS" 'BEGIN { printf "%.0f\n", o * s }'; }

# wrk_run SCRIPT [URL PID] -> "ops p99_ms cpu_us": over TCP, kvd unless told.
wrk_run() {
  local url=${2:-$KVD_URL} pid=${3:-$KVD_PID} out ops p99 t0
  t0=$(cpu_ticks "$pid")
  out=$(KV_BENCH_KEYS=$KEYS KV_BENCH_VALUE_BYTES=$VALUE_BYTES \
    wrk -t"$((CONNECTIONS < 2 ? CONNECTIONS : 2))" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$HERE/$1" "$url")
  read -r ops p99 < <(ops_p99 "$1" "$(grep '^RESULT' <<<"$out")")
  echo "$ops $p99 $(cpu_per_request "$pid" "$t0" "$(requests_in "$ops")")"
}

# load_run get|put [SOCKET PID] -> "ops p99_ms cpu_us": over a Unix socket,
# kvd's unless told.
load_run() {
  local socket=${2:-$TMP/kvd.sock} pid=${3:-$KVD_PID} ops p99 t0
  t0=$(cpu_ticks "$pid")
  read -r ops p99 < <(ops_p99 "http_load $1" "$("$HTTP_LOAD" --target "unix:$socket" --op "$1" \
    --connections "$CONNECTIONS" --threads "$((CONNECTIONS < 2 ? CONNECTIONS : 2))" \
    --duration "$DURATION" --keys "$KEYS" --value-bytes "$VALUE_BYTES")")
  echo "$ops $p99 $(cpu_per_request "$pid" "$t0" "$(requests_in "$ops")")"
}

# redis_run set|get [redis-benchmark's connection flags] -> "ops p99_ms cpu_us"
redis_run() {
  local op=$1 csv t0
  shift
  t0=$(cpu_ticks "$REDIS_PID")
  csv=$(redis-benchmark "$@" -t "$op" -d "$VALUE_BYTES" \
    -c "$CONNECTIONS" -n "$REQUESTS" -r "$KEYS" -P 1 --csv 2>/dev/null)
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  # A failed run still makes a row (zeros, and a warning), not a broken table.
  echo "$(awk -F'"' 'toupper($2) == toupper(op) { print $4, $14; found = 1 }
    END { if (!found) { print "kvd_vs_redis: warning: redis-benchmark -t " op " printed no result" > "/dev/stderr"; print 0, 0 } }' \
    op="$op" <<<"$csv") \
$(cpu_per_request "$REDIS_PID" "$t0" "$REQUESTS")"
}

declare -a KG KP RG RS UKG UKP URG URS NG UNG
for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS: $([ "$NGINX" = 1 ] && echo "nginx GET over TCP and the Unix socket; ")TCP: kvd GET, Redis GET, Redis SET, kvd PUT; Unix socket: the same..." >&2
  if [ "$NGINX" = 1 ]; then
    NG+=("$(wrk_run kvd_get.lua "http://127.0.0.1:$NGINX_PORT" "$NGINX_PID")")
    UNG+=("$(load_run get "$TMP/nginx.sock" "$NGINX_PID")")
  fi
  KG+=("$(wrk_run kvd_get.lua)")
  RG+=("$(redis_run get -h 127.0.0.1 -p "$REDIS_PORT")")
  RS+=("$(redis_run set -h 127.0.0.1 -p "$REDIS_PORT")")
  KP+=("$(wrk_run kvd_put.lua)")
  UKG+=("$(load_run get)")
  URG+=("$(redis_run get -s "$TMP/redis.sock")")
  URS+=("$(redis_run set -s "$TMP/redis.sock")")
  UKP+=("$(load_run put)")
done

# ---- report -----------------------------------------------------------------
echo
echo "kvd vs Redis: $KEYS keys, $VALUE_BYTES-byte values, $CONNECTIONS connections, no pipelining,"
echo "over TCP loopback (wrk | redis-benchmark) and Unix sockets (http_load | redis-benchmark -s),"
if [ "$FSYNC" = 1 ]; then echo "kvd --fsync, Redis appendfsync always: every write synced before its answer,"; fi
echo "$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), Redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'), kvd $("$KVD" --version | awk '{print $2}') ($build_type)"
echo
# header A B: the column heads of a table of A against B.
header() {
  printf '%-6s %-5s %-5s %12s %10s %6s %10s %8s %6s %10s %8s %6s\n' op via round \
    "$1 ops/s" "$2" ratio "$1 p99" "$2" ratio "$1 CPU" "$2" ratio
}
header kvd Redis
# row OP VIA ROUND KVD_OPS KVD_P99 KVD_CPU REDIS_OPS REDIS_P99 REDIS_CPU
row() {
  awk -v op="$1" -v via="$2" -v r="$3" -v ko="$4" -v kp="$5" -v kc="$6" \
    -v ro="$7" -v rp="$8" -v rc="$9" 'function ratio(a, b) { return b > 0 ? a / b : 0 }
    BEGIN { printf "%-6s %-5s %-5s %12.0f %10.0f %5.2fx %10.3f %8.3f %5.2fx %10.1f %8.1f %5.2fx\n",
      op, via, r, ko, ro, ratio(ko, ro), kp, rp, ratio(kp, rp), kc, rc, ratio(kc, rc) }'
}
mean() { awk '{ for (i = 1; i <= NF; i++) t[i] += $i } END { print t[1] / NR, t[2] / NR, t[3] / NR }'; }
# rows OP VIA KVD_ARRAY REDIS_ARRAY: one row per round, then their mean.
rows() {
  local -n kvd=$3 redis=$4
  local i
  for i in $(seq 0 $((ROUNDS - 1))); do
    # shellcheck disable=SC2086  # each element is three numbers
    row "$1" "$2" $((i + 1)) ${kvd[$i]} ${redis[$i]}
  done
  # shellcheck disable=SC2046
  row "$1" "$2" mean $(printf '%s\n' "${kvd[@]}" | mean) $(printf '%s\n' "${redis[@]}" | mean)
}
rows GET tcp KG RG
rows PUT tcp KP RS
rows GET unix UKG URG
rows PUT unix UKP URS
echo
echo "(ops/s and p99 latency in ms as the load tools saw them; CPU: microseconds of CPU time, user + system,"
echo " all threads, the server used per request. PUT is compared with Redis SET."
echo " Targets: GET >= 1.0x, PUT >= 0.8x Redis ops/s.)"
if [ "$NGINX" = 1 ]; then
  echo
  echo "The HTTP ceiling: nginx $(nginx -v 2>&1 | sed 's|.*/||'), one worker, answering every GET with a fixed"
  echo "$VALUE_BYTES-byte body from memory, driven by the same tools and script as kvd GET."
  echo
  header kvd nginx
  rows GET tcp KG NG
  rows GET unix UKG UNG
  echo
  header nginx Redis
  rows GET tcp NG RG
  rows GET unix UNG URG
fi
