# setup.sh: sourced by the completion tests. Needs $kv (the built kv) and
# $shell (bash, zsh, zsh-sourced or fish). Makes $tmp (removed on exit), writes
# the script `kv completion $shell` prints to $script, puts a `kv` that is the
# built one first in PATH (the scripts run `kv __complete`), and defines
# complete_lines, which reads command lines on stdin and prints, for each,
# what the real $shell completes at its end, then "----".
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# zsh-sourced: zsh with `source <(kv completion zsh)` in its rc file, where
# zsh autoloads an installed _kv from $fpath.
case $shell in
  bash) script=$tmp/kv.bash ;;
  zsh) script=$tmp/_kv ;;
  zsh-sourced) script=$tmp/kv.zsh ;;
  fish) script=$tmp/kv.fish ;;
  *) echo "unknown shell: $shell" >&2; exit 2 ;;
esac
"$kv" completion "${shell%-sourced}" >"$script"

mkdir "$tmp/bin"
ln -s "$(cd "$(dirname "$kv")" && pwd)/$(basename "$kv")" "$tmp/bin/kv"
PATH=$tmp/bin:$PATH
export PATH
# Nothing from the user running the tests: no profile, no kvd of theirs.
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_RUNTIME_DIR="$tmp/run"
unset KV_URL KV_PROFILE KV_NAMESPACE KV_APP KV_TOKEN KV_SOCKET KV_CONFIG KV_TIMEOUT

complete_lines() {
  case $shell in
    bash) bash "$here/complete_bash.sh" "$script" ;;
    zsh | zsh-sourced) timeout 120 zsh -f "$here/complete_zsh.zsh" "$script" ;;
    fish) fish "$here/complete_fish.fish" "$script" ;;
  esac
}
