#include "cmd/kv/context.h"

#include <cstdlib>

#include "cmd/kv/config.h"
#include "cmd/kv/terminal_text.h"
#include "common/key.h"
#include "common/paths.h"
#include "common/units.h"

namespace kv::cli {

std::optional<std::string> ProcessEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Context::Context(Io io, BackendOpener opener, EnvLookup env)
    : io_(io), opener_(std::move(opener)), env_(std::move(env)) {}

void Context::Reset() {
  flags_ = GlobalFlags{};
  settings_.reset();
  printer_.reset();
  action_ = nullptr;
}

std::string Context::FirstOf(const std::string& flag, const char* env_name) const {
  if (!flag.empty()) return flag;
  return env_(env_name).value_or("");
}

std::string Context::ConfigPath() const {
  std::string explicit_path = env_("KV_CONFIG").value_or("");
  if (!explicit_path.empty()) return explicit_path;
  std::string xdg = env_("XDG_CONFIG_HOME").value_or("");
  if (!xdg.empty() && xdg[0] == '/') return xdg + "/kv/config.toml";
  std::string home = env_("HOME").value_or("");
  if (!home.empty()) return home + "/.config/kv/config.toml";
  return DefaultConfigPath();
}

Result<Settings> Context::settings() {
  if (settings_) return *settings_;
  Settings s;
  s.quiet = flags_.quiet;
  std::string url = FirstOf(flags_.url, "KV_URL");
  std::string explicit_profile = FirstOf(flags_.profile, "KV_PROFILE");

  Profile profile;
  bool have_profile = false;
  if (!explicit_profile.empty() || url.empty()) {
    Result<Config> config = LoadConfig(ConfigPath());
    if (!config.ok()) return config.status();
    std::string name = explicit_profile.empty() ? config->current : explicit_profile;
    if (!name.empty()) {
      const Profile* p = config->Find(name);
      if (p == nullptr) {
        return Status::InvalidArgument("no profile named " + name + " (see kv profile ls)");
      }
      profile = *p;
      have_profile = true;
      s.profile = name;
    }
  }

  client::ConnectOptions& c = s.connect;
  c.url = !url.empty() ? url : profile.url;
  c.token = FirstOf(flags_.token, "KV_TOKEN");
  // A profile's token goes only to the profile's own URL.
  if (c.token.empty() && have_profile && c.url == profile.url) c.token = profile.token;
  c.scope.ns = FirstOf(flags_.ns, "KV_NAMESPACE");
  if (c.scope.ns.empty()) c.scope.ns = profile.ns.empty() ? "default" : profile.ns;
  c.scope.app = FirstOf(flags_.app, "KV_APP");
  if (c.scope.app.empty()) c.scope.app = profile.app.empty() ? "default" : profile.app;
  if (Status st = ValidateName(c.scope.ns, "namespace"); !st.ok()) return st;
  if (Status st = ValidateName(c.scope.app, "app name"); !st.ok()) return st;

  std::string timeout = FirstOf(flags_.timeout, "KV_TIMEOUT");
  if (!timeout.empty()) {
    Result<int64_t> ms = ParseDurationMs(timeout);
    if (!ms.ok()) return Status::InvalidArgument("bad --timeout: " + ms.status().message());
    c.timeout_ms = *ms;
  }
  c.socket_path = FirstOf(flags_.socket, "KV_SOCKET");
  c.ca_file = FirstOf(flags_.cacert, "KV_CACERT");
  c.cert_file = FirstOf(flags_.cert, "KV_CERT");
  c.key_file = FirstOf(flags_.key, "KV_KEY");
  std::string user = FirstOf(flags_.user, "KV_USER");
  if (!user.empty()) {
    size_t colon = user.find(':');
    c.username = user.substr(0, colon);
    c.password = colon == std::string::npos ? env_("KV_PASSWORD").value_or("")
                                            : user.substr(colon + 1);
    if (c.username.empty()) return Status::InvalidArgument("--user takes NAME:PASSWORD");
  }
  std::string no_autostart = env_("KV_NO_AUTOSTART").value_or("");
  c.autostart = no_autostart.empty() || no_autostart == "0";
  settings_ = s;
  return s;
}

OutputMode Context::output_mode() const {
  OutputMode mode = io_.stdout_tty ? OutputMode::kTable : OutputMode::kRaw;
  if (!flags_.output.empty()) ParseOutputMode(flags_.output, &mode);
  return mode;
}

bool Context::color() const {
  if (!io_.stdout_tty) return false;
  if (!env_("NO_COLOR").value_or("").empty()) return false;
  return env_("TERM").value_or("") != "dumb";
}

Printer& Context::printer() {
  if (!printer_) {
    printer_ = printer_factory_ ? printer_factory_(output_mode(), *io_.out, color())
                                : MakePrinter(output_mode(), *io_.out, color());
  }
  return *printer_;
}

namespace {

bool SameConnection(const client::ConnectOptions& a, const client::ConnectOptions& b) {
  return a.url == b.url && a.token == b.token && a.timeout_ms == b.timeout_ms &&
         a.autostart == b.autostart && a.socket_path == b.socket_path && a.kvd_path == b.kvd_path &&
         a.ca_file == b.ca_file && a.cert_file == b.cert_file && a.key_file == b.key_file &&
         a.username == b.username && a.password == b.password;
}

}  // namespace

Result<client::Backend*> Context::backend() {
  Result<Settings> s = settings();
  if (!s.ok()) return s.status();
  if (backend_ && SameConnection(backend_options_, s->connect)) {
    const client::Scope& scope = backend_->scope();
    if (scope.ns != s->connect.scope.ns || scope.app != s->connect.scope.app) {
      backend_->SetScope(s->connect.scope);
    }
    return backend_.get();
  }
  backend_.reset();
  Result<std::unique_ptr<client::Backend>> opened = opener_(s->connect);
  if (!opened.ok()) return opened.status();
  backend_ = std::move(*opened);
  backend_options_ = s->connect;
  return backend_.get();
}

Result<std::unique_ptr<client::Backend>> Context::OpenAnotherBackend() {
  Result<Settings> s = settings();
  if (!s.ok()) return s.status();
  return opener_(s->connect);
}

void Context::PrintError(std::string_view message) {
  if (message.empty()) return;
  // One line, and no control character from a key or a server's answer
  // reaches the terminal.
  std::string line = "kv: " + EscapeControls(message) + "\n";
  err().write(line.data(), static_cast<std::streamsize>(line.size()));
  err().flush();
}

void Context::Note(std::string_view message) {
  if (!flags_.quiet) PrintError(message);
}

std::function<Status()> Context::TakeAction() {
  std::function<Status()> action = std::move(action_);
  action_ = nullptr;
  return action;
}

Result<std::string> ReadAll(std::istream& in) {
  std::string data;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    data.append(buf, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Status::IOError("cannot read stdin");
  in.clear();
  return data;
}

}  // namespace kv::cli
