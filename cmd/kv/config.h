// kv's config file: $XDG_CONFIG_HOME/kv/config.toml (else
// ~/.config/kv/config.toml). It holds named profiles (a URL, a token, a
// namespace and an app name) and which one is current:
//
//   current_profile = "prod"
//
//   [profiles.prod]
//   url = "http://10.0.0.5:7379"
//   token = "kv_..."
//   namespace = "shop"
//   app = "default"
//
// The file holds tokens, so kv writes it with mode 0600 (its directory 0700),
// atomically (a temporary file renamed over the old one); members kv does not
// know are kept. A missing file is an empty config.
//
// Thread-safety: free functions over files; concurrent writers race on the
// rename (the last one wins), never leave a torn file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kv::cli {

struct Profile {
  std::string name;
  std::string url;    // empty: the local kvd
  std::string token;
  std::string ns;     // empty: not set ("default")
  std::string app;    // empty: not set ("default")
};

struct Config {
  std::string current;            // the current profile's name; empty: none
  std::vector<Profile> profiles;  // sorted by name

  // nullptr when there is no profile of that name.
  const Profile* Find(std::string_view name) const;
};

// The config file's path: paths::ConfigDir() + "/config.toml".
std::string DefaultConfigPath();

// Reads `path`. A missing file gives an empty Config. InvalidArgument: not
// TOML, or a member of the wrong type ("PATH:LINE: ..."). IOError: unreadable.
Result<Config> LoadConfig(const std::string& path);

// Adds or replaces profile `profile.name`. Makes it current when `make_current`
// or when it is the only profile. InvalidArgument: a bad name (1..64 of
// [A-Za-z0-9._-]) or a bad existing file.
Status SaveProfile(const std::string& path, const Profile& profile, bool make_current);

// Makes `name` the current profile; an empty name clears it. NotFound: no
// such profile.
Status UseProfile(const std::string& path, std::string_view name);

// Removes profile `name` (and clears current_profile if it named it).
// NotFound: no such profile.
Status RemoveProfile(const std::string& path, std::string_view name);

}  // namespace kv::cli
