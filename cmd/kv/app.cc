#include "cmd/kv/app.h"

#include <algorithm>
#include <functional>

#include "cmd/kv/commands/commands.h"
#include "cmd/kv/exit_codes.h"
#include "common/units.h"

namespace kv::cli {
namespace {

constexpr const char* kDescription =
    "A key-value store for people who live in a shell.\n"
    "With no --url it talks to the local kvd (started on demand).";

constexpr const char* kFooter =
    "Environment: KV_URL, KV_NAMESPACE, KV_APP, KV_TOKEN, KV_PROFILE, KV_TIMEOUT, KV_SOCKET,\n"
    "KV_CACERT, KV_CERT, KV_KEY and KV_USER stand in for their flags; KV_NO_AUTOSTART=1 never\n"
    "starts kvd (exit 4 instead); KV_CONFIG names the config file (default\n"
    "$XDG_CONFIG_HOME/kv/config.toml); NO_COLOR turns colour off.\n"
    "Exit codes: 0 done (has: exists), 1 not found, 2 usage (bad command, flag, duration or\n"
    "JSON), 3 precondition failed, 4 backend unreachable or timed out, 5 refused by the "
    "backend.\n"
    "Output: -o raw (default when stdout is not a terminal), table (on a terminal) or json\n"
    "(shapes: kv help json). Data goes to stdout, messages to stderr.";

void AddGlobalFlags(CLI::App& app, Context& ctx) {
  GlobalFlags& f = ctx.flags();
  const char* group = "Global options";
  app.add_option("--url", f.url,
                 "Backend URL: unix:///path/kvd.sock, http://127.0.0.1:7379, keyvalue.dev, "
                 "etcd://h:2379, invoke+https://... (env KV_URL; default: the local kvd)")
      ->type_name("URL")
      ->group(group);
  app.add_option("-n,--namespace", f.ns, "Namespace (env KV_NAMESPACE; default: default)")
      ->type_name("NS")
      ->group(group);
  app.add_option("--app", f.app, "App name within the namespace (env KV_APP; default: default)")
      ->type_name("APP")
      ->group(group);
  app.add_option("--token", f.token, "Bearer token (env KV_TOKEN)")
      ->type_name("TOKEN")
      ->group(group);
  app.add_option("-p,--profile", f.profile, "Profile from the config file (env KV_PROFILE)")
      ->type_name("NAME")
      ->group(group);
  app.add_option("-o,--output", f.output,
                 "raw, table or json (default: table on a terminal, else raw)")
      ->check(CLI::IsMember({"raw", "table", "json"}))
      ->type_name("FORMAT")
      ->group(group);
  app.add_option("--timeout", f.timeout, "Per-request timeout, e.g. 2s (env KV_TIMEOUT; default 10s)")
      ->check(CLI::Validator(
          [](std::string& text) {
            Result<int64_t> ms = ParseDurationMs(text);
            return ms.ok() ? std::string() : ms.status().message();
          },
          "", "duration"))
      ->type_name("DURATION")
      ->group(group);
  app.add_option("--socket", f.socket,
                 "The local kvd's socket (env KV_SOCKET; default $XDG_RUNTIME_DIR/kv/kvd.sock)")
      ->type_name("PATH")
      ->group(group);
  app.add_option("--cacert", f.cacert,
                 "CA certificates (PEM) that verify a remote server (env KV_CACERT)")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--cert", f.cert, "Client certificate (PEM) for a remote server (env KV_CERT)")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--key", f.key, "The client certificate's key (PEM) (env KV_KEY)")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--user", f.user, "etcd user and password (env KV_USER)")
      ->type_name("NAME:PASSWORD")
      ->group(group);
  app.add_flag("-q,--quiet", f.quiet, "No informational messages on stderr (errors still)")
      ->group(group);
}

std::string OneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& ch : text) {
    if (ch == '\n') ch = ' ';
  }
  return text;
}

int Execute(Context& ctx, const std::function<void(CLI::App&)>& parse) {
  std::unique_ptr<CLI::App> app = BuildApp(ctx);
  try {
    parse(*app);
  } catch (const CLI::CallForHelp&) {
    ctx.out() << app->help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    ctx.out() << app->help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    ctx.out() << e.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    ctx.PrintError(OneLine(e.what()) + " (see kv help)");
    return kExitUsage;
  }
  std::function<Status()> action = ctx.TakeAction();
  if (!action) {
    // No command: the help, on stderr since it is not what was asked for.
    ctx.err() << app->help();
    return kExitUsage;
  }
  Status status;
  try {
    status = action();
  } catch (const std::exception& e) {
    // Commands report through Status; this keeps a REPL alive regardless.
    ctx.out().flush();
    ctx.PrintError(std::string("unexpected error: ") + e.what());
    return kExitNotFound;
  }
  ctx.out().flush();
  if (status.ok()) return kExitOk;
  ctx.PrintError(status.message());
  return ExitCodeFor(status);
}

}  // namespace

std::unique_ptr<CLI::App> BuildApp(Context& ctx) {
  ctx.Reset();
  auto app = std::make_unique<CLI::App>(kDescription, "kv");
  app->fallthrough();  // global flags work after the command too: kv get k -o json
  // At most one command per line. This also stops CLI11 from reading a later
  // word that names a command (kv set k ls) as a second command.
  app->require_subcommand(0, 1);
  app->set_version_flag("--version", std::string("kv ") + KvVersion());
  app->footer(kFooter);
  app->get_formatter()->column_width(26);
  AddGlobalFlags(*app, ctx);

  // Every command, in the order `kv --help` lists them.
  AddGetCommands(*app, ctx);    // get, has, meta
  AddSetCommand(*app, ctx);     // set
  AddDelCommand(*app, ctx);     // del
  AddLsCommand(*app, ctx);      // ls
  AddTtlCommands(*app, ctx);    // ttl, expire, persist
  AddIncrCommands(*app, ctx);   // incr, decr
  AddPatchCommand(*app, ctx);   // patch
  AddClearCommand(*app, ctx);   // clear
  AddExportCommand(*app, ctx);  // export
  AddImportCommand(*app, ctx);  // import
  AddWatchCommand(*app, ctx);   // watch
  AddStatsCommand(*app, ctx);   // stats
  AddTokenCommand(*app, ctx);   // token create|ls|revoke
  AddWebhookCommand(*app, ctx); // webhook add|ls|get|update|rm
  AddDaemonCommand(*app, ctx);  // daemon start|stop|status|restart|logs
  AddProfileCommand(*app, ctx); // profile add|ls|use|rm
  AddShellCommand(*app, ctx);   // shell
  AddCompletionCommand(*app, ctx);  // completion bash|zsh|fish
  AddUiCommand(*app, ctx);      // ui
  AddVersionCommand(*app, ctx); // version
  AddHelpCommand(*app, ctx);    // help
  return app;
}

int RunArgv(Context& ctx, int argc, const char* const* argv) {
  return Execute(ctx, [argc, argv](CLI::App& app) { app.parse(argc, argv); });
}

int RunLine(Context& ctx, const std::string& line) {
  return Execute(ctx, [&line](CLI::App& app) { app.parse(line, /*program_name_included=*/false); });
}

int RunWords(Context& ctx, std::vector<std::string> words, const GlobalFlags& defaults) {
  std::reverse(words.begin(), words.end());  // CLI11 takes them last first
  return Execute(ctx, [&](CLI::App& app) {
    ctx.flags() = defaults;  // after BuildApp's Reset; options given below override
    app.parse(words);
  });
}

}  // namespace kv::cli
