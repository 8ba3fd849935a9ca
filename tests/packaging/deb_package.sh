#!/bin/sh
# deb_package.sh BUILD_DIR: `cpack -G DEB` builds kv_VERSION_ARCH.deb with
# kv's files under /usr, where Debian's bash-completion, zsh, fish, man and
# systemd look, and with runtime dependencies that name the libraries the
# binaries need, packages Debian has, so that apt would install it. The
# package's binaries run.
set -eu
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "kv .deb: $*" >&2; exit 1; }

(cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out") >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$tmp"/out/kv_*_"$(dpkg --print-architecture)".deb 2>/dev/null) ||
  fail "no kv_*_$(dpkg --print-architecture).deb in $(ls "$tmp/out")"

# The control fields.
[ "$(dpkg-deb -f "$deb" Package)" = kv ] || fail "Package is not kv"
depends=$(dpkg-deb -f "$deb" Depends)
for needed in libc6 libstdc++6 librocksdb7.8 libcurl4 libedit2; do
  echo "$depends" | tr ',' '\n' | grep -q "^ *$needed\b" ||
    fail "Depends lacks $needed: $depends"
done
# Every dependency is a package this Debian has (they are installed here:
# the build needs their -dev packages).
for package in $(echo "$depends" | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g'); do
  dpkg-query -W "$package" >/dev/null 2>&1 || fail "Depends names $package, which Debian lacks"
done

# apt would install it on this Debian: its dependencies resolve (a
# simulation, which changes nothing).
apt-get install --simulate --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log" >&2; fail "apt-get install --simulate refuses it"; }
grep -q -e "^Inst kv " -e "kv is already the newest" "$tmp/apt.log" ||
  { cat "$tmp/apt.log" >&2; fail "apt-get would not install it"; }

# The files.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/contents"
for file in /usr/bin/kv /usr/bin/kvd /usr/lib/kv/libkv_remote.so \
  /usr/share/man/man1/kv.1.gz /usr/share/man/man8/kvd.8.gz \
  /usr/share/bash-completion/completions/kv /usr/share/zsh/vendor-completions/_kv \
  /usr/share/fish/vendor_completions.d/kv.fish \
  /usr/lib/systemd/user/kvd.service /usr/lib/systemd/user/kvd.socket; do
  grep -qx "$file" "$tmp/contents" || fail "$file is missing (contents: $(tr '\n' ' ' <"$tmp/contents"))"
done
if grep -v -e '^/usr/' -e '^/$' "$tmp/contents"; then fail "files outside /usr"; fi

# Unpacked, the files are what they say: binaries that run with the
# system's libraries, a service that starts /usr/bin/kvd.
dpkg-deb -x "$deb" "$tmp/root"
for bin in kv kvd; do
  if ldd "$tmp/root/usr/bin/$bin" | grep "not found"; then fail "$bin misses a library"; fi
done
"$tmp/root/usr/bin/kv" version >/dev/null || fail "kv does not run"
"$tmp/root/usr/bin/kvd" --version >/dev/null || fail "kvd does not run"
grep -qx "ExecStart=/usr/bin/kvd" "$tmp/root/usr/lib/systemd/user/kvd.service" ||
  fail "kvd.service does not start /usr/bin/kvd"
MANWIDTH=80 man -l "$tmp/root/usr/share/man/man1/kv.1.gz" 2>/dev/null | grep -q "kv completion" ||
  fail "kv.1.gz does not render kv(1)"
MANWIDTH=80 man -l "$tmp/root/usr/share/man/man8/kvd.8.gz" 2>/dev/null | grep -q "SOCKET ACTIVATION" ||
  fail "kvd.8.gz does not render kvd(8)"
echo "$(basename "$deb"): $(wc -l <"$tmp/contents") entries; Depends: $depends"
