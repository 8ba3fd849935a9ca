#!/bin/sh
# completes_values.sh KV KVD SHELL: the real SHELL, with kv's completion
# script, completes what comes after a command or flag: key names from a
# running kvd (by prefix, in the namespace the line names), namespaces,
# profiles, output formats, shells, file names. And a Tab with no kvd
# running shows nothing and never starts one.
set -eu
kv=$1
kvd=$2
shell=$3
. "$(dirname "$0")/setup.sh"

sock=$tmp/kvd.sock
"$kvd" --data-dir "$tmp/data" --socket "$sock" >"$tmp/kvd.out" 2>"$tmp/kvd.log" &
kvd_pid=$!
trap 'kill $kvd_pid 2>/dev/null || true; wait $kvd_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 200); do
  grep -q "listening on unix" "$tmp/kvd.out" && break
  kill -0 $kvd_pid 2>/dev/null || { cat "$tmp/kvd.log" >&2; exit 1; }
  sleep 0.05
done
grep -q "listening on unix" "$tmp/kvd.out" || { echo "kvd did not start" >&2; exit 1; }
export KV_SOCKET="$sock"

kv set user:1 a && kv set user:2 b && kv set other:1 c && kv -n shop set cart:1 d
kv set "two words" e
# A profile that is not the current one (kv profile add would make it so).
mkdir -p "$tmp/config/kv" "$tmp/certs"
printf "[profiles.prod]\nurl = 'http://127.0.0.1:1'\n" >"$tmp/config/kv/config.toml"
chmod 600 "$tmp/config/kv/config.toml"
: >"$tmp/certs/ca.pem"
cd "$tmp"

# Readline replaces only what follows the last ':' or '=' of a word, so bash
# (through bash-completion) offers what comes after it.
case $shell in
  bash) after_colon() { sed 's/^[^:]*://'; }; after_equals() { sed 's/^[^=]*=//'; } ;;
  *) after_colon() { cat; }; after_equals() { cat; } ;;
esac

check() {  # check LINE EXPECTED...: the candidates for LINE, in C order
  line=$1
  shift
  printf '%s\n' "$line" >>"$tmp/lines"
  { [ $# -eq 0 ] || printf '%s\n' "$@"; echo ----; } >>"$tmp/expected"
}
: >"$tmp/lines"
: >"$tmp/expected"
check "kv get user" user:1 user:2
check "kv get user:" $(printf 'user:1\nuser:2\n' | after_colon)
check "kv del other:1 us" user:1 user:2
case $shell in
  bash) check "kv get tw" 'two\ words' ;;  # quoted, as it goes on the line
  *) check "kv get tw" "two words" ;;
esac
check "kv -n shop get " cart:1
check "kv get --namespace shop c" cart:1
check "kv -n " default shop
check "kv -o " json raw table
check "kv ls --output=t" $(echo --output=table | after_equals)
check "kv -p " prod
check "kv completion " bash fish zsh
check "kv help tok" token
case $shell in
  zsh) check "kv --cacert certs/" ca.pem ;;  # zsh lists a directory's entries by name
  *) check "kv --cacert certs/" certs/ca.pem ;;
esac
check "kv --socket $tmp/no-kvd.sock get "  # the line's socket, where nothing runs

complete_lines <"$tmp/lines" >"$tmp/actual"
if ! cmp -s "$tmp/expected" "$tmp/actual"; then
  echo "$shell: unexpected completions (- expected, + $shell); the lines:" >&2
  cat "$tmp/lines" >&2
  diff "$tmp/expected" "$tmp/actual" >&2
  exit 1
fi

# With no kvd on the socket a Tab shows nothing, at once, and starts none.
kill $kvd_pid
wait $kvd_pid 2>/dev/null || true
printf 'kv get user\n' | complete_lines >"$tmp/actual"
[ "$(cat "$tmp/actual")" = "----" ] || { echo "keys offered with no kvd running" >&2; exit 1; }
if KV_NO_AUTOSTART=1 kv has user:1 2>/dev/null; then
  echo "a Tab started kvd" >&2
  exit 1
fi
echo "$shell completes keys, namespaces, profiles, formats, shells and files"
