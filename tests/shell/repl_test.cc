// The REPL loop over a scripted editor and a recording runner: script mode's
// exit codes, continuation lines, shell verbs, what goes to the history, and
// the completion and hint answers. (tests/e2e/kv_shell_test.cc drives the
// real binary through a terminal.)
#include "shell/repl.h"

#include <catch2/catch.hpp>

#include <deque>
#include <sstream>

#include "shell/plain_editor.h"
#include "shell/tokenizer.h"

namespace kv::shell {
namespace {

using Words = std::vector<std::string>;

// Lines to hand out, as a terminal would; records the history.
class ScriptedEditor : public LineEditor {
 public:
  explicit ScriptedEditor(std::deque<ReadResult> lines, bool interactive = true)
      : lines_(std::move(lines)), interactive_(interactive) {}
  ReadResult ReadLine(const std::string& prompt) override {
    prompts.push_back(prompt);
    if (lines_.empty()) return ReadResult{ReadResult::Kind::kEof, ""};
    ReadResult r = lines_.front();
    lines_.pop_front();
    return r;
  }
  void AddHistory(const std::string& entry) override { history.push_back(entry); }
  bool interactive() const override { return interactive_; }
  void set_completer(CompleteFn) override {}
  void set_hinter(HintFn) override {}

  std::vector<std::string> prompts;
  std::vector<std::string> history;

 private:
  std::deque<ReadResult> lines_;
  bool interactive_;
};

ReadResult Line(std::string s) { return {ReadResult::Kind::kLine, std::move(s)}; }
ReadResult CtrlC() { return {ReadResult::Kind::kInterrupted, ""}; }

class FakeRunner : public CommandRunner {
 public:
  int Run(const Words& words) override {
    runs.push_back(words);
    if (words[0] == "fail") return std::stoi(words.at(1));
    return 0;
  }
  int Use(const std::string& ns, const std::string& app) override {
    uses.push_back(ns + "/" + app);
    ns_ = ns;
    return 0;
  }
  int Connect(const std::string& target, const std::string& token) override {
    connects.push_back(target + "|" + token);
    return target == "bad" ? 4 : 0;
  }
  int UsageError(const std::string& message) override {
    errors.push_back(message);
    return 2;
  }
  std::string PromptLabel() override { return "local:" + ns_; }
  Candidates Complete(const Words& words, const std::string& partial) override {
    completions.push_back(words);
    Candidates c;
    Words all;
    if (words.empty()) {
      all = {"get", "set", "ls", "expire"};
    } else if (words[0] == "profile") {
      all = {"prod", "staging"};
    } else {
      all = keys;
      c.truncated = truncated;
    }
    for (const std::string& s : all) {
      if (s.starts_with(partial)) c.words.push_back(s);
    }
    return c;
  }
  std::string Usage(const Words& words, bool remaining_only) override {
    if (words[0] != "set") return "";
    if (!remaining_only) return "set KEY [VALUE]";
    return words.size() == 1 ? "KEY [VALUE]" : words.size() == 2 ? "[VALUE]" : "";
  }

  std::vector<Words> runs;
  std::vector<std::string> uses;
  std::vector<std::string> connects;
  std::vector<std::string> errors;
  std::vector<Words> completions;
  Words keys = {"user:1", "user:10", "user:2", "with space", "it's"};
  bool truncated = false;

