// kv version (and kv --version).
#include "cmd/kv/commands/commands.h"

#ifndef KV_VERSION
#define KV_VERSION "unknown"
#endif

namespace kv::cli {

const char* KvVersion() { return KV_VERSION; }

Status RunVersion(Context& ctx) {
  ctx.printer().Version(KvVersion());
  return Status::Ok();
}

void AddVersionCommand(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("version", "Print kv's version");
  cmd->footer("JSON: {\"version\"}");
  OnRun(cmd, ctx, [&ctx] { return RunVersion(ctx); });
}

}  // namespace kv::cli
