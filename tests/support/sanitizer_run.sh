#!/usr/bin/env bash
# sanitizer_run.sh COMMAND ARGS...: runs one test of a KV_SANITIZE build (the
# launcher of every test there, see tests/CMakeLists.txt) and fails it when
# any process it started, however deep (kvd, kv, kv started by a shell in
# tmux), printed a sanitizer report.
#
# The reports go to files, not to stderr: a kvd's stderr is a file the test
# may never read, and a child killed or waited for without a look at its
# exit status would hide one. (UBSan's still go to stderr with GCC: a report
# on the test's own stderr, which children inherit, fails it too, and the
# runners of tests/e2e and tests/client forward those on the stderr they
# collect, see sanitizer_env.h.) ASAN_OPTIONS and UBSAN_OPTIONS get log_path=
# DIR/report (the runtime appends .PID), DIR being new for this test under
# $KV_SANITIZER_REPORTS (./dev test's asan pass sets it; else $TMPDIR). A
# report written after this test ended (a daemon that outlived it) lands in
# DIR, which then stays for ./dev test to find.
set -u
base=${KV_SANITIZER_REPORTS:-${TMPDIR:-/tmp}}
mkdir -p "$base"
dir=$(mktemp -d "$base/test.XXXXXX") || exit 1
# The last log_path wins.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$dir/report"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$dir/report"
# GCC's UBSan writes to stderr all the same (tests/support/sanitizer_env.h):
# the tests' process runners copy a child's stderr with a report here.
export KV_SANITIZER_REPORT_DIR=$dir
# This test's stderr, kept too: a child that writes to it (UBSan with GCC)
# has nowhere else to report.
mkfifo "$dir/stderr.fifo" || exit 1
tee "$dir/stderr" <"$dir/stderr.fifo" >&2 &
"$@" 2>"$dir/stderr.fifo"
rc=$?
# tee ends with the last writer; a daemon the test left running keeps it.
for _ in $(seq 100); do [ -n "$(jobs -rp)" ] || break; sleep 0.05; done
rm -f "$dir/stderr.fifo"
shopt -s nullglob
reports=("$dir"/report.*)
if grep -q ': runtime error: ' "$dir/stderr" 2>/dev/null; then
  echo "sanitizer_run: UBSan report on this test's stderr (above)" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
rm -f "$dir/stderr"
if [ ${#reports[@]} -gt 0 ]; then
  for r in "${reports[@]}"; do
    echo "sanitizer_run: sanitizer report in $(basename "$r") (a process of this test):" >&2
    cat "$r" >&2
    rm -f "$r"
  done
  echo "sanitizer_run: FAILED: ${#reports[@]} sanitizer report(s) while running: $*" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
[ -n "${KV_SANITIZER_REPORTS:-}" ] || rmdir "$dir" 2>/dev/null
exit "$rc"
