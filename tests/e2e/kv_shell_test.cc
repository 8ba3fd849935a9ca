// kv shell end to end: the built kv binary in a real pseudo-terminal (a
// private tmux server per test: new-session, send-keys, capture-pane) and
// through pipes, against a real kvd in a temporary directory. Each test has
// its own kvd, socket, XDG directories, HOME and tmux socket, so tests run in
// parallel; every wait is bounded, and the tmux server, kvd and files go
// away with the test.
//
// KV_PATH and KVD_PATH are compile definitions set by tests/e2e/CMakeLists.txt.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/kvd_process.h"
#include "tests/support/run_command.h"
#include "tests/support/sanitizer_env.h"
#include "tests/support/temp_dir.h"

namespace kv::testing {
namespace {

using namespace std::chrono_literals;

std::string Sh(const std::string& s) {  // single-quoted for /bin/sh
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs a /bin/sh command line (bounded by `timeout`), returning its exit code
// and stdout.
CommandResult RunSh(const std::string& command) {
  return RunCommand("timeout -k 5 60 sh -c " + Sh(command));
}

// A kvd, and the environment a kv needs to talk to it and nothing else.
class ShellFixture {
 public:
  ShellFixture() {
    std::filesystem::create_directories(dir_.Sub("home"));
    REQUIRE(kvd_.Start({"--data-dir", dir_.Sub("data"), "--socket", dir_.Sub("kvd.sock")}));
  }

  // `env -i NAME=VALUE... ` for a kv of this test.
  std::string Env() const {
    std::string env = "env -i PATH=/usr/bin:/bin TERM=screen LANG=C.UTF-8";
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"HOME", dir_.Sub("home")},
             {"KV_SOCKET", dir_.Sub("kvd.sock")},
             {"KV_NO_AUTOSTART", "1"},
             {"XDG_STATE_HOME", dir_.Sub("state")},
             {"XDG_CONFIG_HOME", dir_.Sub("config")},
             {"XDG_RUNTIME_DIR", dir_.Sub("run")}}) {
      env += " " + k + "=" + Sh(v);
    }
    for (const std::string& e : SanitizerEnv()) env += " " + Sh(e);
    return env;
  }
  std::string Kv() const { return Env() + " " + Sh(KV_PATH); }

  // kv ARGS (a shell fragment) run to its end, stdin from /dev/null.
  CommandResult RunKv(const std::string& args) {
    return RunSh(Kv() + " " + args + " </dev/null 2>/dev/null");
  }
  // kv shell ARGS with `script` on a pipe.
  CommandResult Script(const std::string& script, const std::string& args = "") {
    return RunSh("printf %s " + Sh(script) + " | " + Kv() + " shell " + args + " 2>&1");
  }

  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_{"kv-shell-e2e"};
  KvdProcess kvd_{KVD_PATH};
};

// A private tmux server with one pane running a command.
class Terminal {
 public:
  explicit Terminal(const TempDir& dir)
      : socket_(dir.Sub("tmux-" + std::to_string(++count_))),
        status_path_(dir.Sub("status-" + std::to_string(count_))) {}
  ~Terminal() { Tmux("kill-server"); }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Starts `command` (a /bin/sh command line) in a 100x40 pane that stays
  // after it exits. The sh around it writes the exit status to a file (tmux's
  // own #{pane_dead_status} can lag far behind under load); it waits through
  // Ctrl-C (libedit passes SIGINT on to the whole process group).
  void Start(const std::string& command) {
    std::string wrapped =
        "trap true INT; " + command + "; echo $? > " + Sh(status_path_) + ".tmp; mv " +
        Sh(status_path_) + ".tmp " + Sh(status_path_);
    REQUIRE(Tmux("-f /dev/null new-session -d -s t -x 100 -y 40 " + Sh(wrapped) +
                 " \\; set-option -t t remain-on-exit on")
                .code == 0);
  }

  // Literal text (no key names).
  void Type(const std::string& text) { Tmux("send-keys -t t -l -- " + Sh(text)); }
  // Key names: Enter, Tab, C-c, C-d, C-r, Up...
  void Key(const std::string& key) { Tmux("send-keys -t t " + key); }
  void Line(const std::string& text) {
    Type(text);
    Key("Enter");
  }

