// kv patch KEY [JSON|-]: JSON merge patch (RFC 7396), applied atomically.
#include "cmd/kv/commands/commands.h"
#include "common/json_flat.h"

namespace kv::cli {

Status RunPatch(const PatchOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  std::string patch;
  if (options.patch_given && options.patch != "-") {
    patch = options.patch;
  } else {
    if (ctx.io().stdin_tty) ctx.Note("reading the patch from stdin (end it with Ctrl-D)");
    Result<std::string> in = ReadAll(ctx.in());
    if (!in.ok()) return in.status();
    patch = std::move(*in);
  }
  if (json::NestsDeeperThan(patch, json::kMaxTreeDepth)) {
    return Status::InvalidArgument(json::TooDeep("the patch"));
  }
  if (!json::Valid(patch)) {
    return Status::InvalidArgument("the patch is not valid JSON");
  }
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<std::string> merged = backend->Patch(options.key, patch);
  if (!merged.ok()) return merged.status();
  ctx.printer().Document(options.key, *merged);
  return Status::Ok();
}

void AddPatchCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<PatchOptions>();
  CLI::App* cmd =
      app.add_subcommand("patch", "Apply a JSON merge patch (RFC 7396) to a key; print the result");
  cmd->add_option("key", opts->key, "The key (a missing key counts as {})")->required();
  auto* patch = cmd->add_option("patch", opts->patch, "The patch; omitted or - reads stdin");
  cmd->footer(
      "Atomic; keeps the TTL. null members delete. Exit 2 when the patch is not JSON, 5 when\n"
      "the stored value is not a JSON object.\nJSON: {\"key\",\"value\":<the merged document>}");
  OnRun(cmd, ctx, [opts, patch, &ctx] {
    opts->patch_given = patch->count() > 0;
    return RunPatch(*opts, ctx);
  });
}

}  // namespace kv::cli
