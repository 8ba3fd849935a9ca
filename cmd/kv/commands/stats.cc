// kv stats: keys, bytes and quota per namespace.
#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunStats(const StatsOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<std::vector<client::NamespaceStats>> stats = backend->Stats(!options.current);
  if (!stats.ok()) return stats.status();
  std::vector<client::NamespaceStats> rows = std::move(*stats);
  if (options.current && rows.size() > 1) rows.resize(1);
  ctx.printer().Stats(rows);
  return Status::Ok();
}

void AddStatsCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<StatsOptions>();
  CLI::App* cmd = app.add_subcommand("stats", "Show keys, bytes and quota per namespace");
  cmd->add_flag("--current", opts->current, "Only the selected namespace (-n, --app)");
  cmd->footer(
      "Every namespace you can see (on the local socket: every tenant's), or --current.\n"
      "bytes counts keys plus values.\n"
      "JSON: one {\"tenant\",\"namespace\",\"app\",\"keys\",\"bytes\",\"quota_bytes\":N|null} "
      "per namespace.");
  OnRun(cmd, ctx, [opts, &ctx] { return RunStats(*opts, ctx); });
}

}  // namespace kv::cli
