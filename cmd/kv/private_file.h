// Files only their owner may read: kv's config (it holds tokens) and the
// sign-in page of `kv ui` (it holds a one-time code).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kv::cli {

// mkdir -p; the directories it creates get mode 0700.
Status MakePrivateDirs(const std::string& dir);

// Replaces `path` with `data`, mode 0600, atomically: written to a temporary
// file beside it, synced, renamed over it, the directory synced. Creates the
// missing directories (0700). A symlink at the temporary name is refused.
// IOError ("cannot write PATH: why") on failure; the old file is then intact.
Status WritePrivateFile(const std::string& path, std::string_view data);

}  // namespace kv::cli
