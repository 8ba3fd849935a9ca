#!/usr/bin/env bash
# run_fuzzer.sh FUZZER NAME WORK_DIR SECONDS [libFuzzer flags...]
#
# Runs one libFuzzer target (tests/fuzz/NAME_fuzz.cc, built as FUZZER) for
# SECONDS: first every input of tests/fuzz/corpus/NAME/ (seeds, and the
# regression inputs of bugs the fuzzers found), then new ones, with
# tests/fuzz/NAME.dict when there is one. Inputs it finds interesting go to
# WORK_DIR/corpus (kept between runs, never written into the source tree); a
# crash, leak, timeout or failed oracle leaves WORK_DIR/crash-* (or leak-*,
# timeout-*) and makes the run fail (those of earlier runs are moved to
# WORK_DIR/earlier/). Used by ctest (fuzz.NAME) and bench/fuzz.
set -euo pipefail
if [ $# -lt 4 ]; then sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; fi
fuzzer=$1 name=$2 work=$3 seconds=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
seeds=$here/corpus/$name
[ -d "$seeds" ] || { echo "run_fuzzer.sh: no corpus at $seeds" >&2; exit 2; }
mkdir -p "$work/corpus" "$work/earlier"
# Findings of earlier runs stay, out of the way, in WORK_DIR/earlier/.
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
  [ -e "$f" ] && mv -f "$f" "$work/earlier/"
done
args=(-max_total_time="$seconds" -timeout=30 -print_final_stats=1 -artifact_prefix="$work/")
[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
# Fuzzer output is long; keep it in a file and show its end (and any report).
log=$work/fuzz.log
status=0
"$fuzzer" "${args[@]}" "$@" "$work/corpus" "$seeds" >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  cat "$log" >&2
  echo "run_fuzzer.sh: $name failed (exit $status); the input is in $work/ (crash-*, leak-*, timeout-*)" >&2
  exit "$status"
fi
grep -E '^(stat::|#[0-9]+ +DONE|Done )' "$log" || tail -n 5 "$log"
