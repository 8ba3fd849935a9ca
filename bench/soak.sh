#!/usr/bin/env bash
# bench/soak.sh BUILD_DIR [SECONDS]: the load tests of tests/load, longer than
# CI runs them: the soak for 10 minutes (or SECONDS) of mixed load from 40
# connections with TTLs expiring throughout, then 2,000 idle connections
# beside 64 busy ones, the connection cap and slow clients. Prints their
# reports (ops/s, p50/p99 latency, kvd's memory, watch coverage, kvd check).
# CI runs the same tests with the soak cut to 1 minute (ctest -R kvd_load_tests).
set -euo pipefail
BUILD_DIR=${1:?usage: bench/soak.sh BUILD_DIR [SECONDS]}
duration=${2:-600}
bin=$BUILD_DIR/tests/load/kvd_load_tests
if [ ! -x "$bin" ]; then
  echo "soak: $bin is not built (cmake --build $BUILD_DIR --target kvd_load_tests)" >&2
  exit 2
fi
echo "== soak: ${duration} s of mixed load =="
KV_SOAK_SECONDS=$duration "$bin" "[soak]"
echo "== many connections =="
"$bin" "[connections]"
