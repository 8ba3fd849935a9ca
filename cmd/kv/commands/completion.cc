// kv completion bash|zsh|fish: prints that shell's completion script (the
// files of completions/, built into kv), so `source <(kv completion bash)`
// works without installing anything.
//
// The scripts ask kv for their candidates: `kv __complete WORD... PARTIAL`
// (RunCompleteRequest, called from main.cc before the command tree, since
// its words are another command line's and must not be parsed as kv's) is
// answered by the REPL's completion (ReplAdapter::Complete), which walks
// this same command tree. So the scripts name no command or flag, and cannot
// fall out of step with the tree; tests/completions checks what each real
// shell offers against `kv help`.
#include <cstring>

#include "cmd/kv/commands/commands.h"
#include "cmd/kv/completion_scripts.h"
#include "cmd/kv/exit_codes.h"
#include "cmd/kv/repl_adapter.h"
#include "common/units.h"

namespace kv::cli {
namespace {

// Tab must never stall the shell for long.
constexpr int64_t kMaxCompletionTimeoutMs = 2000;
constexpr const char* kMaxCompletionTimeout = "2s";

constexpr const char* kCompletionFooter =
    "bash (with bash-completion):  source <(kv completion bash)\n"
    "zsh (after compinit):         source <(kv completion zsh)\n"
    "fish:                         kv completion fish | source\n"
    "Put the line in ~/.bashrc, ~/.zshrc or ~/.config/fish/config.fish to keep it; an\n"
    "installed kv (cmake --install, the .deb) needs none of this: its scripts sit where\n"
    "bash-completion, zsh and fish look. Tab completes commands, flags, -o formats,\n"
    "profiles, namespaces and key names (by prefix, at most 100, asking the backend for\n"
    "at most 2s; a Tab never starts kvd).";

Status RunCompletion(const std::string& shell, Context& ctx) {
  const char* script = shell == "bash"  ? kBashCompletion
                       : shell == "zsh" ? kZshCompletion
                                        : kFishCompletion;
  ctx.out() << script;
  return Status::Ok();
}

bool HoldsLineBreak(const std::string& word) {
  return word.find_first_of("\r\n") != std::string::npos;
}

}  // namespace

std::optional<std::string> CompletionEnv(const char* name) {
  if (std::strcmp(name, "KV_NO_AUTOSTART") == 0) return "1";
  std::optional<std::string> value = ProcessEnv(name);
  if (std::strcmp(name, "KV_TIMEOUT") == 0) {
    Result<int64_t> ms = ParseDurationMs(value.value_or(""));
    if (!ms.ok() || *ms > kMaxCompletionTimeoutMs) return kMaxCompletionTimeout;
  }
  return value;
}

int RunCompleteRequest(Context& ctx, std::vector<std::string> words) {
  std::string partial;
  if (!words.empty()) {
    partial = std::move(words.back());
    words.pop_back();
  }
  // --output=js: complete the value after the '=' and give whole words back.
  std::string assigned;
  if (partial.starts_with("--") && partial.find('=') != std::string::npos) {
    assigned = partial.substr(0, partial.find('=') + 1);
    words.push_back(assigned.substr(0, assigned.size() - 1));
    partial.erase(0, assigned.size());
  }
  ctx.Reset();
  ReplAdapter adapter(ctx);
  shell::Candidates candidates = adapter.Complete(words, partial);
  std::ostream& out = ctx.out();
  out << (candidates.files ? "files" : "words") << "\n";
  for (const std::string& word : candidates.words) {
    if (!HoldsLineBreak(word)) out << assigned << word << "\n";
  }
  out.flush();
  return kExitOk;
}

void AddCompletionCommand(CLI::App& app, Context& ctx) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("completion", "Print the shell completion script of bash, zsh or fish");
  cmd->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->footer(kCompletionFooter);
  OnRun(cmd, ctx, [shell, &ctx] { return RunCompletion(*shell, ctx); });
}

}  // namespace kv::cli
