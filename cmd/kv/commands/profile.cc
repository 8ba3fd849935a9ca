// kv profile add|ls|use|rm: named connection settings in the config file
// (cmd/kv/config.h).
#include "cmd/kv/commands/commands.h"
#include "cmd/kv/config.h"

namespace kv::cli {

Status RunProfileAdd(const ProfileOptions& options, Context& ctx) {
  const GlobalFlags& flags = ctx.flags();
  Profile profile;
  profile.name = options.name;
  profile.url = flags.url;
  // KV_TOKEN too, so that a token never has to be on a command line (ps).
  profile.token = !flags.token.empty() ? flags.token : ctx.Getenv("KV_TOKEN").value_or("");
  profile.ns = flags.ns;
  profile.app = flags.app;
  std::string path = ctx.ConfigPath();
  if (Status s = SaveProfile(path, profile, options.use); !s.ok()) return s;
  ctx.Note("saved profile " + options.name + " in " + path);
  return Status::Ok();
}

Status RunProfileList(const ProfileOptions&, Context& ctx) {
  Result<Config> config = LoadConfig(ctx.ConfigPath());
  if (!config.ok()) return config.status();
  std::vector<ProfileRow> rows;
  for (const Profile& p : config->profiles) rows.push_back({p, p.name == config->current});
  ctx.printer().Profiles(rows);
  return Status::Ok();
}

Status RunProfileUse(const ProfileOptions& options, Context& ctx) {
  return UseProfile(ctx.ConfigPath(), options.name);
}

Status RunProfileRemove(const ProfileOptions& options, Context& ctx) {
  return RemoveProfile(ctx.ConfigPath(), options.name);
}

void AddProfileCommand(CLI::App& app, Context& ctx) {
  CLI::App* profile = app.add_subcommand(
      "profile", "Manage profiles: named URL, token, namespace and app (config.toml)");
  profile->require_subcommand(1);
  {
    auto opts = std::make_shared<ProfileOptions>();
    CLI::App* cmd = profile->add_subcommand(
        "add",
        "Save a profile from --url, --token (or KV_TOKEN), -n and --app (replaces one of that "
        "name)");
    cmd->add_option("name", opts->name, "The profile's name")->required();
    cmd->add_flag("--use", opts->use, "Make it the current profile");
    cmd->footer(
        "Example: KV_TOKEN=kv_... kv profile add prod --url http://10.0.0.5:7379 -n shop --use\n"
        "(a token in KV_TOKEN stays out of ps; --token works too).\n"
        "The file ($XDG_CONFIG_HOME/kv/config.toml, or KV_CONFIG) is written with mode 0600.\n"
        "The first profile added becomes the current one.");
    OnRun(cmd, ctx, [opts, &ctx] { return RunProfileAdd(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<ProfileOptions>();
    CLI::App* cmd = profile->add_subcommand("ls", "List profiles (* marks the current one)");
    cmd->alias("list");
    cmd->footer(
        "JSON: one {\"name\",\"url\",\"namespace\",\"app\",\"has_token\",\"current\"} per "
        "profile.");
    OnRun(cmd, ctx, [opts, &ctx] { return RunProfileList(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<ProfileOptions>();
    CLI::App* cmd = profile->add_subcommand("use", "Make a profile the current one");
    cmd->add_option("name", opts->name, "The profile's name (\"\" for none)")->required();
    cmd->footer("Exit 1 when there is no such profile.");
    OnRun(cmd, ctx, [opts, &ctx] { return RunProfileUse(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<ProfileOptions>();
    CLI::App* cmd = profile->add_subcommand("rm", "Remove a profile");
    cmd->alias("remove");
    cmd->add_option("name", opts->name, "The profile's name")->required();
    cmd->footer("Exit 1 when there is no such profile.");
    OnRun(cmd, ctx, [opts, &ctx] { return RunProfileRemove(*opts, ctx); });
  }
}

}  // namespace kv::cli
