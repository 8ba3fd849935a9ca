#include "common/paths.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace kv::paths {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

std::string Home() {
  std::string home = Env("HOME");
  if (!home.empty()) return home;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return "/tmp";
}

// $VAR/kv when VAR is set to an absolute path (XDG says to ignore relative
// ones), else ~/fallback/kv.
std::string XdgDir(const char* var, const char* fallback) {
  std::string base = Env(var);
  if (base.empty() || base[0] != '/') base = Home() + "/" + fallback;
  return base + "/kv";
}

}  // namespace

std::string DefaultSocketPath() {
  std::string runtime = Env("XDG_RUNTIME_DIR");
  if (!runtime.empty() && runtime[0] == '/') return runtime + "/kv/kvd.sock";
  return "/tmp/kv-" + std::to_string(getuid()) + "/kvd.sock";
}

std::string DefaultDataDir() { return XdgDir("XDG_DATA_HOME", ".local/share"); }
std::string ConfigDir() { return XdgDir("XDG_CONFIG_HOME", ".config"); }
std::string StateDir() { return XdgDir("XDG_STATE_HOME", ".local/state"); }

}  // namespace kv::paths
