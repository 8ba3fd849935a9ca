#!/bin/bash
# complete_bash.sh SCRIPT: for each command line read from stdin, prints what
# bash, with bash-completion and SCRIPT loaded, completes at its end: the
# candidates, sorted, one per line, then a line "----".
#
# It calls the function SCRIPT registers for kv (complete -p kv) with the
# COMP_* variables readline would set: the line split at blanks and at the
# word-break characters ':' and '=' (which become words of their own). The
# lines hold no quotes.
set -u
# shellcheck source=/dev/null
source /usr/share/bash-completion/bash_completion
# shellcheck source=/dev/null
source "$1"
spec=$(complete -p kv) || { echo "complete_bash.sh: $1 registers no completion for kv" >&2; exit 1; }
function=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")

split_like_readline() {
  local line=$1 token
  local -a tokens
  COMP_WORDS=()
  read -ra tokens <<<"$line"
  for token in "${tokens[@]}"; do
    while [[ -n $token ]]; do
      [[ $token =~ ^([:=]+|[^:=]+)(.*)$ ]]
      COMP_WORDS+=("${BASH_REMATCH[1]}")
      token=${BASH_REMATCH[2]}
    done
  done
  [[ $line == *' ' ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
}

while IFS= read -r line; do
  split_like_readline "$line"
  COMPREPLY=()
  "$function" kv "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  [[ ${#COMPREPLY[@]} -eq 0 ]] || printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
  echo ----
done
