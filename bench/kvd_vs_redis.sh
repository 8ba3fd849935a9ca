#!/usr/bin/env bash
# bench/kvd_vs_redis.sh BUILD_DIR: kvd against Redis, in one run, on this machine.
#
# Starts kvd from BUILD_DIR (build it as Release: ./dev bench does) on a
# loopback TCP port with --no-auth and a temporary data directory, and a
# redis-server (appendonly yes, appendfsync everysec) in a temporary
# directory on a random loopback port and a Unix socket. Loads 100k keys with
# 100-byte values into each, then, interleaved, for ROUNDS rounds (default 2):
#   kvd GET   wrk -t2 -c64 -d10s --latency, bench/kvd_get.lua (random keys)
#   Redis     redis-benchmark -t set,get -d 100 -c 64 -n 500000 -r 100000 -P 1
#   kvd PUT   wrk -t2 -c64 -d10s --latency, bench/kvd_put.lua (100-byte values)
# and the same over the Unix sockets: kvd driven by BUILD_DIR/bench/http_load
# (wrk speaks TCP only; http_load does what the two scripts do, and matches
# wrk's figures over TCP), Redis by redis-benchmark -s. It prints ops/s and
# p99 latency with the ratio kvd/Redis (targets: GET >= 1.0x, PUT >= 0.8x).
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
if [ "$build_type" != "Release" ]; then
  echo "kvd_vs_redis: warning: $BUILD_DIR is a '${build_type:-unknown}' build, not Release" >&2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kvd-vs-redis.XXXXXX")
KVD_PID=
REDIS_PID=
cleanup() {
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

# ---- redis ------------------------------------------------------------------
for _ in 1 2 3 4 5; do
  REDIS_PORT=$((20000 + RANDOM % 40000))
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --unixsocket "$TMP/redis.sock" \
    --unixsocketperm 700 --dir "$TMP" --appendonly yes \
    --appendfsync "$REDIS_SYNC" --save '' --protected-mode yes --daemonize no \
    --logfile "$TMP/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then break; fi
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
done
[ -n "$REDIS_PID" ] || { echo "kvd_vs_redis: redis-server did not start" >&2; exit 1; }

# ---- load -------------------------------------------------------------------
value=$(head -c "$VALUE_BYTES" /dev/zero | tr '\0' 'v')
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
  echo "$(sed -n 's/.*ops=\([0-9.]*\).*/\1/p' <<<"$2") $(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$2")"
}

# wrk_run SCRIPT -> "ops p99_ms": kvd over TCP.
wrk_run() {
  local out
  out=$(KV_BENCH_KEYS=$KEYS KV_BENCH_VALUE_BYTES=$VALUE_BYTES \
    wrk -t"$((CONNECTIONS < 2 ? CONNECTIONS : 2))" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$HERE/$1" "$KVD_URL")
  ops_p99 "$1" "$(grep '^RESULT' <<<"$out")"
}

# load_run get|put -> "ops p99_ms": kvd over its Unix socket.
load_run() {
  ops_p99 "http_load $1" "$("$HTTP_LOAD" --target "unix:$TMP/kvd.sock" --op "$1" \
    --connections "$CONNECTIONS" --threads "$((CONNECTIONS < 2 ? CONNECTIONS : 2))" \
    --duration "$DURATION" --keys "$KEYS" --value-bytes "$VALUE_BYTES")"
}

# redis_run [redis-benchmark's connection flags] -> "set_ops set_p99 get_ops get_p99"
redis_run() {
  local csv
  csv=$(redis-benchmark "$@" -t set,get -d "$VALUE_BYTES" \
    -c "$CONNECTIONS" -n "$REQUESTS" -r "$KEYS" -P 1 --csv 2>/dev/null)
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  awk -F'"' '
    $2 == "SET" { set_ops = $4; set_p99 = $14 }
    $2 == "GET" { get_ops = $4; get_p99 = $14 }
    END { print set_ops, set_p99, get_ops, get_p99 }' <<<"$csv"
}

declare -a KG KP RG RS UKG UKP URG URS
for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS: TCP: kvd GET, Redis SET+GET, kvd PUT; Unix socket: the same..." >&2
  read -r kg_ops kg_p99 < <(wrk_run kvd_get.lua)
  read -r rs_ops rs_p99 rg_ops rg_p99 < <(redis_run -h 127.0.0.1 -p "$REDIS_PORT")
  read -r kp_ops kp_p99 < <(wrk_run kvd_put.lua)
  KG+=("$kg_ops $kg_p99"); KP+=("$kp_ops $kp_p99")
  RG+=("$rg_ops $rg_p99"); RS+=("$rs_ops $rs_p99")
  read -r kg_ops kg_p99 < <(load_run get)
  read -r rs_ops rs_p99 rg_ops rg_p99 < <(redis_run -s "$TMP/redis.sock")
  read -r kp_ops kp_p99 < <(load_run put)
  UKG+=("$kg_ops $kg_p99"); UKP+=("$kp_ops $kp_p99")
  URG+=("$rg_ops $rg_p99"); URS+=("$rs_ops $rs_p99")
done

# ---- report -----------------------------------------------------------------
echo
echo "kvd vs Redis: $KEYS keys, $VALUE_BYTES-byte values, $CONNECTIONS connections, no pipelining,"
echo "over TCP loopback (wrk | redis-benchmark) and Unix sockets (http_load | redis-benchmark -s),"
if [ "$FSYNC" = 1 ]; then echo "kvd --fsync, Redis appendfsync always: every write synced before its answer,"; fi
echo "$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(redis-server --version | awk '{print $3}'), kvd $("$KVD" --version | awk '{print $2}') ($build_type)"
echo
printf '%-6s %-5s %-5s %12s %12s %7s %12s %12s %7s\n' op via round "kvd ops/s" "Redis ops/s" ratio \
  "kvd p99 ms" "Redis p99" ratio
row() {  # op via round kvd_ops kvd_p99 redis_ops redis_p99
  awk -v op="$1" -v via="$2" -v r="$3" -v ko="$4" -v kp="$5" -v ro="$6" -v rp="$7" 'BEGIN {
    printf "%-6s %-5s %-5s %12.0f %12.0f %6.2fx %12.3f %12.3f %6.2fx\n",
      op, via, r, ko, ro, (ro > 0 ? ko / ro : 0), kp, rp, (rp > 0 ? kp / rp : 0) }'
}
sum() { awk '{ o += $1; p += $2 } END { printf "%f %f\n", o / NR, p / NR }'; }
# rows OP VIA KVD_ARRAY REDIS_ARRAY: one row per round, then their mean.
rows() {
  local -n kvd=$3 redis=$4
  local i a b c d
  for i in $(seq 0 $((ROUNDS - 1))); do
    read -r a b <<<"${kvd[$i]}"; read -r c d <<<"${redis[$i]}"
    row "$1" "$2" $((i + 1)) "$a" "$b" "$c" "$d"
  done
  read -r a b < <(printf '%s\n' "${kvd[@]}" | sum); read -r c d < <(printf '%s\n' "${redis[@]}" | sum)
  row "$1" "$2" mean "$a" "$b" "$c" "$d"
}
rows GET tcp KG RG
rows PUT tcp KP RS
rows GET unix UKG URG
rows PUT unix UKP URS
echo
echo "(PUT is compared with Redis SET. Targets: GET >= 1.0x, PUT >= 0.8x Redis ops/s.)"
