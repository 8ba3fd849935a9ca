# kv_help.sh: sourced by tests that check something against the command tree
# as `kv help` shows it (kv(1), the completion scripts). Needs $kv, the kv
# binary.

# The first name of each entry of the "Subcommands:" section of
# `kv help ARGS...` ("del, rm" gives del). Nothing when there is none.
subcommands() {
  "$kv" help "$@" | awk '
    /^Subcommands:/ { on = 1; next }
    on && /^$/ { exit }
    on && /^  [a-z]/ { sub(/^  /, ""); split($0, w, /[ ,]/); print w[1] }'
}

# The flags of `kv help ARGS...`, one per line (-o and --output apart), from
# the "Options:" and "Global options:" sections.
flags() {
  "$kv" help "$@" | awk '
    /^(Options|Global options):/ { on = 1; next }
    /^[^ ]/ { on = 0 }
    on && /^  -/ {
      n = split($1, f, ",")
      for (i = 1; i <= n; i++) if (f[i] ~ /^-/) print f[i]
    }'
}
