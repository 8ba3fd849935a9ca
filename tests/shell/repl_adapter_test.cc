// ReplAdapter: kv's command tree as the REPL's runner, over a FakeBackend
// (tests/cmd/harness.h): session flags, use/connect, completion walked from
// the CLI11 tree, usage hints, and the pretty JSON printer.
#include "cmd/kv/repl_adapter.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "cmd/kv/exit_codes.h"
#include "shell/plain_editor.h"
#include "shell/repl.h"
#include "tests/cmd/harness.h"
#include "tests/support/temp_dir.h"

namespace kv::cli {
namespace {

using testing::CliHarness;
using Words = std::vector<std::string>;

void Put(CliHarness& h, const std::string& line) { REQUIRE(h.Run(line) == 0); }

// What one line run through the adapter printed on stdout.
std::string Output(CliHarness& h, ReplAdapter& a, const Words& words, int* code = nullptr) {
  size_t before = h.out().size();
  int c = a.Run(words);
  if (code != nullptr) *code = c;
  return h.out().substr(before);
}

TEST_CASE("lines run with the session's flags and a line's flags last one line", "[unit]") {
  CliHarness h;
  REQUIRE(h.Run("-n shop version") == 0);  // as if kv -n shop shell
  ReplAdapter a(h.ctx());
  CHECK(a.session().ns == "shop");
  CHECK(a.Run({"set", "k", "v"}) == 0);
  CHECK(h.last_options().scope.ns == "shop");
  CHECK(a.Run({"get", "k", "-n", "other"}) == 0);
  CHECK(h.ctx().settings()->connect.scope.ns == "other");
  CHECK(a.Run({"get", "k"}) == 0);
  CHECK(h.ctx().settings()->connect.scope.ns == "shop");
  CHECK(a.PromptLabel() == "local:shop");
}

TEST_CASE("use changes the namespace and app and refuses bad names", "[unit]") {
  CliHarness h;
  ReplAdapter a(h.ctx());
  CHECK(a.Use("shop", "") == 0);
  CHECK(a.PromptLabel() == "local:shop");
  CHECK(a.Use("shop", "web") == 0);
  CHECK(a.PromptLabel() == "local:shop/web");
  CHECK(a.Use("bad/ns", "") == kExitUsage);
  CHECK(h.err().find("kv: ") == 0);
  CHECK(a.PromptLabel() == "local:shop/web");
  CHECK(a.Run({"set", "k", "v"}) == 0);
  CHECK(h.last_options().scope.ns == "shop");
  CHECK(h.last_options().scope.app == "web");
}

TEST_CASE("connect to a URL or a profile or local and a failure keeps the session", "[unit]") {
  testing::TempDir dir;
  std::string config = dir.Sub("config.toml");
  {
    std::ofstream f(config);
    f << "[profiles.prod]\nurl = \"http://10.0.0.5:7379\"\nnamespace = \"shop\"\n";
  }
  CliHarness h(std::map<std::string, std::string>{{"KV_CONFIG", config}});
  ReplAdapter a(h.ctx());
  CHECK(a.Open() == 0);
  CHECK(a.PromptLabel() == "fake:default");
  CHECK(a.Connect("prod", "") == 0);
  CHECK(h.last_options().url == "http://10.0.0.5:7379");
  CHECK(a.PromptLabel() == "fake:shop");
  CHECK(a.Connect("unix:///tmp/x.sock", "t0k") == 0);
  CHECK(h.last_options().url == "unix:///tmp/x.sock");
  CHECK(h.last_options().token == "t0k");
  CHECK(a.PromptLabel() == "fake:default");
  CHECK(a.Connect("nope", "") == kExitUsage);
  CHECK(h.err().find("no profile named nope") != std::string::npos);
  h.FailOpens(Status::Unavailable("down"));
  CHECK(a.Connect("local", "") == kExitUnavailable);
  CHECK(h.err().find("cannot connect to local: down") != std::string::npos);
  h.FailOpens(Status::Ok());
  CHECK(a.Run({"set", "k", "v"}) == 0);
  CHECK(h.last_options().url == "unix:///tmp/x.sock");  // still there
  CHECK(a.Connect("local", "") == 0);
  CHECK(h.last_options().url.empty());
}

TEST_CASE("completion walks the command tree", "[unit]") {
  CliHarness h;
  ReplAdapter a(h.ctx());
  auto words = [&](const Words& before, const std::string& partial) {
    return a.Complete(before, partial).words;
  };
  Words top = words({}, "");
  CHECK(std::find(top.begin(), top.end(), "get") != top.end());
  CHECK(std::find(top.begin(), top.end(), "shell") != top.end());
  CHECK(words({}, "de") == Words{"decr", "del"});
  CHECK(words({"token"}, "") == Words{"create", "ls", "revoke"});
  CHECK(words({"daemon"}, "st") == Words{"start", "status", "stop"});
  Words flags = words({"set", "k"}, "--");
  CHECK(std::find(flags.begin(), flags.end(), "--ttl") != flags.end());
  CHECK(std::find(flags.begin(), flags.end(), "--if-absent") != flags.end());
  CHECK(std::find(flags.begin(), flags.end(), "--namespace") != flags.end());  // global
  CHECK(words({"set", "k"}, "--if-a") == Words{"--if-absent"});
  CHECK(words({"get"}, "-o") == Words{"-o"});
  CHECK(words({"get", "-o"}, "") == Words{"json", "raw", "table"});
  CHECK(words({"get", "--output"}, "t") == Words{"table"});
  CHECK(words({"help"}, "to") == Words{"token"});
  CHECK(words({"help", "token"}, "c") == Words{"create"});
  CHECK(words({"help"}, "js") == Words{"json"});
  CHECK(h.opens() == 0);                   // none of that needs the backend
}

TEST_CASE("completion of keys asks the backend by prefix with a bound", "[unit]") {
  CliHarness h;
  h.store().page_size = 1000;
  Put(h, "set user:1 a");
  Put(h, "set user:10 b");
  Put(h, "set user:2 c");
  Put(h, "set order:7 d");
  ReplAdapter a(h.ctx());
  CHECK(a.Complete({"get"}, "user:").words == Words{"user:1", "user:10", "user:2"});
  CHECK(a.Complete({"del", "order:7"}, "u").words.size() == 3);  // keys...
  CHECK(a.Complete({"ls"}, "o").words == Words{"order:7"});       // prefix
  CHECK(a.Complete({"watch"}, "or").words == Words{"order:7"});
  CHECK(a.Complete({"set", "-o", "json", "--ttl", "5s"}, "or").words == Words{"order:7"});
  CHECK(a.Complete({"set", "user:1"}, "").words.empty());  // a value, not a key
  CHECK(a.Complete({"get", "user:1"}, "u").words.size() == 3);  // get takes several keys
  CHECK(a.Complete({"has", "user:1"}, "").words.empty());  // has takes one key
  CHECK(a.Complete({"expire"}, "order").words == Words{"order:7"});
  CHECK(a.Complete({"del", "--prefix"}, "or").words == Words{"order:7"});
  CHECK_FALSE(a.Complete({"get"}, "").truncated);

  for (int i = 0; i < 150; ++i) Put(h, "set many:" + std::to_string(1000 + i) + " v");
  shell::Candidates c = a.Complete({"get"}, "many:");
  CHECK(c.words.size() == kMaxKeyChoices);
  CHECK(c.truncated);
}

TEST_CASE("completion takes the line's global flags, and knows namespaces, shells and files",
          "[unit]") {
  CliHarness h;
  ReplAdapter a(h.ctx());
  // The fake backend's namespaces are its scope's: the line's -n reaches it
  // (keys by namespace from a real kvd: tests/completions).
  CHECK(a.Complete({"-n", "shop", "-n"}, "").words == Words{"shop"});
  CHECK(a.Complete({"--namespace=shop", "get", "-n"}, "").words == Words{"shop"});
  CHECK(a.Complete({"-n"}, "").words == Words{"default"});  // the session's again
  CHECK(a.Complete({"completion"}, "").words == Words{"bash", "fish", "zsh"});
  CHECK(a.Complete({"--socket"}, "").files);
  CHECK(a.Complete({"get", "--cacert"}, "/tmp/").files);
  CHECK_FALSE(a.Complete({"get", "-o"}, "").files);
  CHECK_FALSE(a.Complete({"get"}, "").files);
}

TEST_CASE("usage hints come from the tree", "[unit]") {
  CliHarness h;
  ReplAdapter a(h.ctx());
  std::string set = a.Usage({"set"}, false);
  CHECK(set.starts_with("set KEY [VALUE] "));
  CHECK(set.find("[--ttl TTL]") != std::string::npos);
  CHECK(set.find("[--if-absent]") != std::string::npos);
  CHECK(a.Usage({"set"}, true).starts_with("KEY [VALUE] [--ttl"));
  std::string rest = a.Usage({"set", "k", "--ttl", "5s"}, true);
  CHECK(rest.starts_with("[VALUE] "));
  CHECK(rest.find("--ttl") == std::string::npos);
  CHECK(a.Usage({"set", "k", "v"}, true).starts_with("[--"));
  CHECK(a.Usage({"del"}, true) == "[KEYS...] [--if-match MATCH] [--prefix PREFIX]");
  CHECK(a.Usage({"token"}, false) == "token create|ls|revoke");
  CHECK(a.Usage({"token", "create"}, false) == "token create TENANT");
  CHECK(a.Usage({"nope"}, false).empty());
  CHECK(a.Usage({}, false).empty());
}

TEST_CASE("a script through the adapter: first failure's exit code", "[unit]") {
  CliHarness h;
  ReplAdapter a(h.ctx());
  std::istringstream in("set a 1\nincr a\nget a\nget missing\nset b 2\n");
  shell::PlainEditor editor(in);
  std::ostringstream out;
  shell::Repl repl(editor, a, out, {});
  CHECK(repl.Run() == kExitNotFound);
  CHECK(h.out().starts_with("2"));  // incr's new value, then get's bytes
  CHECK(h.err().find("kv: ") == 0);
  CHECK(a.Run({"has", "b"}) == kExitNotFound);
}

TEST_CASE("on a terminal JSON values print indented and coloured unless NO_COLOR", "[unit]") {
  CliHarness h(std::map<std::string, std::string>{{"TERM", "xterm"}});
  ReplAdapter a(h.ctx());
  REQUIRE(a.Run({"set", "j", R"({"a":[1,true,null],"b":"x"})"}) == 0);
  REQUIRE(a.Run({"set", "t", "plain"}) == 0);
  h.set_tty(true, true);
  CHECK(Output(h, a, {"get", "j"}) ==
        "{\n  \x1b[34;1m\"a\"\x1b[0m: [\n    \x1b[36m1\x1b[0m,\n    \x1b[35mtrue\x1b[0m,\n"
        "    \x1b[35mnull\x1b[0m\n  ],\n  \x1b[34;1m\"b\"\x1b[0m: \x1b[32m\"x\"\x1b[0m\n}\n");
  CHECK(Output(h, a, {"get", "t"}) == "plain\n");
  h.env()["NO_COLOR"] = "1";
  CHECK(Output(h, a, {"get", "j"}) ==
        "{\n  \"a\": [\n    1,\n    true,\n    null\n  ],\n  \"b\": \"x\"\n}\n");
  CHECK(Output(h, a, {"get", "j", "-o", "raw"}) == R"({"a":[1,true,null],"b":"x"})");
  h.set_tty(false, false);
  CHECK(Output(h, a, {"get", "j"}) == R"({"a":[1,true,null],"b":"x"})");
}

TEST_CASE("PrettyJson keeps key order and refuses scalars", "[unit]") {
  CHECK(*PrettyJson(R"({"z":1,"a":{}})", false) == "{\n  \"z\": 1,\n  \"a\": {}\n}");
  CHECK(*PrettyJson("[]", false) == "[]");
  CHECK_FALSE(PrettyJson("42", false));
  CHECK_FALSE(PrettyJson("\"s\"", false));
  CHECK_FALSE(PrettyJson("{bad", false));
}

}  // namespace
}  // namespace kv::cli
