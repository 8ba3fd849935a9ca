// kv completion SHELL and kv __complete (cmd/kv/commands/completion.cc), in
// process over a fake backend. The scripts in the real shells are tested in
// tests/completions.
#include <catch2/catch.hpp>

#include "cmd/kv/commands/commands.h"
#include "cmd/kv/completion_scripts.h"
#include "tests/cmd/harness.h"

namespace kv::cli {
namespace {

using testing::CliHarness;

std::string Answer(const std::vector<std::string>& words) {
  CliHarness h;
  REQUIRE(h.Run("set user:1 a") == 0);
  size_t before = h.out().size();
  REQUIRE(RunCompleteRequest(h.ctx(), words) == 0);
  return h.out().substr(before);
}

TEST_CASE("kv __complete answers words or files, one per line", "[unit]") {
  CHECK(Answer({"get", "-o", "j"}) == "words\njson\n");
  CHECK(Answer({"get", "us"}) == "words\nuser:1\n");
  CHECK(Answer({"get", "user:1", "x"}) == "words\n");  // get takes one key
  CHECK(Answer({"ls", "--output=t"}) == "words\n--output=table\n");
  CHECK(Answer({"--socket", ""}) == "files\n");
  CHECK(Answer({"--cacert=/tm"}) == "files\n");
  std::string top = Answer({""});
  CHECK(top.starts_with("words\n"));
  CHECK(top.find("\ncompletion\n") != std::string::npos);
  CHECK(top.find("__complete") == std::string::npos);  // internal: not a command
}

TEST_CASE("kv completion prints the script of bash, zsh or fish, and refuses others", "[unit]") {
  CliHarness h;
  CHECK(h.Run("completion bash") == 0);
  CHECK(h.out() == kBashCompletion);
  CliHarness z;
  CHECK(z.Run("completion zsh") == 0);
  CHECK(z.out().starts_with("#compdef kv\n"));
  CliHarness f;
  CHECK(f.Run("completion fish") == 0);
  CHECK(f.out() == kFishCompletion);
  CliHarness bad;
  CHECK(bad.Run("completion tcsh") == 2);
  CHECK(bad.out().empty());
  CHECK(bad.err().find("tcsh") != std::string::npos);
  CHECK(bad.err().find('\n') == bad.err().size() - 1);  // one line
}

}  // namespace
}  // namespace kv::cli
