// kv shell: the interactive REPL (shell/repl.h) over this command tree
// (cmd/kv/repl_adapter.h). `kv` with no arguments on a terminal opens it too.
#include <cstdio>

#include "client/http_client.h"
#include "cmd/kv/commands/commands.h"
#include "cmd/kv/exit_codes.h"
#include "cmd/kv/repl_adapter.h"
#include "common/paths.h"
#include "shell/libedit_editor.h"
#include "shell/plain_editor.h"
#include "shell/repl.h"
#include "shell/signals.h"

namespace kv::cli {
namespace {

constexpr const char* kShellFooter =
    "On a terminal: line editing with emacs keys (libedit; ~/.editrc applies), Ctrl-R\n"
    "searches the history, kept in $XDG_STATE_HOME/kv/history (KV_HISTFILE, --history);\n"
    "Tab completes commands, flags and key names (fetched by prefix, at most 100), a\n"
    "second Tab lists the choices and the command's usage, and the rest of a command's\n"
    "usage shows dimmed at the right after each space. The prompt shows the backend and\n"
    "namespace: kv local:default>. JSON values print indented and coloured (NO_COLOR:\n"
    "no colour). Errors print and the shell goes on; Ctrl-C abandons the line or stops\n"
    "a running command (watch, daemon logs -f); Ctrl-D, exit or quit leave.\n"
    "\n"
    "Every kv command works with the same words and flags: get k, set k '{\"a\":1}'\n"
    "--ttl 10s, ls user: --limit 5. Flags on a line apply to that line only. Words are\n"
    "split as a POSIX shell splits them ('...', \"...\", \\, # comments; no $ or globs),\n"
    "and a word that starts with { or [ runs to its closing bracket: set k {\"a\": [1, 2]}.\n"
    "An open quote, { or [ continues on the next line (prompt: ...).\n"
    "\n"
    "Shell commands: use NAMESPACE [APP]; connect URL|PROFILE [--token T] (`local`: what\n"
    "kv uses with no --url); help [COMMAND]; exit, quit.\n"
    "History never keeps a line with --token, a token command, a connect with\n"
    "credentials, something that looks like a kvd token, or a line that starts with a\n"
    "space.\n"
    "\n"
    "Without a terminal on stdin, kv shell runs its lines as a script: it stops at the\n"
    "first failing line with that line's exit code (--keep-going: runs every line and\n"
    "exits with the first failure's code). A command that reads stdin (set KEY with no\n"
    "value, import) reads the lines that follow, as in sh.\n"
    "  printf 'set a 1\\nincr a\\nget a\\n' | kv shell";

struct ShellOptions {
  bool keep_going = false;
  std::string history;  // empty: KV_HISTFILE, else $XDG_STATE_HOME/kv/history
  bool no_history = false;
};

// kv shell's exit code as the Status Execute maps back to it (the lines
// reported their own errors: no message).
Status FromExitCode(int code) {
  switch (code) {
    case kExitOk:
      return Status::Ok();
    case kExitNotFound:
      return Status::NotFound("");
    case kExitUsage:
      return Status::InvalidArgument("");
    case kExitPrecondition:
      return Status::PreconditionFailed("");
    case kExitUnavailable:
      return Status::Unavailable("");
    default:
      return Status::Internal("");
  }
}

bool g_in_shell = false;

Status RunShell(const ShellOptions& options, Context& ctx) {
  if (g_in_shell) return Status::InvalidArgument("already in kv shell");
  g_in_shell = true;
  struct Leave {
    ~Leave() { g_in_shell = false; }
  } leave;

  ReplAdapter adapter(ctx);
  const Io& io = ctx.io();
  if (!io.stdin_tty) {
    shell::PlainEditor editor(ctx.in());
    shell::ReplOptions repl_options;
    repl_options.keep_going = options.keep_going;
    shell::Repl repl(editor, adapter, ctx.out(), repl_options);
    return FromExitCode(repl.Run());
  }

  shell::LibeditOptions editor_options;
  if (!options.no_history) {
    editor_options.history_path = options.history;
    if (editor_options.history_path.empty()) {
      editor_options.history_path = ctx.Getenv("KV_HISTFILE").value_or("");
    }
    if (editor_options.history_path.empty()) {
      editor_options.history_path = paths::StateDir() + "/history";
    }
  }
  const bool color = io.stdout_tty && ctx.Getenv("NO_COLOR").value_or("").empty() &&
                     ctx.Getenv("TERM").value_or("") != "dumb";
  editor_options.color = color;
  editor_options.out = io.stdout_tty ? stdout : stderr;

  shell::SignalScope signals;
  client::SetInterruptFlag(&shell::InterruptFlag());
  struct Uninstall {
    ~Uninstall() { client::SetInterruptFlag(nullptr); }
  } uninstall;

  if (!ctx.quiet()) {
    ctx.err() << "kv " << KvVersion()
              << " shell: help lists the commands, Tab completes, Ctrl-D leaves.\n";
    ctx.err().flush();
  }
  adapter.Open();  // connect now (starting the local kvd if need be); errors print
  Result<std::unique_ptr<shell::LibeditEditor>> libedit =
      shell::LibeditEditor::Open(editor_options);
  std::unique_ptr<shell::LineEditor> editor;
  if (libedit.ok()) {
    editor = std::move(*libedit);
  } else {
    // Without libedit: prompts and plain lines (no editing, history or Tab).
    ctx.PrintError(libedit.status().message());
    editor = std::make_unique<shell::PlainEditor>(ctx.in(), &ctx.out());
  }
  shell::Repl repl(*editor, adapter, ctx.out(), shell::ReplOptions{});
  return FromExitCode(repl.Run());
}

}  // namespace

void AddShellCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ShellOptions>();
  CLI::App* cmd = app.add_subcommand(
      "shell", "Interactive shell (REPL); without a terminal, run commands from stdin");
  cmd->add_flag("--keep-going", opts->keep_going,
                "In a script: run every line even after one fails");
  cmd->add_option("--history", opts->history,
                  "History file (env KV_HISTFILE; default $XDG_STATE_HOME/kv/history)")
      ->type_name("FILE");
  cmd->add_flag("--no-history", opts->no_history, "Neither read nor write a history file");
  cmd->footer(kShellFooter);
  OnRun(cmd, ctx, [opts, &ctx] { return RunShell(*opts, ctx); });
}

}  // namespace kv::cli
