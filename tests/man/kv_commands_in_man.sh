#!/bin/sh
# kv_commands_in_man.sh KV PAGE: fails when kv(1) does not document what
# `kv help` lists.
#
# KV is the built kv binary, PAGE the built kv.1 (roff, from man/kv.1.scd).
# Checked, from the help kv prints (so a new command, subcommand or flag
# cannot be added without documenting it):
# - every command of `kv help` is a subsection heading of kv(1) (".SS get",
#   from "## get" in the scdoc source);
# - every subcommand of `kv help COMMAND` is documented in bold as
#   "kv COMMAND SUBCOMMAND" (from "*kv token create*");
# - every flag of kv, of each command and of each subcommand (-o, --output,
#   --ttl...) appears in bold ("*--ttl*").
set -eu
kv=$1
page=$2

[ -x "$kv" ] || { echo "not an executable: $kv" >&2; exit 1; }
[ -s "$page" ] || { echo "no page: $page" >&2; exit 1; }

# subcommands and flags: what `kv help` lists.
. "$(dirname "$0")/../support/kv_help.sh"

failed=0
fail() {
  echo "kv(1) ($page): $*" >&2
  failed=1
}

check_flags() {
  for flag in $(flags "$@"); do
    grep -qF "\\fB$flag\\fR" "$page" || fail "flag $flag of 'kv $*' is not documented"
  done
}

commands=$(subcommands)
if [ -z "$commands" ]; then
  echo "kv help lists no commands: is '$kv help' broken?" >&2
  exit 1
fi

count=0
check_flags
for cmd in $commands; do
  count=$((count + 1))
  grep -qE "^\\.SS \"?$cmd\"?\$" "$page" || fail "no heading '## $cmd' for the command $cmd"
  check_flags "$cmd"
  for sub in $(subcommands "$cmd"); do
    grep -qF "\\fBkv $cmd $sub\\fR" "$page" || fail "'kv $cmd $sub' is not documented"
    check_flags "$cmd" "$sub"
  done
done

[ "$failed" -eq 0 ] || exit 1
echo "kv(1) documents the $count commands of kv help, their subcommands and flags"