  // What the pane shows, with what scrolled off, trailing blanks dropped.
  std::string Screen() {
    std::string s = Tmux("capture-pane -p -J -S - -t t").out;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  // Waits (at most 10 s) until the screen satisfies `ok`.
  bool WaitFor(const std::function<bool(const std::string&)>& ok) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ok(Screen())) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  // Waits until the screen holds `text` `times` times (or more).
  bool WaitFor(const std::string& text, int times = 1) {
    return WaitFor([&](const std::string& s) { return Count(s, text) >= times; });
  }
  // Waits until the last line of the screen is `line` (a prompt waiting),
  // maybe followed by a hint at the right (after two spaces or more).
  bool WaitForLastLine(const std::string& line) {
    return WaitFor([&](const std::string& s) {
      std::string last = LastLine(s);
      return last == line || last.starts_with(line + "  ");
    });
  }

  // The exit status of the pane's command once it ended (the shell wrapped
  // around it in Start writes it to a file), waiting at most 10 s.
  std::optional<int> ExitStatus() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(status_path_);
      int status = -1;
      if (in >> status) return status;
      std::this_thread::sleep_for(50ms);
    }
    WARN("the shell did not end; the screen:\n" << Screen());
    return std::nullopt;
  }

  static int Count(const std::string& s, const std::string& text) {
    int n = 0;
    for (size_t at = s.find(text); at != std::string::npos; at = s.find(text, at + 1)) ++n;
    return n;
  }
  static std::string LastLine(const std::string& s) {
    size_t nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
  }

 private:
  CommandResult Tmux(const std::string& args) {
    return RunSh("unset TMUX; tmux -S " + Sh(socket_) + " " + args);
  }

  static inline int count_ = 0;
  std::string socket_;
  std::string status_path_;
};

constexpr const char* kPrompt = "kv local:default>";

TEST_CASE("kv shell on a terminal: commands and JSON and errors and use and Ctrl-C and exit", "[e2e]") {
  ShellFixture f;
  Terminal t(f.dir());
  t.Start(f.Kv() + " shell");
  REQUIRE(t.WaitForLastLine(kPrompt));

  t.Line(R"(set user:1 '{"name": "Ada", "langs": ["en", "fr"]}' --ttl 1h)");
  t.Line("get user:1");
  // Pretty-printed on a terminal.
  REQUIRE(t.WaitFor("  \"name\": \"Ada\","));
  CHECK(t.WaitFor("    \"fr\""));

  // Errors print and the shell goes on.
  t.Line("get nope");
  REQUIRE(t.WaitFor("kv: "));
  t.Line("frob --bogus");
  REQUIRE(t.WaitFor("(see kv help)"));
  t.Line("set k 'open");  // an open quote continues ...
  REQUIRE(t.WaitForLastLine("              ..."));
  t.Line("quote'");  // ... and closes
  t.Line("get k");
  REQUIRE(t.WaitFor("open\nquote"));

  // use: the prompt shows the namespace; a line's own -n lasts one line.
  t.Line("use shop");
  REQUIRE(t.WaitForLastLine("kv local:shop>"));
  t.Line("set only-in-shop 1");
  t.Line("get only-in-shop -n default");
  REQUIRE(t.WaitFor("only-in-shop"));
  t.Line("get only-in-shop");
  REQUIRE(t.WaitFor([](const std::string& s) {
    return Terminal::LastLine(s) == "kv local:shop>" && s.find("\n1\nkv local:shop>") != std::string::npos;
  }));
  t.Line("use default");
  REQUIRE(t.WaitForLastLine(kPrompt));

  // Ctrl-C abandons the line being typed; it never runs.
  t.Type("set abandoned 1");
  REQUIRE(t.WaitFor("set abandoned 1"));
  t.Key("C-c");
  REQUIRE(t.WaitFor("set abandoned 1^C"));
  REQUIRE(t.WaitForLastLine(kPrompt));
  CHECK(f.RunKv("has abandoned").code == 1);

  // Ctrl-C on a continuation line drops the whole input.
  t.Line("set multi '{");
  REQUIRE(t.WaitForLastLine("              ..."));
  t.Type("x");
  REQUIRE(t.WaitFor("... x"));
  t.Key("C-c");
  REQUIRE(t.WaitForLastLine(kPrompt));
  CHECK(f.RunKv("has multi").code == 1);

  t.Line("exit");
  CHECK(t.ExitStatus().value_or(-1) == 0);
}

