// The kv commands, one file per family under cmd/kv/commands/. Each file
// exports Add*Commands(app, ctx), which declares the subcommands, their flags
// and help, and Run* functions that do the work from an options struct and
// the Context, with no CLI11 in sight (tests call them directly).
//
// A Run* function returns the Status that decides kv's exit code
// (exit_codes.h). A Status with an empty message means "already reported, or
// nothing to say" (`kv has` on a missing key exits 1 silently).
//
// app.cc's BuildApp is the only place that calls the Add* functions.
// Thread-safety: none; a command runs on the Context's thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/kv/context.h"
#include "common/status.h"

namespace kv::cli {

// Registers `run` as what `command` does once the command line is parsed.
void OnRun(CLI::App* command, Context& ctx, std::function<Status()> run);

// get.cc: get, has, meta
struct GetOptions {
  std::vector<std::string> keys;  // one or more
};
struct KeyOptions {
  std::string key;
};
void AddGetCommands(CLI::App& app, Context& ctx);
Status RunGet(const GetOptions& options, Context& ctx);
Status RunHas(const KeyOptions& options, Context& ctx);
Status RunMeta(const KeyOptions& options, Context& ctx);

// set.cc
struct SetOptions {
  std::string key;
  std::string value;
  bool value_given = false;  // else stdin; "-" also means stdin
  std::string ttl;
  bool keep_ttl = false;
  std::string if_match;
  bool if_absent = false;
  bool if_exists = false;
  std::string content_type;  // empty: JSON when it parses, else octet-stream
};
void AddSetCommand(CLI::App& app, Context& ctx);
Status RunSet(const SetOptions& options, Context& ctx);
// application/json when `value` parses as JSON, else application/octet-stream.
std::string DefaultContentType(std::string_view value);

// del.cc
struct DelOptions {
  std::vector<std::string> keys;
  std::string if_match;
  std::string prefix;  // --prefix: every key under it instead of `keys`
  bool prefix_given = false;
};
void AddDelCommand(CLI::App& app, Context& ctx);
Status RunDel(const DelOptions& options, Context& ctx);

// ls.cc
struct LsOptions {
  std::string prefix;
  size_t limit = 0;  // 0: every key, page after page
  std::string cursor;
  bool values = false;
  std::vector<std::string> where;  // PATH=VALUE
};
void AddLsCommand(CLI::App& app, Context& ctx);
Status RunLs(const LsOptions& options, Context& ctx);

// ttl.cc: ttl, expire, persist
struct TtlOptions {
  std::string key;
  std::string duration;  // expire only
};
void AddTtlCommands(CLI::App& app, Context& ctx);
Status RunTtl(const TtlOptions& options, Context& ctx);
Status RunExpire(const TtlOptions& options, Context& ctx);
Status RunPersist(const TtlOptions& options, Context& ctx);

// incr.cc: incr, decr
struct IncrOptions {
  std::string key;
  std::string by;  // empty: 1
  bool decrement = false;
};
void AddIncrCommands(CLI::App& app, Context& ctx);
Status RunIncr(const IncrOptions& options, Context& ctx);

// patch.cc
struct PatchOptions {
  std::string key;
  std::string patch;
  bool patch_given = false;  // else stdin; "-" also means stdin
};
void AddPatchCommand(CLI::App& app, Context& ctx);
Status RunPatch(const PatchOptions& options, Context& ctx);

// clear.cc
struct ClearOptions {
  bool yes = false;
};
void AddClearCommand(CLI::App& app, Context& ctx);
Status RunClear(const ClearOptions& options, Context& ctx);

// export.cc
struct ExportOptions {
  std::string prefix;
};
void AddExportCommand(CLI::App& app, Context& ctx);
Status RunExport(const ExportOptions& options, Context& ctx);

// import.cc
struct ImportOptions {
  bool if_absent = false;
  std::string format = "auto";  // auto | ndjson | object
  int jobs = 0;                 // parallel connections; 0: as suits the backend
};
void AddImportCommand(CLI::App& app, Context& ctx);
Status RunImport(const ImportOptions& options, Context& ctx);

// One record of kv's NDJSON format, decoded.
struct ImportRecord {
  std::string key;
  std::string value;
  std::string content_type;
  int64_t ttl_ms = 0;  // 0: none
  bool expired = false;  // "ttl_ms":0 — nothing to import
};
// Decodes one NDJSON line. InvalidArgument with the reason (no line number).
Status ParseImportLine(std::string_view line, ImportRecord* record);

// watch.cc
struct WatchOptions {
  std::string prefix;
  std::string since;  // empty: only new changes
  bool no_follow = false;
};
void AddWatchCommand(CLI::App& app, Context& ctx);
Status RunWatch(const WatchOptions& options, Context& ctx);

// stats.cc
struct StatsOptions {
  bool current = false;  // only the selected namespace
};
void AddStatsCommand(CLI::App& app, Context& ctx);
Status RunStats(const StatsOptions& options, Context& ctx);

// token.cc: token create|ls|revoke
struct TokenOptions {
  std::string tenant;  // create
  std::string id;      // revoke
};
void AddTokenCommand(CLI::App& app, Context& ctx);
Status RunTokenCreate(const TokenOptions& options, Context& ctx);
Status RunTokenList(const TokenOptions& options, Context& ctx);
Status RunTokenRevoke(const TokenOptions& options, Context& ctx);

// webhook.cc: webhook add|ls|get|update|rm
struct WebhookOptions {
  std::string id;                // get, update
  std::vector<std::string> ids;  // rm
  std::string prefix;            // ls
  // add, update; for update an empty field (or no --header) means unchanged.
  std::string key;
  std::string endpoint;
  std::string event;
  std::string method;
  std::vector<std::string> headers;  // "Name: value"
  std::string payload;               // a JSON object
  bool event_data = false;
  bool no_event_data = false;
};
void AddWebhookCommand(CLI::App& app, Context& ctx);
Status RunWebhookAdd(const WebhookOptions& options, Context& ctx);
Status RunWebhookList(const WebhookOptions& options, Context& ctx);
Status RunWebhookGet(const WebhookOptions& options, Context& ctx);
Status RunWebhookUpdate(const WebhookOptions& options, Context& ctx);
Status RunWebhookRemove(const WebhookOptions& options, Context& ctx);

// daemon.cc: daemon start|stop|status|restart|logs
struct DaemonOptions {
  size_t lines = 50;    // logs: the last N lines; 0: all
  bool follow = false;  // logs: keep printing what is appended
  std::string dir;      // backup: the new directory
};
void AddDaemonCommand(CLI::App& app, Context& ctx);
Status RunDaemonStart(const DaemonOptions& options, Context& ctx);
Status RunDaemonStop(const DaemonOptions& options, Context& ctx);
Status RunDaemonStatus(const DaemonOptions& options, Context& ctx);
Status RunDaemonRestart(const DaemonOptions& options, Context& ctx);
Status RunDaemonLogs(const DaemonOptions& options, Context& ctx);
Status RunDaemonBackup(const DaemonOptions& options, Context& ctx);

// profile.cc: profile add|ls|use|rm
struct ProfileOptions {
  std::string name;
  bool use = false;  // add: make it current
};
void AddProfileCommand(CLI::App& app, Context& ctx);
Status RunProfileAdd(const ProfileOptions& options, Context& ctx);
Status RunProfileList(const ProfileOptions& options, Context& ctx);
Status RunProfileUse(const ProfileOptions& options, Context& ctx);
Status RunProfileRemove(const ProfileOptions& options, Context& ctx);

// ui.cc: kv ui (kvd's admin panel)
struct UiOptions {
  bool no_browser = false;  // print the URL even when a browser could open it
};
void AddUiCommand(CLI::App& app, Context& ctx);
Status RunUi(const UiOptions& options, Context& ctx);

// version.cc
void AddVersionCommand(CLI::App& app, Context& ctx);
Status RunVersion(Context& ctx);
// "0.1.0": the project version kv was built from.
const char* KvVersion();

// help.cc: help [COMMAND...]
void AddHelpCommand(CLI::App& app, Context& ctx);
// Prints the help of `path` (e.g. {"token", "create"}) in `root`'s tree, or
// the root's when empty, or kJsonShapes for {"json"}. InvalidArgument: no
// such command.
Status RunHelp(const CLI::App& root, const std::vector<std::string>& path, Context& ctx);

// shell.cc: kv shell [--keep-going] (the REPL; shell/repl.h)
void AddShellCommand(CLI::App& app, Context& ctx);

// completion.cc: kv completion bash|zsh|fish, and kv __complete.
void AddCompletionCommand(CLI::App& app, Context& ctx);
// `kv __complete WORD... PARTIAL`, what the completion scripts run on Tab:
// `words` are the words after `kv` on the line being completed, the last
// one the (maybe empty) word under the cursor. Prints "words" and the
// candidates, one per line, or "files" when a file name is wanted. Always
// exits 0: a Tab shows nothing rather than an error.
int RunCompleteRequest(Context& ctx, std::vector<std::string> words);
// The environment for `kv __complete`: the process's, but kvd is never
// started (KV_NO_AUTOSTART) and the backend gets at most 2s (KV_TIMEOUT).
std::optional<std::string> CompletionEnv(const char* name);

// Shared by the commands (get.cc).
// InvalidArgument for an empty key.
Status CheckKey(const std::string& key);
// Sets *backend to the context's backend, or returns why there is none.
Status GetBackend(Context& ctx, client::Backend** backend);
// `status` with `prefix` put before its message; same code.
Status Prefixed(const Status& status, const std::string& prefix);
// A key in messages: itself, or with its bytes escaped when it holds control
// characters.
std::string QuoteKey(std::string_view key);

}  // namespace kv::cli
