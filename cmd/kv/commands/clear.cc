// kv clear: delete every key of the namespace.
#include <string>

#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunClear(const ClearOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (!options.yes) {
    if (!ctx.io().stdin_tty) {
      return Status::InvalidArgument(
          "clear deletes every key of the namespace: add --yes when stdin is not a terminal");
    }
    Result<Settings> settings = ctx.settings();
    if (!settings.ok()) return settings.status();
    std::string question = "kv: delete every key of namespace " + settings->connect.scope.ns +
                           " (app " + settings->connect.scope.app + ")? [y/N] ";
    ctx.err() << question << std::flush;
    std::string answer;
    std::getline(ctx.in(), answer);
    if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES") {
      return Status::InvalidArgument("not confirmed; nothing deleted");
    }
  }
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<uint64_t> deleted = backend->Clear("");
  if (!deleted.ok()) return deleted.status();
  if (!ctx.printer().Cleared(*deleted)) {
    ctx.Note("deleted " + std::to_string(*deleted) + (*deleted == 1 ? " key" : " keys"));
  }
  return Status::Ok();
}

void AddClearCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ClearOptions>();
  CLI::App* cmd = app.add_subcommand("clear", "Delete every key of the namespace");
  cmd->add_flag("-y,--yes", opts->yes, "Do not ask (required when stdin is not a terminal)");
  cmd->footer(
      "Asks for confirmation on a terminal; without one, --yes is required (else exit 2).\n"
      "Says how many keys it deleted on stderr (unless -q). JSON: {\"deleted\":N}");
  OnRun(cmd, ctx, [opts, &ctx] { return RunClear(*opts, ctx); });
}

}  // namespace kv::cli
