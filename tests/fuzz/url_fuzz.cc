// fuzz_url: how kv picks its backend: the URL (--url / KV_URL) and the
// profile config file (config.toml), resolved through the same Context the
// commands use, then handed to client::OpenBackend, which parses the URL of
// every backend (kvd over unix:// and http://, and, through libkv_remote.so,
// keyvalue.dev, kvdev+http(s)://, https://, etcd:// and etcds://,
// invoke+http(s)://). Backends connect lazily, so nothing is contacted;
// autostart is off and the local socket does not exist.
//
// The input is the URL, a newline, then the config file's text. With an
// empty URL the config's current profile is used.
//
// Oracles: the sanitizers; a config file that loads can have each valid
// profile saved back (SaveProfile), after which it loads again and has that
// profile as saved.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "client/connect.h"
#include "cmd/kv/config.h"
#include "cmd/kv/context.h"
#include "common/key.h"
#include "tests/fuzz/fuzz_fail.h"

namespace {

using kv::fuzz::Fail;

struct Paths {
  std::string dir, config, socket;
};

const Paths& Dir() {
  static Paths* p = [] {
    auto* out = new Paths;
    std::string tmpl = (std::filesystem::temp_directory_path() / "kv-fuzz-url-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp");
    out->dir = tmpl;
    out->config = tmpl + "/config.toml";
    out->socket = tmpl + "/no-kvd/kvd.sock";
    static std::string to_remove = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    // Where kv finds libkv_remote.so (the build tree's, as kv would).
    ::setenv("KV_REMOTE_LIB", KV_FUZZ_REMOTE_LIB, 1);
    return out;
  }();
  return *p;
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) Fail("cannot write " + path);
}

// The URL and config through the Context, as `kv get x` would resolve them.
void Resolve(const std::string& url) {
  std::istringstream in;
  std::ostringstream out, err;
  kv::cli::Io io;
  io.in = &in;
  io.out = &out;
  io.err = &err;
  auto env = [&](const char* name) -> std::optional<std::string> {
    std::string_view n = name;
    if (n == "KV_CONFIG") return Dir().config;
    if (n == "KV_URL" && !url.empty()) return url;
    if (n == "KV_SOCKET") return Dir().socket;
    if (n == "KV_NO_AUTOSTART") return "1";
    return std::nullopt;
  };
  kv::cli::Context context(io, kv::client::OpenBackend, env);
  kv::Result<kv::client::Backend*> backend = context.backend();
  if (backend.ok()) (void)(*backend)->Caps();
}

void SaveBack(const kv::cli::Config& config) {
  for (const kv::cli::Profile& p : config.profiles) {
    if (!kv::cli::SaveProfile(Dir().config, p, false).ok()) continue;
    kv::Result<kv::cli::Config> again = kv::cli::LoadConfig(Dir().config);
    if (!again.ok()) Fail("a saved profile broke the config: " + again.status().ToString());
    const kv::cli::Profile* q = again->Find(p.name);
    if (q == nullptr || q->url != p.url || q->token != p.token || q->ns != p.ns || q->app != p.app) {
      Fail("profile " + p.name + " did not survive SaveProfile");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string url(input.substr(0, nl));
  std::string_view config = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  WriteFile(Dir().config, config);

  Resolve(url);
  kv::Result<kv::cli::Config> loaded = kv::cli::LoadConfig(Dir().config);
  if (loaded.ok()) SaveBack(*loaded);
  return 0;
}
