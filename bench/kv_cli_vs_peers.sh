#!/usr/bin/env bash
# bench/kv_cli_vs_peers.sh BUILD_DIR: the kv command line tool against
# redis-cli and etcdctl, in one run, on this machine.
#
# 1. One-shot `get` of an existing key against a warm server, timed as whole
#    processes by hyperfine (-N, no shell), interleaved:
#      kv get KEY          (kvd from BUILD_DIR on a temporary Unix socket)
#      redis-cli get KEY   (redis-server on a random loopback port)
#      etcdctl get KEY     (etcd on random loopback ports)
#    Target: kv <= 0.8x redis-cli's median, never above 1.0x.
# 2. The same one-shot get, and a set, against etcd: kv --url etcd://... next
#    to etcdctl get/put on the same etcd. Target: kv at least as fast
#    (median).
# 3. Bulk load of LINES (default 1,000,000) keys with 100-byte values:
#      kv import < NDJSON       vs   redis-cli --pipe < the same data as RESP
#    Target: kv >= 0.5x redis-cli --pipe's records per second. Interleaved
#    for LOAD_ROUNDS rounds (default 3), each into keys new to both servers
#    (a namespace of its own in kvd, after a FLUSHALL in Redis): one load
#    takes seconds, and a one-off stall on a shared machine moves it by 30%.
#    Prints every round and the median of each.
#
# Environment: RUNS (hyperfine runs, default 300), LINES, LOAD_ROUNDS.
# Everything it starts is stopped on exit.
set -euo pipefail

BUILD_DIR=${1:?usage: bench/kv_cli_vs_peers.sh BUILD_DIR}
KV=$BUILD_DIR/cmd/kv
KVD=$BUILD_DIR/cmd/kvd
RUNS=${RUNS:-300}
LINES=${LINES:-1000000}

for tool in hyperfine redis-server redis-cli etcd etcdctl python3; do
  command -v "$tool" >/dev/null || { echo "kv_cli_vs_peers: $tool is not installed (./dev deps)" >&2; exit 2; }
done
[ -x "$KV" ] && [ -x "$KVD" ] || { echo "kv_cli_vs_peers: build kv and kvd in $BUILD_DIR first" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kv-cli-bench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }

# ---- servers ------------------------------------------------------------------
export KV_SOCKET=$TMP/kvd.sock KV_NO_AUTOSTART=1
"$KVD" --data-dir "$TMP/kvd" --socket "$KV_SOCKET" --log-level warn >/dev/null 2>"$TMP/kvd.log" &
PIDS+=($!)
wait_for test -S "$KV_SOCKET" || { cat "$TMP/kvd.log" >&2; exit 1; }

REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly yes --appendfsync everysec \
  --dir "$TMP" --logfile "$TMP/redis.log" >/dev/null &
PIDS+=($!)
wait_for redis-cli -p "$REDIS_PORT" ping

ETCD_PORT=$(free_port) ETCD_PEER=$(free_port)
etcd --name bench --data-dir "$TMP/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster "bench=http://127.0.0.1:$ETCD_PEER" >"$TMP/etcd.log" 2>&1 &
PIDS+=($!)
wait_for etcdctl --endpoints "127.0.0.1:$ETCD_PORT" endpoint health

VALUE=$(printf 'x%.0s' $(seq 100))
"$KV" set somekey "$VALUE"
redis-cli -p "$REDIS_PORT" set somekey "$VALUE" >/dev/null
etcdctl --endpoints "127.0.0.1:$ETCD_PORT" put somekey "$VALUE" >/dev/null

# ---- 1. one-shot get ----------------------------------------------------------
echo "== one-shot get, $RUNS runs each (hyperfine -N) =="
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$TMP/get.json" \
  "$KV get somekey" \
  "redis-cli -p $REDIS_PORT get somekey" \
  "etcdctl --endpoints 127.0.0.1:$ETCD_PORT get somekey" >/dev/null
python3 - "$TMP/get.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
med = {x["command"].split()[0].rsplit("/", 1)[-1]: x["median"] * 1000 for x in r}
print(f"{'command':<12}{'median ms':>10}{'vs redis-cli':>14}")
for name, m in med.items():
    print(f"{name:<12}{m:>10.2f}{m / med['redis-cli']:>13.2f}x")
EOF

# ---- 2. against etcd ----------------------------------------------------------
# kv keeps keys in simple-golang-kv's layout; etcdctl reads and writes the same.
ETCD_URL=etcd://127.0.0.1:$ETCD_PORT
EKEY=/kvstore/kv/default/default/somekey
"$KV" --url "$ETCD_URL" set somekey "$VALUE"
echo "== one-shot get and set against etcd, $RUNS runs each (hyperfine -N) =="
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$TMP/etcd.json" \
  "$KV --url $ETCD_URL get somekey" \
  "etcdctl --endpoints 127.0.0.1:$ETCD_PORT get $EKEY" \
  "$KV --url $ETCD_URL set somekey $VALUE" \
  "etcdctl --endpoints 127.0.0.1:$ETCD_PORT put $EKEY $VALUE" >/dev/null
python3 - "$TMP/etcd.json" <<'EOF'
import json, sys
r = [x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]]
print(f"{'operation':<10}{'kv ms':>8}{'etcdctl ms':>12}{'kv/etcdctl':>12}")
for name, kv, etcdctl in (("get", r[0], r[1]), ("set", r[2], r[3])):
    print(f"{name:<10}{kv:>8.2f}{etcdctl:>12.2f}{kv / etcdctl:>11.2f}x")
EOF
# ---- 3. bulk load -------------------------------------------------------------
echo "== bulk load of $LINES keys, 100-byte values =="
python3 - "$LINES" "$TMP" <<'EOF'
import sys
n, tmp = int(sys.argv[1]), sys.argv[2]
v = "x" * 100
with open(f"{tmp}/load.ndjson", "w") as nd, open(f"{tmp}/load.resp", "wb") as resp:
    for i in range(n):
        k = f"key:{i:012d}"
        nd.write(f'{{"key":"{k}","value":"{v}"}}\n')
        resp.write(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$100\r\n%s\r\n" % (k.encode(), v.encode()))
EOF
LOAD_ROUNDS=${LOAD_ROUNDS:-3}
: >"$TMP/load.times"
for round in $(seq "$LOAD_ROUNDS"); do
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  t0=$(date +%s.%N); "$KV" -q -n "load$round" import < "$TMP/load.ndjson"; t1=$(date +%s.%N)
  redis-cli -p "$REDIS_PORT" --pipe < "$TMP/load.resp" >/dev/null; t2=$(date +%s.%N)
  echo "$t0 $t1 $t2" >>"$TMP/load.times"
done
python3 - "$LINES" "$TMP/load.times" <<'EOF'
import statistics, sys
n = int(sys.argv[1])
kv, redis = [], []
for i, line in enumerate(open(sys.argv[2]), 1):
    t0, t1, t2 = map(float, line.split())
    kv.append(n / (t1 - t0))
    redis.append(n / (t2 - t1))
    print(f"round {i}: kv import {kv[-1]:>10,.0f} keys/s, redis-cli --pipe {redis[-1]:>10,.0f} keys/s, "
          f"{kv[-1] / redis[-1]:.2f}x")
k, r = statistics.median(kv), statistics.median(redis)
print(f"kv import          {k:>12,.0f} keys/s  (median of {len(kv)})")
print(f"redis-cli --pipe   {r:>12,.0f} keys/s  (median of {len(redis)})")
print(f"ratio kv/redis     {k / r:>12.2f}x  (target >= 0.5x)")
EOF
