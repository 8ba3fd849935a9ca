#!/bin/sh
# completions_match_help.sh KV SHELL: fails when the real SHELL, with kv's
# completion script, offers a command, subcommand or flag that `kv help`
# does not list, or misses one that it lists.
#
# For kv and each command and subcommand of `kv help`: "kv CMD " must
# complete to exactly its subcommands, and "kv CMD -" to exactly the flags
# `kv help CMD` and `kv help` show (kv's own flags work after a command).
set -eu
kv=$1
shell=$2
. "$(dirname "$0")/setup.sh"
. "$here/../support/kv_help.sh"

sorted() { LC_ALL=C sort; }

# Every command path: "" (kv itself), "get", "token create"...
paths() {
  echo ""
  for cmd in $(subcommands); do
    echo "$cmd"
    for sub in $(subcommands "$cmd"); do echo "$cmd $sub"; done
  done
}

paths >"$tmp/paths"
[ "$(wc -l <"$tmp/paths")" -gt 10 ] || { echo "kv help lists too few commands" >&2; exit 1; }

: >"$tmp/lines"
: >"$tmp/expected"
while IFS= read -r path; do
  line="kv ${path:+$path }"
  # shellcheck disable=SC2086 # the path's words
  subs=$(subcommands $path | sorted)
  if [ -n "$subs" ]; then
    echo "$line" >>"$tmp/lines"
    { echo "$subs"; echo ----; } >>"$tmp/expected"
  fi
  echo "$line-" >>"$tmp/lines"
  # The command's own flags and kv's, which work after a command too.
  # shellcheck disable=SC2086
  { { flags $path; flags; } | LC_ALL=C sort -u; echo ----; } >>"$tmp/expected"
done <"$tmp/paths"

complete_lines <"$tmp/lines" >"$tmp/actual"

# Side by side: each query with what kv help says and what the shell offers.
if ! cmp -s "$tmp/expected" "$tmp/actual"; then
  echo "$shell completes kv differently from what kv help lists (- kv help, + $shell):" >&2
  awk -v lines="$tmp/lines" -v actual="$tmp/actual" '
    function block(file,   out, l) {
      out = ""
      while ((getline l < file) > 0 && l != "----") out = out " " l
      return out
    }
    { expected[NR] = $0 }
    END {
      n = 0
      while ((getline line < lines) > 0) {
        want = ""; while (++i <= NR && expected[i] != "----") want = want " " expected[i]
        got = block(actual)
        if (want != got) printf "  \"%s\"\n    - %s\n    + %s\n", line, want, got
      }
    }' "$tmp/expected" >&2
  exit 1
fi
echo "$shell completes the $(wc -l <"$tmp/paths") command paths of kv help exactly"