 private:
  std::string ns_ = "default";
};

int RunScript(const std::string& script, FakeRunner& runner, bool keep_going = false) {
  std::istringstream in(script);
  PlainEditor editor(in);
  std::ostringstream out;
  ReplOptions options;
  options.keep_going = keep_going;
  Repl repl(editor, runner, out, options);
  return repl.Run();
}

TEST_CASE("a script runs line by line and stops at the first failure", "[unit]") {
  FakeRunner r;
  CHECK(RunScript("set a 1\n\n# comment\nget a\n", r) == 0);
  CHECK(r.runs == std::vector<Words>{{"set", "a", "1"}, {"get", "a"}});

  FakeRunner r2;
  CHECK(RunScript("set a 1\nfail 3\nget a\n", r2) == 3);
  CHECK(r2.runs.size() == 2);

  FakeRunner r3;
  CHECK(RunScript("fail 4\nget a\nfail 1\n", r3, /*keep_going=*/true) == 4);
  CHECK(r3.runs.size() == 3);

  FakeRunner r4;  // no newline at the end, CRLF
  CHECK(RunScript("get a\r\nget b", r4) == 0);
  CHECK(r4.runs == std::vector<Words>{{"get", "a"}, {"get", "b"}});
}

TEST_CASE("a script's open quote continues and is an error at the end", "[unit]") {
  FakeRunner r;
  CHECK(RunScript("set k '{\n  \"a\": 1\n}'\nset j {\"b\":\n[2]}\n", r) == 0);
  REQUIRE(r.runs.size() == 2);
  CHECK(r.runs[0] == Words{"set", "k", "{\n  \"a\": 1\n}"});
  CHECK(r.runs[1] == Words{"set", "j", "{\"b\":\n[2]}"});

  FakeRunner r2;
  CHECK(RunScript("get a\nset k 'open\n", r2) == 2);
  CHECK(r2.runs.size() == 1);
  REQUIRE(r2.errors.size() == 1);
  CHECK(r2.errors[0].find("quote is not closed") != std::string::npos);
}

TEST_CASE("shell verbs", "[unit]") {
  FakeRunner r;
  CHECK(RunScript("use shop\nuse shop web\nconnect prod\nconnect http://h:1 --token s\n"
                  "kv get a\nhelp get\nexit\nget never\n",
                  r) == 0);
  CHECK(r.uses == Words{"shop/", "shop/web"});
  CHECK(r.connects == Words{"prod|", "http://h:1|s"});
  CHECK(r.runs == std::vector<Words>{{"get", "a"}, {"help", "get"}});

  FakeRunner r2;
  CHECK(RunScript("use\n", r2) == 2);
  CHECK(RunScript("use a b c\n", r2) == 2);
  CHECK(RunScript("connect\n", r2) == 2);
  CHECK(RunScript("connect a b\n", r2) == 2);
  CHECK(RunScript("exit now\n", r2) == 2);
  CHECK(RunScript("connect bad\n", r2) == 4);
  CHECK(RunScript("quit\nfail 3\n", r2) == 0);
  CHECK(r2.runs.empty());
}

TEST_CASE("help prints kv's help and the shell's verbs", "[unit]") {
  FakeRunner r;
  std::istringstream in("help\nhelp use\nhelp connect\n");
  PlainEditor editor(in);
  std::ostringstream out;
  Repl repl(editor, r, out, {});
  CHECK(repl.Run() == 0);
  CHECK(r.runs == std::vector<Words>{{"help"}});
  CHECK(out.str().find("use NAMESPACE [APP]") != std::string::npos);
  CHECK(out.str().find("connect URL|PROFILE") != std::string::npos);
}

TEST_CASE("interactive: errors never end the loop and Ctrl-C drops the input", "[unit]") {
  FakeRunner r;
  ScriptedEditor editor({Line("fail 3"), Line("set k '{"), CtrlC(), Line("get a"),
                         Line("set j '{"), Line("}'"), Line("quit"), Line("get never")});
  std::ostringstream out;
  Repl repl(editor, r, out, {});
  CHECK(repl.Run() == 0);
  CHECK(r.runs == std::vector<Words>{{"fail", "3"}, {"get", "a"}, {"set", "j", "{\n}"}});
  // The prompt, a continuation prompt as wide, and the prompt again after Ctrl-C.
  REQUIRE(editor.prompts.size() == 7);
  CHECK(editor.prompts[0] == "kv local:default> ");
  CHECK(editor.prompts[2] == "              ... ");
  CHECK(editor.prompts[2].size() == editor.prompts[0].size());
  CHECK(editor.prompts[3] == "kv local:default> ");
  CHECK(editor.history == Words{"fail 3", "get a", "set j '{\n}'"});
}

TEST_CASE("the prompt follows use", "[unit]") {
  FakeRunner r;
  ScriptedEditor editor({Line("use shop"), Line("get a")});
  std::ostringstream out;
  Repl repl(editor, r, out, {});
  CHECK(repl.Run() == 0);
  CHECK(editor.prompts[1] == "kv local:shop> ");
}

TEST_CASE("lines that may hold secrets stay out of the history", "[unit]") {
  auto secret = [](std::string line) {
    Tokens t = Tokenize(line);
    return Repl::HoldsSecret(line, t.Texts());
  };
  CHECK(secret("token create alice"));
  CHECK(secret("kv token ls"));
  CHECK(secret("get k --token abc"));
  CHECK(secret("--token=abc get k"));
  CHECK(secret("profile add prod --url http://h:1 --token kv_x"));
  CHECK(secret("connect https://user:pw@example.com"));
  CHECK(secret("set s kv_0123456789abcdefghijklmnopqrstuvwxyzABCD"));
  CHECK(secret(" get k"));
  CHECK_FALSE(secret("get k"));
  CHECK_FALSE(secret("connect prod"));
  CHECK_FALSE(secret("set mail a@b.c"));
  CHECK_FALSE(secret("set k kv_short"));
  CHECK_FALSE(secret("get tokens"));

  FakeRunner r;
  ScriptedEditor editor({Line("token create alice"), Line("get a  "), Line(" get b"),
                         Line("get c\\ ")});
  std::ostringstream out;
  Repl repl(editor, r, out, {});
  repl.Run();
  CHECK(editor.history == Words{"get a", "get c\\ "});
  CHECK(r.runs.size() == 4);
}

TEST_CASE("completion of commands and verbs", "[unit]") {
  FakeRunner r;
  ScriptedEditor editor({});
  std::ostringstream out;
  Repl repl(editor, r, out, {});

  Completion c = repl.Complete("ge");
  CHECK(c.insert == "t ");
  c = repl.Complete("e");
  CHECK(c.insert == "x");  // exit, expire
  CHECK(c.choices == Words{"exit", "expire"});
  c = repl.Complete("");
  CHECK(c.insert.empty());
  CHECK(c.choices == Words{"connect", "exit", "expire", "get", "help", "ls", "quit", "set", "use"});
  c = repl.Complete("kv s");
  CHECK(c.insert == "et ");
  c = repl.Complete("q");
  CHECK(c.insert == "uit ");
  c = repl.Complete("connect p");
  CHECK(c.insert == "rod ");
  c = repl.Complete("connect l");
  CHECK(c.insert == "ocal ");
  c = repl.Complete("use ");
  CHECK(c.choices.empty());
}

TEST_CASE("completion of keys quotes what it inserts", "[unit]") {
  FakeRunner r;
  ScriptedEditor editor({});
  std::ostringstream out;
  Repl repl(editor, r, out, {});

  Completion c = repl.Complete("get us");
  CHECK(c.insert == "er:");
  CHECK(c.choices == Words{"user:1", "user:10", "user:2"});
  CHECK(c.usage.empty());
  c = repl.Complete("set user:1");
  CHECK(c.insert.empty());  // user:1 and user:10
  CHECK(c.usage == "set KEY [VALUE]");
  c = repl.Complete("get user:2");
  CHECK(c.insert == " ");
  c = repl.Complete("get w");
  CHECK(c.insert == R"(ith\ space )");
  c = repl.Complete("get 'w");
  CHECK(c.insert == "ith space' ");
  c = repl.Complete("get \"w");
  CHECK(c.insert == "ith space\" ");
  c = repl.Complete("get i");
  CHECK(c.insert == R"(t\'s )");
  c = repl.Complete("get 'i");
  CHECK(c.insert == R"(t'\''s' )");
  // The runner sees the complete words before the one being typed.
  r.completions.clear();
  repl.Complete("kv get -n x us");
  REQUIRE(r.completions.size() == 1);
  CHECK(r.completions[0] == Words{"get", "-n", "x"});
  // Nothing inside a JSON word.
  c = repl.Complete("set k {\"a");
  CHECK(c.insert.empty());
  CHECK(c.choices.empty());

  // A cut-short list adds nothing: its shared prefix may be too long.
  r.truncated = true;
  c = repl.Complete("get us");
  CHECK(c.insert.empty());
  CHECK(c.truncated);
  CHECK(c.choices.size() == 3);
}

TEST_CASE("hints show the rest of the usage after a space", "[unit]") {
  FakeRunner r;
  ScriptedEditor editor({});
  std::ostringstream out;
  Repl repl(editor, r, out, {});
  CHECK(repl.Hint("set ") == "KEY [VALUE]");
  CHECK(repl.Hint("set k ") == "[VALUE]");
  CHECK(repl.Hint("kv set ") == "KEY [VALUE]");
  CHECK(repl.Hint("set") == "");      // still typing the name
  CHECK(repl.Hint("set 'k ") == "");  // inside a quote
  CHECK(repl.Hint("") == "");
  CHECK(repl.Hint("use ") == "NAMESPACE [APP]");
  CHECK(repl.Hint("connect ") == "URL|PROFILE [--token TOKEN]");
  CHECK(repl.Hint("get ") == "");
}

}  // namespace
}  // namespace kv::shell
