// kv ui: opens kvd's admin panel in a browser, already signed in. kv asks kvd
// for a one-time login code (POST /ui/api/login-codes, as the caller's
// tenant) for http://HOST:PORT/ui/#login=CODE; the page trades the code for
// a session and drops it from the address bar. The browser is not given that
// URL: a command line is readable by every user of the machine (ps), and
// whoever reads the code first is signed in. kv writes a page that forwards
// to it, mode 0600 in its state directory, and opens that file. When no browser can
// be opened (no DISPLAY or WAYLAND_DISPLAY, --no-browser, or the browser
// command fails) kv prints the URL instead, for the person to open where
// they are. The panel is served on kvd's TCP listener only (browsers do not
// speak to Unix sockets), so a local kvd must run with --listen.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>

#include "cmd/kv/commands/commands.h"
#include "common/json_text.h"
#include "cmd/kv/private_file.h"
#include "client/http_client.h"
#include "common/paths.h"

extern char** environ;

namespace kv::cli {
namespace {

// The panel's URL on the kvd that `url` (kv's --url) names, when it is a
// kvd over HTTP; empty for the local kvd (kvd then tells its own address).
std::string PanelBase(const std::string& url) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) return "";
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/ui/";
}

// Runs `browser URL` and waits for it (xdg-open returns once the browser has
// it; a terminal browser runs in the foreground). True when it exited 0.
bool OpenBrowser(const std::string& browser, const std::string& url) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args = {browser, url};
  std::vector<char*> argv = {args[0].data(), args[1].data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, browser.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// `s` with the characters HTML gives a meaning to escaped.
std::string HtmlEscaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// file://PATH, each of the path's segments percent-encoded.
std::string FileUrl(std::string_view path) {
  std::string url = "file://";
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    url += client::PercentEncode(path.substr(start, slash - start));
    if (slash == std::string_view::npos) return url;
    url += '/';
    start = slash + 1;
  }
}

// Writes the page that sends a browser on to `url` (which holds the one-time
// code) and returns its file:// URL. The page is replaced on each run; once
// used, or after 5 minutes, the code in it is worth nothing.
Result<std::string> WriteSignInPage(const std::string& url) {
  std::string script_url;
  AppendJsonString(script_url, url);
  // "</script>" cannot end the script early: '<' only appears escaped.
  for (size_t at; (at = script_url.find('<')) != std::string::npos;) {
    script_url.replace(at, 1, "\\u003c");
  }
  std::string page =
      "<!doctype html>\n<meta charset=\"utf-8\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
      "<title>kv admin panel</title>\n<script>location.replace(" + script_url + ");</script>\n"
      "<p><a href=\"" + HtmlEscaped(url) + "\">Open the kv admin panel</a></p>\n";
  const std::string path = paths::StateDir() + "/ui-sign-in.html";
  if (Status s = WritePrivateFile(path, page); !s.ok()) return s;
  return FileUrl(path);
}

int64_t MinutesUntil(int64_t ms) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return std::max<int64_t>(1, (ms - now + 59'999) / 60'000);
}

}  // namespace

Status RunUi(const UiOptions& options, Context& ctx) {
  Result<Settings> settings = ctx.settings();
  if (!settings.ok()) return settings.status();
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::UiLogin> login = backend->CreateUiLogin();
  if (!login.ok()) return Prefixed(login.status(), "ui: ");

  std::string url;
  if (std::string base = PanelBase(settings->connect.url); !base.empty()) {
    url = base + "#login=" + login->code;
  } else if (!login->url.empty()) {
    url = login->url;
  } else {
    return Status::Unsupported(
        "ui: this kvd listens on its Unix socket only, and the admin panel is served over TCP: "
        "restart it with --listen (e.g. kvd --listen 127.0.0.1:7379, or KVD_LISTEN=127.0.0.1:7379 "
        "kv daemon restart)");
  }

  bool graphical = ctx.Getenv("DISPLAY").value_or("") != "" ||
                   ctx.Getenv("WAYLAND_DISPLAY").value_or("") != "";
  std::string browser = ctx.Getenv("BROWSER").value_or("");
  if (browser.empty()) browser = "xdg-open";
  bool opened = false;
  if (!options.no_browser && graphical) {
    Result<std::string> page = WriteSignInPage(url);
    if (page.ok()) {
      opened = OpenBrowser(browser, *page);
    } else {
      // The URL is printed instead, as when there is no browser.
      ctx.Note("ui: no browser opened: " + page.status().message());
    }
  }

  if (ctx.output_mode() == OutputMode::kJson) {
    JsonObject o;
    o.Str("url", url).Str("tenant", login->tenant).Int("expires_ms", login->expires_ms);
    o.Bool("opened", opened);
    ctx.out() << o.Done() << '\n';
  } else if (!opened) {
    ctx.out() << url << '\n';
  }
  if (opened) {
    ctx.Note("opened the admin panel in a browser, signed in as tenant " + login->tenant);
  } else {
    ctx.Note("open this URL in a browser to sign in as tenant " + login->tenant +
             "; it works once, within " + std::to_string(MinutesUntil(login->expires_ms)) +
             " minutes");
  }
  return Status::Ok();
}

void AddUiCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<UiOptions>();
  CLI::App* cmd = app.add_subcommand("ui", "Open kvd's admin panel in a browser, signed in");
  cmd->add_flag("--no-browser", opts->no_browser, "Print the sign-in URL instead of opening it");
  cmd->footer(
      "The panel is served by kvd at /ui on its TCP listener (kvd --listen): namespaces,\n"
      "keys, values, edits, TTLs, import and export, updated live. kv opens $BROWSER (else\n"
      "xdg-open) when there is a display, on a page in its state directory (mode 0600) that\n"
      "forwards to the URL, so the code is never on a command line; otherwise, or with\n"
      "--no-browser, it prints the URL,\n"
      "whose one-time sign-in works once, within 5 minutes. With --url http://HOST:PORT and\n"
      "a token, the panel of that kvd signs in as the token's tenant.\n"
      "raw: the URL (when not opened). JSON: {\"url\",\"tenant\",\"expires_ms\",\"opened\"}");
  OnRun(cmd, ctx, [opts, &ctx] { return RunUi(*opts, ctx); });
}

}  // namespace kv::cli
