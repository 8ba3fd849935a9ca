# fish completion for kv.
#
# Installed as fish/vendor_completions.d/kv.fish (fish loads it on the first
# Tab after "kv"), or for the current shell only:
#   kv completion fish | source
#
# The candidates come from kv itself: `kv __complete WORD... PARTIAL` walks
# kv's own command tree (commands, flags, values of -o, -p and -n) and asks
# the backend for at most 100 key names by prefix, waiting at most 2s and
# never starting kvd. Its first line says what it answered: "words" (the
# candidates follow, one per line) or "files" (complete a file name).

function __kv_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l answer ($tokens[1] __complete $tokens[2..-1] $current 2>/dev/null)
    or return
    if test "$answer[1]" = files
        __fish_complete_path $current
        return
    end
    printf '%s\n' $answer[2..-1]
end

complete -c kv -f -a '(__kv_complete)'
