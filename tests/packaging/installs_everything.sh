#!/bin/sh
# installs_everything.sh BUILD_DIR: `cmake --install` into a temporary
# prefix puts exactly kv's files where the system looks for them, and they
# work from there: the binaries run, kv finds its remote backends' library,
# kvd.service starts the installed kvd and systemd accepts both units, man
# finds the pages, and bash-completion, zsh and fish find the completion
# scripts.
set -eu
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; exit 1; }

fail() { echo "cmake --install: $*" >&2; exit 1; }

# Every file, and nothing else. The man pages are those man/ builds, gzipped.
{
  echo bin/kv
  echo bin/kvd
  echo lib/kv/libkv_remote.so
  echo lib/systemd/user/kvd.service
  echo lib/systemd/user/kvd.socket
  echo share/bash-completion/completions/kv
  echo share/fish/vendor_completions.d/kv.fish
  echo share/zsh/site-functions/_kv
  for page in "$build"/man/*.[1-8]; do
    name=$(basename "$page")
    echo "share/man/man${name##*.}/$name.gz"
  done
} | LC_ALL=C sort >"$tmp/expected"
(cd "$prefix" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >"$tmp/installed"
if ! cmp -s "$tmp/expected" "$tmp/installed"; then
  echo "cmake --install: the installed files differ (- expected, + installed):" >&2
  diff "$tmp/expected" "$tmp/installed" >&2
  exit 1
fi

# The binaries run, and kv prints the very scripts that were installed.
"$prefix/bin/kv" version >/dev/null || fail "bin/kv does not run"
"$prefix/bin/kvd" --version >/dev/null || fail "bin/kvd does not run"
"$prefix/bin/kv" completion bash | cmp -s - "$prefix/share/bash-completion/completions/kv" ||
  fail "kv completion bash differs from the installed script"
"$prefix/bin/kv" completion zsh | cmp -s - "$prefix/share/zsh/site-functions/_kv" ||
  fail "kv completion zsh differs from the installed script"
"$prefix/bin/kv" completion fish | cmp -s - "$prefix/share/fish/vendor_completions.d/kv.fish" ||
  fail "kv completion fish differs from the installed script"

# kv finds lib/kv/libkv_remote.so beside bin/: an etcd URL that nobody
# serves is unreachable (exit 4), not a missing library (exit 5).
code=0
KV_TIMEOUT=2s "$prefix/bin/kv" --url etcd://127.0.0.1:1 get k 2>"$tmp/remote.err" || code=$?
[ "$code" -eq 4 ] || fail "kv with an etcd URL exited $code: $(cat "$tmp/remote.err")"

# The units: the service runs the installed kvd; the socket is kv's default.
grep -qx "ExecStart=$prefix/bin/kvd" "$prefix/lib/systemd/user/kvd.service" ||
  fail "kvd.service does not start $prefix/bin/kvd"
grep -qx "ListenStream=%t/kv/kvd.sock" "$prefix/lib/systemd/user/kvd.socket" ||
  fail "kvd.socket does not listen on kv's default socket"

# systemd accepts the units: their syntax, ExecStart's executable, and the
# man pages of Documentation= (found under the prefix).
mkdir -m 700 "$tmp/run"
(cd "$prefix/lib/systemd/user" && XDG_RUNTIME_DIR=$tmp/run MANPATH=$prefix/share/man \
  systemd-analyze verify --user ./kvd.socket ./kvd.service) >"$tmp/verify.log" 2>&1 ||
  { cat "$tmp/verify.log" >&2; fail "systemd-analyze verify refuses the units"; }

# man finds both pages through the prefix's share/man.
for page in kv kvd; do
  MANPATH=$prefix/share/man man -w "$page" 2>/dev/null | grep -q "^$prefix/" ||
    fail "man $page does not find the installed page"
done

# Each shell finds its script where it looks, as it would under /usr/local.
XDG_DATA_DIRS=$prefix/share bash -c '
  . /usr/share/bash-completion/bash_completion
  __load_completion kv && complete -p kv' 2>/dev/null | grep -q -- "-F _kv kv" ||
  fail "bash-completion does not load share/bash-completion/completions/kv"
zsh -f -c "fpath=($prefix/share/zsh/site-functions \$fpath)
  autoload -U compinit && compinit -u -D && print -r -- \$_comps[kv]" | grep -qx _kv ||
  fail "zsh's compinit does not find share/zsh/site-functions/_kv"
XDG_DATA_DIRS=$prefix/share PATH=$prefix/bin:$PATH HOME=$tmp \
  fish -c 'complete -C"kv complet"' | grep -q "^completion" ||
  fail "fish does not load share/fish/vendor_completions.d/kv.fish"

echo "cmake --install puts $(wc -l <"$tmp/installed") files in place, and they work"