TEST_CASE("kv shell: Tab completes commands and keys and flags and double Tab lists", "[e2e]") {
  ShellFixture f;
  REQUIRE(f.RunKv("set user:alice 1").code == 0);
  REQUIRE(f.RunKv("set user:bob 2").code == 0);
  REQUIRE(f.RunKv("set order:7 3").code == 0);
  Terminal t(f.dir());
  t.Start(f.Kv() + " shell");
  REQUIRE(t.WaitForLastLine(kPrompt));

  // A command, then a key (the shared prefix, then the only match).
  t.Type("ge");
  t.Key("Tab");
  REQUIRE(t.WaitForLastLine("kv local:default> get"));
  t.Type("us");
  t.Key("Tab");
  REQUIRE(t.WaitFor("get user:"));
  t.Key("Tab");  // twice: the choices and the usage
  REQUIRE(t.WaitFor("usage: get KEY"));
  REQUIRE(t.WaitFor([](const std::string& s) {
    return s.find("user:alice") != std::string::npos && s.find("user:bob") != std::string::npos;
  }));
  t.Type("a");
  t.Key("Tab");
  REQUIRE(t.WaitForLastLine("kv local:default> get user:alice"));
  t.Key("Enter");
  REQUIRE(t.WaitFor("\n1\n"));

  // A flag, and -o's values.
  t.Type("set x 1 --if-a");
  t.Key("Tab");
  REQUIRE(t.WaitFor("set x 1 --if-absent"));
  t.Key("C-u");
  t.Type("ls -o t");
  t.Key("Tab");
  REQUIRE(t.WaitFor("ls -o table"));
  t.Key("C-u");

  // The hint: the rest of the command's usage, after its name and a space.
  t.Type("expire ");
  REQUIRE(t.WaitFor("KEY DURATION"));
  t.Key("C-u");
  t.Key("C-d");
  CHECK(t.ExitStatus().value_or(-1) == 0);
}

