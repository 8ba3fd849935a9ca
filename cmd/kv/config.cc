#include "cmd/kv/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

// toml++ as a header-only library in this one translation unit: kv loads no
// extra shared library for it, and nothing else in kv includes it.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include "cmd/kv/private_file.h"
#include "common/key.h"
#include "common/paths.h"

namespace kv::cli {
namespace {

constexpr const char* kCurrentKey = "current_profile";
constexpr const char* kProfilesKey = "profiles";

Status ReadFile(const std::string& path, std::string* out, bool* exists) {
  *exists = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
  }
  *exists = true;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::Ok();
}

Status ParseTable(const std::string& path, toml::table* table) {
  std::string text;
  bool exists = false;
  if (Status s = ReadFile(path, &text, &exists); !s.ok()) return s;
  if (!exists) {
    *table = toml::table{};
    return Status::Ok();
  }
  toml::parse_result result = toml::parse(text, path);
  if (!result) {
    const toml::parse_error& err = result.error();
    return Status::InvalidArgument(path + ":" + std::to_string(err.source().begin.line) + ": " +
                                   std::string(err.description()));
  }
  *table = std::move(result).table();
  return Status::Ok();
}

Status SaveTable(const std::string& path, const toml::table& table) {
  std::ostringstream text;
  text << "# kv's profiles (`kv profile add|use|rm` edit this file; it holds tokens: keep it "
          "0600).\n";
  text << table << "\n";
  // toml++ writes some strings back in a form it cannot read, or reads as
  // another string (fuzz_url found both, in multi-line strings holding
  // quotes): the file would turn unreadable, or a value would change. What
  // is written must read back as this very table; else refuse, change nothing.
  toml::parse_result check = toml::parse(text.str(), path);
  if (!check) {
    return Status::InvalidArgument(path + ": kv cannot write this file back (" +
                                   std::string(check.error().description()) +
                                   "); edit it by hand");
  }
  if (check.table() != table) {
    return Status::InvalidArgument(path +
                                   ": kv cannot write this file back unchanged (a string "
                                   "toml++ does not round-trip); edit it by hand");
  }
  return WritePrivateFile(path, text.str());
}

Status Field(const std::string& path, const toml::table& t, std::string_view profile,
             const char* name, std::string* out) {
  const toml::node* node = t.get(name);
  if (node == nullptr) return Status::Ok();
  const auto* str = node->as_string();
  if (str == nullptr) {
    return Status::InvalidArgument(path + ":" + std::to_string(node->source().begin.line) +
                                   ": profiles." + std::string(profile) + "." + name +
                                   " must be a string");
  }
  *out = str->get();
  return Status::Ok();
}

}  // namespace

const Profile* Config::Find(std::string_view name) const {
  for (const Profile& p : profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string DefaultConfigPath() { return paths::ConfigDir() + "/config.toml"; }

Result<Config> LoadConfig(const std::string& path) {
  toml::table table;
  if (Status s = ParseTable(path, &table); !s.ok()) return s;
  Config config;
  if (const toml::node* cur = table.get(kCurrentKey)) {
    if (!cur->is_string()) {
      return Status::InvalidArgument(path + ":" + std::to_string(cur->source().begin.line) + ": " +
                                     kCurrentKey + " must be a string");
    }
    config.current = cur->as_string()->get();
  }
  if (const toml::node* profiles = table.get(kProfilesKey)) {
    const toml::table* pt = profiles->as_table();
    if (pt == nullptr) {
      return Status::InvalidArgument(path + ":" + std::to_string(profiles->source().begin.line) +
                                     ": profiles must be a table");
    }
    for (const auto& [name, node] : *pt) {
      const toml::table* t = node.as_table();
      if (t == nullptr) {
        return Status::InvalidArgument(path + ":" + std::to_string(node.source().begin.line) +
                                       ": profiles." + std::string(name.str()) +
                                       " must be a table");
      }
      Profile p;
      p.name = std::string(name.str());
      for (auto [field, out] : {std::pair{"url", &p.url}, std::pair{"token", &p.token},
                                std::pair{"namespace", &p.ns}, std::pair{"app", &p.app}}) {
        if (Status s = Field(path, *t, p.name, field, out); !s.ok()) return s;
      }
      config.profiles.push_back(std::move(p));
    }
  }
  std::sort(config.profiles.begin(), config.profiles.end(),
            [](const Profile& a, const Profile& b) { return a.name < b.name; });
  return config;
}

Status SaveProfile(const std::string& path, const Profile& profile, bool make_current) {
  if (Status s = ValidateName(profile.name, "profile name"); !s.ok()) return s;
  toml::table table;
  if (Status s = ParseTable(path, &table); !s.ok()) return s;
  // Validates the rest of the file before changing it.
  if (Result<Config> c = LoadConfig(path); !c.ok()) return c.status();
  toml::table* profiles = table.get_as<toml::table>(kProfilesKey);
  if (profiles == nullptr) {
    table.insert_or_assign(kProfilesKey, toml::table{});
    profiles = table.get_as<toml::table>(kProfilesKey);
  }
  toml::table entry;
  if (const toml::table* old = profiles->get_as<toml::table>(profile.name)) entry = *old;
  auto set = [&entry](const char* name, const std::string& value) {
    if (value.empty()) {
      entry.erase(name);
    } else {
      entry.insert_or_assign(name, value);
    }
  };
  set("url", profile.url);
  set("token", profile.token);
  set("namespace", profile.ns);
  set("app", profile.app);
  profiles->insert_or_assign(profile.name, std::move(entry));
  if (make_current || profiles->size() == 1) table.insert_or_assign(kCurrentKey, profile.name);
  return SaveTable(path, table);
}

Status UseProfile(const std::string& path, std::string_view name) {
  Result<Config> config = LoadConfig(path);
  if (!config.ok()) return config.status();
  toml::table table;
  if (Status s = ParseTable(path, &table); !s.ok()) return s;
  if (name.empty()) {
    table.erase(kCurrentKey);
  } else {
    if (config->Find(name) == nullptr) {
      return Status::NotFound("no profile named " + std::string(name));
    }
    table.insert_or_assign(kCurrentKey, std::string(name));
  }
  return SaveTable(path, table);
}

Status RemoveProfile(const std::string& path, std::string_view name) {
  Result<Config> config = LoadConfig(path);
  if (!config.ok()) return config.status();
  if (config->Find(name) == nullptr) {
    return Status::NotFound("no profile named " + std::string(name));
  }
  toml::table table;
  if (Status s = ParseTable(path, &table); !s.ok()) return s;
  table.get_as<toml::table>(kProfilesKey)->erase(name);
  if (config->current == name) table.erase(kCurrentKey);
  return SaveTable(path, table);
}

}  // namespace kv::cli
