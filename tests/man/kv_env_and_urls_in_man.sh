#!/bin/sh
# kv_env_and_urls_in_man.sh PAGE SOURCE_DIR: fails when kv(1) does not
# document an environment variable or a URL scheme that kv's sources know.
#
# The names are the string literals of kv's code (cmd/, client/, shell/,
# common/) that are whole variable names ("KV_URL", "ETCD_CA_FILE") or
# whole URL schemes ("etcds://"), so a variable or scheme cannot be added
# without kv(1) naming it in bold (*KV_URL*, *etcds://*).
set -eu
page=$1
src=$2
[ -s "$page" ] || { echo "no page: $page" >&2; exit 1; }

literals() {
  find "$src/cmd/kv" "$src/client" "$src/shell" "$src/common" -name '*.cc' -o -name '*.h' |
    xargs grep -ohE "\"$1\"" | tr -d '"' | LC_ALL=C sort -u
}
variables=$(literals '(KV|ETCD)_[A-Z_]+')
schemes=$(literals '[a-z][a-z0-9+]*://')
[ -n "$variables" ] && [ -n "$schemes" ] || { echo "no names found under $src" >&2; exit 1; }

failed=0
for v in $variables; do
  grep -qF "\\fB$v\\fR" "$page" || { echo "kv(1): $v is not documented" >&2; failed=1; }
done
for s in $schemes; do
  grep -qF "\\fB$s" "$page" || { echo "kv(1): the URL scheme $s is not documented" >&2; failed=1; }
done
[ "$failed" -eq 0 ] || exit 1
echo "kv(1) documents" $variables $schemes
