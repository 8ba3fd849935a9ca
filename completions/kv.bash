# bash completion for kv.
#
# Installed as bash-completion/completions/kv (bash-completion loads it on
# the first Tab after "kv"), or for the current shell only:
#   source <(kv completion bash)
#
# The candidates come from kv itself: `kv __complete WORD... PARTIAL` walks
# kv's own command tree (commands, flags, values of -o, -p and -n) and asks
# the backend for at most 100 key names by prefix, waiting at most 2s and
# never starting kvd. Its first line says what it answered: "words" (the
# candidates follow, one per line) or "files" (complete a file name).

_kv() {
    local cur prev words cword split
    # -n : keeps user:1 one word; -s splits --output=json.
    _init_completion -s -n : || return

    local -a args=("${words[@]:1:cword-1}")
    [[ $split == true ]] && args+=("$prev")
    args+=("$cur")

    local answer
    answer=$("${words[0]}" __complete "${args[@]}" 2>/dev/null) || return
    if [[ ${answer%%$'\n'*} == files ]]; then
        _filedir
        return
    fi
    [[ $answer == *$'\n'* ]] || return # no candidates

    local candidate quoted
    while IFS= read -r candidate; do
        printf -v quoted '%q' "$candidate" # a key may hold spaces or quotes
        COMPREPLY+=("$quoted")
    done <<<"${answer#*$'\n'}"
    __ltrim_colon_completions "$cur"
}
complete -F _kv kv
