#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [WHICH...]: runs the benchmarks against a Release
# build. WHICH: store (store vs raw RocksDB), http (kvd vs Redis), cli;
# default those three. soak (bench/soak.sh: 10 minutes of load, many
# connections) runs only when asked for.
# Figures on a shared 2-core machine are noisy: read them as ratios within
# one run, and run twice before believing a difference under 1.5x.
set -euo pipefail
BUILD_DIR=${1:?usage: bench/run.sh BUILD_DIR [store|http|cli|soak]...}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(store http cli)

for w in "${which[@]}"; do
  case "$w" in
    store)
      echo "== store vs raw RocksDB (100-byte values, 100k keys) =="
      # Interleaved repetitions: a slow spell of the machine hits every
      # benchmark alike instead of one of them.
      "$BUILD_DIR/bench/store_bench" --benchmark_repetitions=5 \
        --benchmark_enable_random_interleaving=true \
        --benchmark_report_aggregates_only=true --benchmark_counters_tabular=true
      ;;
    http)
      "$HERE/kvd_vs_redis.sh" "$BUILD_DIR"
      ;;
    cli)
      "$HERE/kv_cli_vs_peers.sh" "$BUILD_DIR"
      ;;
    soak)
      "$HERE/soak.sh" "$BUILD_DIR"
      ;;
    *) echo "bench: unknown benchmark '$w' (store, http, cli, soak)" >&2; exit 2 ;;
  esac
done
