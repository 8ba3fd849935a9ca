// kv help [COMMAND...]: the help of kv or of one command.
#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunHelp(const CLI::App& root, const std::vector<std::string>& path, Context& ctx) {
  if (path.size() == 1 && (path[0] == "json" || path[0] == "output")) {
    ctx.out() << kJsonShapes << "\n";
    return Status::Ok();
  }
  const CLI::App* app = &root;
  std::string prefix;
  std::string asked;
  for (const std::string& name : path) {
    asked += asked.empty() ? name : " " + name;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->check_name(name)) next = sub;
    }
    if (next == nullptr) {
      return Status::InvalidArgument("no command " + asked + " (see kv help)");
    }
    prefix = prefix.empty() ? app->get_name() : prefix + " " + app->get_name();
    app = next;
  }
  // Through the formatter: App::help() would describe the command that was
  // selected on this line, which is `help` itself.
  std::string name = prefix.empty() ? app->get_name() : prefix + " " + app->get_name();
  ctx.out() << app->get_formatter()->make_help(app, name, CLI::AppFormatMode::Normal);
  return Status::Ok();
}

void AddHelpCommand(CLI::App& app, Context& ctx) {
  auto path = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("help", "Show the help of kv or of a command");
  cmd->add_option("command", *path, "A command, e.g. get, or token create; json: output shapes");
  cmd->footer(
      "kv help COMMAND [SUBCOMMAND]: e.g. kv help get, kv help token create.\n"
      "kv help json: every -o json shape.");
  CLI::App* root = &app;
  OnRun(cmd, ctx, [path, root, &ctx] { return RunHelp(*root, *path, ctx); });
}

}  // namespace kv::cli
