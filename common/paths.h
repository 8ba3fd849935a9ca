// Default paths of DESIGN.md ("Paths"), shared by kv and kvd. Each has a flag
// and an environment variable in the programs; these are the fallbacks.
#pragma once

#include <string>

namespace kv::paths {

// $XDG_RUNTIME_DIR/kv/kvd.sock, else /tmp/kv-$UID/kvd.sock.
std::string DefaultSocketPath();
// $XDG_DATA_HOME/kv, else ~/.local/share/kv.
std::string DefaultDataDir();
// $XDG_CONFIG_HOME/kv, else ~/.config/kv.
std::string ConfigDir();
// $XDG_STATE_HOME/kv, else ~/.local/state/kv (history, logs).
std::string StateDir();

}  // namespace kv::paths
