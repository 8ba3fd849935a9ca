// kv incr KEY [BY], kv decr KEY [BY]: atomic counters.
#include <charconv>
#include <limits>

#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunIncr(const IncrOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  int64_t by = 1;
  if (!options.by.empty()) {
    const char* begin = options.by.data();
    const char* end = begin + options.by.size();
    if (*begin == '+') ++begin;
    auto [ptr, ec] = std::from_chars(begin, end, by);
    if (ec != std::errc() || ptr != end || begin == end) {
      return Status::InvalidArgument("bad amount: " + options.by +
                                     " (expected a 64-bit integer)");
    }
  }
  if (options.decrement) {
    if (by == std::numeric_limits<int64_t>::min()) {
      return Status::InvalidArgument("bad amount: " + options.by);
    }
    by = -by;
  }
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<std::string> value = backend->Incr(options.key, by);
  if (!value.ok()) return value.status();
  std::string text = *value;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  ctx.printer().Counter(options.key, text);
  return Status::Ok();
}

void AddIncrCommands(CLI::App& app, Context& ctx) {
  for (bool decrement : {false, true}) {
    auto opts = std::make_shared<IncrOptions>();
    opts->decrement = decrement;
    CLI::App* cmd = app.add_subcommand(
        decrement ? "decr" : "incr",
        decrement ? "Subtract from an integer value atomically; print the new value"
                  : "Add to an integer value atomically; print the new value");
    cmd->add_option("key", opts->key, "The key (a missing key counts as 0)")->required();
    cmd->add_option("by", opts->by, "The amount (default: 1)");
    cmd->footer(
        "Keeps the key's TTL. Refused (exit 5) when the value is not a 64-bit integer or the\n"
        "result would overflow.\nJSON: {\"key\",\"value\":N}");
    OnRun(cmd, ctx, [opts, &ctx] { return RunIncr(*opts, ctx); });
  }
}

}  // namespace kv::cli
