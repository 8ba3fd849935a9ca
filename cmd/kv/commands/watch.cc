// kv watch [PREFIX]: changes as they happen, one line each.
#include <charconv>

#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunWatch(const WatchOptions& options, Context& ctx) {
  client::WatchRequest request;
  request.prefix = options.prefix;
  request.follow = !options.no_follow;
  if (!options.since.empty()) {
    uint64_t since = 0;
    const char* end = options.since.data() + options.since.size();
    auto [ptr, ec] = std::from_chars(options.since.data(), end, since);
    if (ec != std::errc() || ptr != end) {
      return Status::InvalidArgument("bad --since " + options.since + ": expected a revision");
    }
    request.since = since;
  }
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Printer& printer = ctx.printer();
  std::ostream& out = ctx.out();
  Status s = backend->Watch(request, [&](const client::Event& event) {
    printer.Event(event);
    return static_cast<bool>(out);
  });
  if (s.IsOutOfRange() && request.since) {
    return Status::OutOfRange("revision " + options.since +
                              " is older than the events the backend keeps (" + s.message() +
                              ")");
  }
  return s;
}

void AddWatchCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<WatchOptions>();
  CLI::App* cmd = app.add_subcommand("watch", "Print changes as they happen (NDJSON)");
  cmd->add_option("prefix", opts->prefix, "Only keys that start with PREFIX");
  cmd->add_option("--since", opts->since,
                  "First replay the changes after revision REV (kv meta shows revisions)");
  cmd->add_flag("--no-follow", opts->no_follow, "Stop after the replay instead of waiting");
  cmd->footer(
      "One JSON object per change and line, flushed at once (on a terminal: a readable line):\n"
      "  {\"revision\",\"type\":\"create|update|delete|expire\",\"key\",\"namespace\",\"app\","
      "\"time_ms\",\"size\",\n"
      "   \"content_type\",\"expire_at_ms\":N|null[,\"value\",\"encoding\":\"json|text|base64\"]}\n"
      "When kvd stops or restarts, the watch resumes after the last change it printed; once\n"
      "kvd has been gone for --timeout (10s) it exits 4, saying the --since to resume with.\n"
      "Exit 5 when --since is older than the events the backend keeps.");
  OnRun(cmd, ctx, [opts, &ctx] { return RunWatch(*opts, ctx); });
}

}  // namespace kv::cli