TEST_CASE("kv shell: history across two sessions with secrets left out", "[e2e]") {
  ShellFixture f;
  {
    Terminal t(f.dir());
    t.Start(f.Kv() + " shell");
    REQUIRE(t.WaitForLastLine(kPrompt));
    t.Line("set h1 first");
    t.Line("set h2 second");
    t.Line("get h1 --token kv_secretsecretsecretsecretsecretsecret");
    t.Line(" get h2");  // a leading space keeps a line out
    REQUIRE(t.WaitFor("second", 2));
    t.Line("quit");
    REQUIRE(t.ExitStatus().value_or(-1) == 0);
  }
  std::string history_path = f.dir().Sub("state") + "/kv/history";
  std::string history = ReadWholeFile(history_path);
  CHECK(history.find("h2") != std::string::npos);
  CHECK(history.find("secret") == std::string::npos);
  CHECK(history.find("quit") == std::string::npos);
  struct stat st;
  REQUIRE(::stat(history_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  Terminal t(f.dir());
  t.Start(f.Kv() + " shell");
  REQUIRE(t.WaitForLastLine(kPrompt));
  // Ctrl-R searches back.
  t.Key("C-r");
  t.Type("h1");
  REQUIRE(t.WaitFor("set h1 first"));
  t.Key("Enter");
  REQUIRE(t.WaitForLastLine(kPrompt));
  t.Line("get h1");
  REQUIRE(t.WaitFor("\nfirst\n"));
  // Up walks back: this session's lines, then the last one's.
  t.Key("Up");
  REQUIRE(t.WaitForLastLine("kv local:default> get h1"));
  t.Key("Up");
  REQUIRE(t.WaitForLastLine("kv local:default> set h1 first"));
  t.Key("Up");
  REQUIRE(t.WaitForLastLine("kv local:default> set h2 second"));
  t.Key("C-u");
  t.Line("exit");
  CHECK(t.ExitStatus().value_or(-1) == 0);
}

TEST_CASE("kv shell: a multi-line JSON value quoted or bare", "[e2e]") {
  ShellFixture f;
  Terminal t(f.dir());
  t.Start(f.Kv() + " shell");
  REQUIRE(t.WaitForLastLine(kPrompt));
  t.Line("set cfg '{");
  REQUIRE(t.WaitForLastLine("              ..."));
  t.Line(R"(  "port": 8080,)");
  t.Line(R"(  "tags": ["a", "b c"])");
  t.Line("}' --ttl 1h");
  REQUIRE(t.WaitForLastLine(kPrompt));
  t.Line(R"(set bare {"list": [1,)");
  REQUIRE(t.WaitForLastLine("              ..."));
  t.Line("2]}");
  REQUIRE(t.WaitForLastLine(kPrompt));
  t.Line("get bare");
  REQUIRE(t.WaitFor("\"list\": ["));
  t.Line("exit");
  CHECK(t.ExitStatus().value_or(-1) == 0);

  CommandResult cfg = f.RunKv("get cfg");
  CHECK(cfg.code == 0);
  CHECK(cfg.out == "{\n  \"port\": 8080,\n  \"tags\": [\"a\", \"b c\"]\n}");
  CHECK(f.RunKv("meta cfg -o json").out.find("application/json") != std::string::npos);
  CHECK(f.RunKv("get bare").out == "{\"list\": [1,\n2]}");
}

TEST_CASE("kv shell: Ctrl-C stops a watch and not the shell", "[e2e]") {
  ShellFixture f;
  Terminal t(f.dir());
  t.Start(f.Kv() + " shell");
  REQUIRE(t.WaitForLastLine(kPrompt));
  t.Line("watch w:");
  REQUIRE(t.WaitForLastLine("kv local:default> watch w:"));
  // The watch runs once it shows a change (kv set retries until it does,
  // in case the watch was not connected yet); then it waits, quiet.
  REQUIRE(t.WaitFor([&](const std::string& s) {
    if (s.find("  w:1  (") != std::string::npos) return true;
    f.RunKv("set w:1 hello");
    std::this_thread::sleep_for(200ms);
    return false;
  }));
  std::this_thread::sleep_for(200ms);
  t.Key("C-c");
  REQUIRE(t.WaitFor("kv: interrupted"));
  REQUIRE(t.WaitForLastLine(kPrompt));
  t.Line("get w:1");
  REQUIRE(t.WaitFor("\nhello\n"));
  t.Line("exit");
  CHECK(t.ExitStatus().value_or(-1) == 0);
}

TEST_CASE("kv alone on a terminal opens the shell", "[e2e]") {
  ShellFixture f;
  Terminal t(f.dir());
  t.Start(f.Kv());
  REQUIRE(t.WaitForLastLine(kPrompt));
  t.Line("set k v");
  t.Line("get k");
  REQUIRE(t.WaitFor("\nv\n"));
  t.Key("C-d");
  CHECK(t.ExitStatus().value_or(-1) == 0);
  // Without a terminal, kv alone is a usage error, as before.
  CHECK(f.RunKv("").code == 2);
}

TEST_CASE("kv shell without a terminal runs a script", "[e2e]") {
  ShellFixture f;
  // Every line, in order; the output of each.
  CommandResult r = f.Script("set a 1\nincr a\n# a comment\nget a\nset j '{\n  \"x\": 1\n}'\nget j\n");
  CHECK(r.code == 0);
  CHECK(r.out == "2\n2{\n  \"x\": 1\n}");

  // The first failure ends it with its exit code.
  r = f.Script("set b 1\nget missing\nset c 1\n");
  CHECK(r.code == 1);
  CHECK(r.out.find("kv: ") != std::string::npos);
  CHECK(f.RunKv("has c").code == 1);
  r = f.Script("set d 1\nfrob\nset e 1\n");
  CHECK(r.code == 2);
  CHECK(f.RunKv("has e").code == 1);
  r = f.Script("set f 1 --if-absent\nset f 2 --if-absent\nset g 1\n");
  CHECK(r.code == 3);
  CHECK(f.RunKv("has g").code == 1);

  // --keep-going runs everything and exits with the first failure's code.
  r = f.Script("get missing\nset h 1\nfrob\nset i 1\n", "--keep-going");
  CHECK(r.code == 1);
  CHECK(f.RunKv("has h").code == 0);
  CHECK(f.RunKv("has i").code == 0);

  // An open quote at the end is a usage error; shell verbs work.
  r = f.Script("set k 'never closed\n");
  CHECK(r.code == 2);
  CHECK(r.out.find("quote is not closed") != std::string::npos);
  r = f.Script("use other\nset k in-other\nexit\nset never 1\n");
  CHECK(r.code == 0);
  CHECK(f.RunKv("get k -n other").out == "in-other");
  CHECK(f.RunKv("has never").code == 1);

  // kv help shell documents it.
  r = f.RunKv("help shell");
  CHECK(r.code == 0);
  CHECK(r.out.find("--keep-going") != std::string::npos);
  CHECK(r.out.find("use NAMESPACE") != std::string::npos);
}

}  // namespace
}  // namespace kv::testing
