# complete_zsh.zsh SCRIPT: for each command line read from stdin, prints what
# zsh, with compinit and SCRIPT loaded, completes at its end: the candidates,
# sorted, one per line, then a line "----".
#
# An interactive zsh runs on a pseudo-terminal (zpty) and gets the line and a
# Tab typed in; compadd is wrapped to write down every match it adds. SCRIPT
# named _kv is autoloaded from its directory put first in $fpath, as an
# installed one is; any other name is sourced after compinit.
zmodload zsh/zpty || exit 1
script=${1:a}
log=$(mktemp) || exit 1
trap 'rm -f $log' EXIT

zpty shell zsh -f -i
if [[ ${script:t} == _kv ]]; then
  zpty -w shell "fpath=(${(q)script:h} \$fpath); autoload -U compinit; compinit -u -D"
else
  zpty -w shell "autoload -U compinit; compinit -u -D; source ${(q)script}"
fi
# (Calls with -O, -A or -D only filter into an array; they add nothing.)
zpty -w shell "compadd() {
  builtin compadd \"\$@\"
  (( \${@[(I)-[OAD]*]} )) && return
  local -a m; builtin compadd -O m \"\$@\"; (( \$#m )) && print -rl -- \$m >> ${(q)log}; }"

# Tab runs a widget that completes, then shows "TAB<n>DONE" under the line:
# what was typed after a Tab waits until that shows, since zsh may cut a
# completion short when more input is already waiting.
zpty -w shell "_tabs=0; _tab_then_say() { zle complete-word; (( _tabs++ )); zle -M TAB\${_tabs}DONE; }"
zpty -w shell "zle -N _tab_then_say; bindkey '^I' _tab_then_say"

# Waits until the shell has run everything typed so far: it prints a marker
# that the echo of the typed command does not contain (DONE and n are apart).
sync_with_shell() {
  zpty -w shell "print -r -- \${:-DONE}$1"
  local out
  zpty -r shell out "*DONE$1*" || exit 1
}

sync_with_shell 0
n=0
while IFS= read -r line; do
  (( n++ ))
  : >| $log
  zpty -n -w shell "$line"$'\t'
  zpty -r shell out "*TAB${n}DONE*" || exit 1
  zpty -n -w shell $'\C-u'  # empty the line, whatever Tab inserted
  LC_ALL=C sort -u $log
  print -r -- ----
done
zpty -d shell
