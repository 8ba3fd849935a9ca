// The command tree in-process: parsing, exit codes, settings resolution, the
// REPL's reuse of one Context, and the commands' own logic over a
// FakeBackend. (tests/e2e/kv_cli_test.cc runs the real binary against kvd.)
#include "cmd/kv/app.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "cmd/kv/commands/commands.h"
#include "cmd/kv/config.h"
#include "cmd/kv/exit_codes.h"
#include "tests/cmd/harness.h"
#include "tests/support/temp_dir.h"

namespace kv::cli {
namespace {

using testing::CliHarness;
using nlohmann::json;

TEST_CASE("usage errors exit 2 with one kv: line and never connect", "[unit]") {
  CliHarness h;
  for (const char* line : {"frob", "get", "has a b", "get a --bogus", "set a b --ttl 5x",
                           "set a b --if-absent --if-exists", "--timeout zz get a",
                           "-o yaml get a", "expire a 5q", "incr a x", "ls --where nopath",
                           "ls --limit 0", "patch a {bad", "token", "import --format csv",
                           "help nope", "-n bad/ns get a", "del", "del a --prefix p",
                           "del --prefix ''", "del --prefix p --if-match 1"}) {
    INFO(line);
    CHECK(h.Run(line) == kExitUsage);
    CHECK(h.out().empty());
    std::string err = h.err();
    CHECK(err.rfind("kv: ", 0) == 0);
    CHECK(err.find('\n') == err.size() - 1);
  }
  CHECK(h.opens() == 0);
}

TEST_CASE("no command: help on stderr / exit 2", "[unit]") {
  CliHarness h;
  CHECK(h.Run("") == kExitUsage);
  CHECK(h.out().empty());
  CHECK(h.err().find("Usage: kv") != std::string::npos);
}

TEST_CASE("help and version go to stdout", "[unit]") {
  CliHarness h;
  CHECK(h.Run("--help") == 0);
  CHECK(h.out().find("Usage: kv [OPTIONS] [SUBCOMMAND]") != std::string::npos);
  CHECK(h.out().find("Exit codes:") != std::string::npos);
  CHECK(h.Run("help") == 0);
  CHECK(h.out().find("Subcommands:") != std::string::npos);
  CHECK(h.Run("get --help") == 0);
  CHECK(h.out().find("Usage: kv get") != std::string::npos);
  CHECK(h.Run("help get") == 0);
  CHECK(h.out().find("Usage: kv get") != std::string::npos);
  CHECK(h.Run("help token create") == 0);
  CHECK(h.out().find("Usage: kv token create") != std::string::npos);
  CHECK(h.Run("help json") == 0);
  CHECK(h.out().find("next_cursor") != std::string::npos);
  CHECK(h.Run("--version") == 0);
  CHECK(h.out() == std::string("kv ") + KvVersion() + "\n");
  CHECK(h.Run("version") == 0);
  CHECK(h.out() == std::string("kv ") + KvVersion() + "\n");
  CHECK(h.Run("version -o json") == 0);
  CHECK(json::parse(h.out())["version"] == KvVersion());
  CHECK(h.opens() == 0);
}

TEST_CASE("a word that names a command is still a key or value", "[unit]") {
  CliHarness h;
  REQUIRE(h.Run("set ls get") == 0);
  REQUIRE(h.Run("get ls") == 0);
  CHECK(h.out() == "get");
  REQUIRE(h.Run("set token create") == 0);
  REQUIRE(h.Run("get token") == 0);
  CHECK(h.out() == "create");
  REQUIRE(h.Run("set k -- -5") == 0);
  REQUIRE(h.Run("get k") == 0);
  CHECK(h.out() == "-5");
}

TEST_CASE("get / set / has / del and their exit codes", "[unit]") {
  CliHarness h;
  CHECK(h.Run("get k") == kExitNotFound);
  CHECK(h.err() == "kv: key not found: k\n");
  CHECK(h.Run("has k") == kExitNotFound);
  CHECK(h.err().empty());
  REQUIRE(h.Run("set k", std::string("a\0b\xFF", 4)) == 0);
  CHECK(h.out().empty());
  REQUIRE(h.Run("get k") == 0);
  CHECK(h.out() == std::string("a\0b\xFF", 4));
  CHECK(h.store().data["k"].meta.content_type == "application/octet-stream");
  REQUIRE(h.Run("set j -", R"({"a":1})") == 0);
  CHECK(h.store().data["j"].meta.content_type == "application/json");
  REQUIRE(h.Run("set t hello --content-type text/plain -o json") == 0);
  CHECK(json::parse(h.out())["content_type"] == "text/plain");
  CHECK(h.Run("has k") == 0);
  CHECK(h.Run("set k x --if-absent") == kExitPrecondition);
  CHECK(h.err() == "kv: key exists: k (--if-absent)\n");
  CHECK(h.Run("set nope x --if-exists") == kExitPrecondition);
  std::string etag = h.store().data["k"].meta.etag;
  CHECK(h.Run("set k y --if-match W/\"" + etag + "\"") == 0);
  CHECK(h.Run("set k z --if-match " + etag) == kExitPrecondition);
  CHECK(h.Run("del k missing j") == kExitNotFound);
  CHECK(h.err() == "kv: key not found: missing\n");
  CHECK(h.store().data.count("k") == 0);
  CHECK(h.store().data.count("j") == 0);
  CHECK(h.Run("del t -o json") == 0);
  CHECK(h.out() == "{\"key\":\"t\",\"deleted\":true}\n");
}

TEST_CASE("errors of the backend map to exit codes", "[unit]") {
  CliHarness h;
  h.FailOpens(Status::Unavailable("no kvd is running on /x"));
  CHECK(h.Run("get k") == kExitUnavailable);
  CHECK(h.err() == "kv: no kvd is running on /x\n");
  h.FailOpens(Status::Unauthorized("bad token"));
  CHECK(h.Run("get k") == kExitRefused);
  h.FailOpens(Status::Timeout("timed out"));
  CHECK(h.Run("get k") == kExitUnavailable);
  h.FailOpens(Status::Ok());
  CHECK(h.Run("watch") == kExitRefused);  // the fake cannot watch
  CHECK(h.err() == "kv: fake does not support watch\n");
}

TEST_CASE("ls pages on its own - --limit stops and gives the cursor", "[unit]") {
  CliHarness h;
  for (int i = 0; i < 5; ++i) REQUIRE(h.Run("set k" + std::to_string(i) + " v") == 0);
  REQUIRE(h.Run("set other v") == 0);
  REQUIRE(h.Run("ls") == 0);  // the fake's pages hold 2 keys
  CHECK(h.out() == "k0\nk1\nk2\nk3\nk4\nother\n");
  REQUIRE(h.Run("ls k --limit 3") == 0);
  CHECK(h.out() == "k0\nk1\nk2\n");
  CHECK(h.err() == "kv: more keys follow: --cursor k2\n");
  REQUIRE(h.Run("ls k --cursor k2") == 0);
  CHECK(h.out() == "k3\nk4\n");
  REQUIRE(h.Run("ls k --limit 3 -o json") == 0);
  CHECK(h.out().find("{\"next_cursor\":\"k2\"}\n") != std::string::npos);
  REQUIRE(h.Run("ls k --limit 5") == 0);
  CHECK(h.err().empty());  // nothing more
  REQUIRE(h.Run("ls k4 --values") == 0);
  CHECK(h.out() == "k4\tv\n");
}

TEST_CASE("ttl / expire / persist / incr / decr / patch", "[unit]") {
  CliHarness h;
  CHECK(h.Run("ttl k") == kExitNotFound);
  REQUIRE(h.Run("set k v") == 0);
  REQUIRE(h.Run("ttl k") == 0);
  CHECK(h.out() == "none\n");
  REQUIRE(h.Run("expire k 1h") == 0);
  REQUIRE(h.Run("ttl k") == 0);
  CHECK(h.out() == "1h\n");
  REQUIRE(h.Run("ttl k -o json") == 0);
  CHECK(json::parse(h.out())["ttl_ms"] == 3'600'000);
  REQUIRE(h.Run("persist k") == 0);
  REQUIRE(h.Run("ttl k -o json") == 0);
  CHECK(json::parse(h.out())["ttl_ms"].is_null());
  CHECK(h.Run("expire nokey 1s") == kExitNotFound);
  REQUIRE(h.Run("incr n") == 0);
  CHECK(h.out() == "1\n");
  REQUIRE(h.Run("incr n 10") == 0);
  CHECK(h.out() == "11\n");
  REQUIRE(h.Run("decr n -o json") == 0);
  CHECK(h.out() == "{\"key\":\"n\",\"value\":10}\n");
  REQUIRE(h.Run("decr n -20") == 0);
  CHECK(h.out() == "30\n");
  REQUIRE(h.Run("patch d -", R"({"a":1})") == 0);
  CHECK(h.out() == "{\"a\":1}\n");
}

TEST_CASE("clear asks on a terminal and needs --yes otherwise", "[unit]") {
  CliHarness h;
  REQUIRE(h.Run("set a 1") == 0);
  CHECK(h.Run("clear") == kExitUsage);
  CHECK(h.err().find("--yes") != std::string::npos);
  CHECK(h.store().data.size() == 1);
  h.set_tty(true, false);
  CHECK(h.Run("clear", "n\n") == kExitUsage);
  CHECK(h.err().find("[y/N]") != std::string::npos);
  CHECK(h.store().data.size() == 1);
  CHECK(h.Run("clear", "y\n") == 0);
  CHECK(h.store().data.empty());
  h.set_tty(false, false);
  REQUIRE(h.Run("set a 1") == 0);
  CHECK(h.Run("clear --yes") == 0);
  CHECK(h.err() == "kv: deleted 1 key\n");
  CHECK(h.Run("clear --yes -q -o json") == 0);
  CHECK(h.out() == "{\"deleted\":0}\n");
  CHECK(h.err().empty());
}

TEST_CASE("export writes NDJSON that import reads back", "[unit]") {
  CliHarness h;
  REQUIRE(h.Run("set j --content-type application/json -", "{\"b\": 1, \"a\": [2]}") == 0);
  REQUIRE(h.Run("set t hello") == 0);
  REQUIRE(h.Run("set b -", std::string("\0\xFF", 2)) == 0);
  REQUIRE(h.Run("set ttl x --ttl 1h") == 0);
  REQUIRE(h.Run("set s --content-type application/json -", "\"str\"") == 0);
  REQUIRE(h.Run("export") == 0);
  std::string dump = h.out();
  CHECK(dump ==
        "{\"key\":\"b\",\"value\":\"AP8=\",\"encoding\":\"base64\",\"content_type\":"
        "\"application/octet-stream\"}\n"
        "{\"key\":\"j\",\"value\":{\"b\": 1, \"a\": [2]},\"content_type\":\"application/json\"}\n"
        "{\"key\":\"s\",\"value\":\"str\",\"content_type\":\"application/json\"}\n"
        "{\"key\":\"t\",\"value\":\"hello\",\"encoding\":\"text\",\"content_type\":"
        "\"application/octet-stream\"}\n"
        "{\"key\":\"ttl\",\"value\":\"x\",\"encoding\":\"text\",\"content_type\":"
        "\"application/octet-stream\",\"ttl_ms\":3600000}\n");
  auto before = h.store().data;
  REQUIRE(h.Run("clear --yes -q") == 0);
  REQUIRE(h.Run("import", dump) == 0);
  CHECK(h.err() == "kv: imported 5 keys\n");
  for (const auto& [key, value] : before) {
    INFO(key);
    CHECK(h.store().data[key].bytes == value.bytes);
    CHECK(h.store().data[key].meta.content_type == value.meta.content_type);
    CHECK(h.store().data[key].meta.ttl_ms == value.meta.ttl_ms);
  }
  REQUIRE(h.Run("import --if-absent -o json", dump) == 0);
  CHECK(h.out() == "{\"imported\":0,\"skipped\":5}\n");
}

TEST_CASE("import: parallel writes keep the last line per key", "[unit]") {
  CliHarness h;
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    input += "{\"key\":\"k" + std::to_string(i % 100) + "\",\"value\":" + std::to_string(i) + "}\n";
  }
  REQUIRE(h.Run("import --jobs 4", input) == 0);
  CHECK(h.err() == "kv: imported 3000 keys\n");
  CHECK(h.opens() == 4);  // the context's backend and three more
  REQUIRE(h.store().data.size() == 100);
  for (int k = 0; k < 100; ++k) CHECK(h.store().data["k" + std::to_string(k)].bytes == std::to_string(2900 + k));
}

TEST_CASE("import: a bad line names its number - a plain object works", "[unit]") {
  CliHarness h;
  CHECK(h.Run("import", "{\"key\":\"a\",\"value\":1}\n\n{\"key\":\"b\"}\n") == kExitUsage);
  CHECK(h.err() == "kv: line 3: missing \"value\"\n");
  CHECK(h.store().data.count("a") == 1);
  CHECK(h.Run("import", "{\"key\":\"a\",\"value\":1}\nnot json\n") == kExitUsage);
  CHECK(h.err() == "kv: line 2: not valid JSON\n");
  CHECK(h.Run("import", "[1,2]") == kExitUsage);
  CHECK(h.err().rfind("kv: line 1: ", 0) == 0);
  REQUIRE(h.Run("import", "{\n  \"x\": \"text\",\n  \"y\": {\"n\": [1, 2]},\n  \"z\": 5\n}\n") == 0);
  CHECK(h.err() == "kv: imported 3 keys\n");
  CHECK(h.store().data["x"].bytes == "text");
  CHECK(h.store().data["x"].meta.content_type == "application/octet-stream");
  CHECK(h.store().data["y"].bytes == "{\"n\": [1, 2]}");
  CHECK(h.store().data["y"].meta.content_type == "application/json");
  CHECK(h.store().data["z"].bytes == "5");
  REQUIRE(h.Run("import", "") == 0);
  CHECK(h.err() == "kv: imported 0 keys\n");
}

TEST_CASE("ParseImportLine", "[unit]") {
  ImportRecord r;
  REQUIRE(ParseImportLine(R"({"key":"a","value":{"x": 1},"ttl_ms":500})", &r).ok());
  CHECK(r.key == "a");
  CHECK(r.value == R"({"x": 1})");
  CHECK(r.content_type == "application/json");
  CHECK(r.ttl_ms == 500);
  REQUIRE(ParseImportLine(R"({"key":"a","value":"plain"})", &r).ok());
  CHECK(r.value == "plain");
  CHECK(r.content_type == "application/octet-stream");
  REQUIRE(ParseImportLine(R"({"key":"a","value":"\"q\"","encoding":"text"})", &r).ok());
  CHECK(r.value == "\"q\"");
  REQUIRE(ParseImportLine(R"({"key":"a","value":"s","content_type":"application/json"})", &r)
              .ok());
  CHECK(r.value == "\"s\"");  // a JSON string value
  REQUIRE(ParseImportLine(R"({"key":"/w==","key_encoding":"base64","value":"AP8=",)"
                          R"("encoding":"base64"})",
                          &r)
              .ok());
  CHECK(r.key == "\xFF");
  CHECK(r.value == std::string("\0\xFF", 2));
  REQUIRE(ParseImportLine(R"({"key":"a","value":1,"ttl":"1m"})", &r).ok());
  CHECK(r.ttl_ms == 60'000);
  REQUIRE(ParseImportLine(R"({"key":"a","value":1,"ttl_ms":0})", &r).ok());
  CHECK(r.expired);
  CHECK(ParseImportLine(R"({"key":"","value":1})", &r).IsInvalidArgument());
  CHECK(ParseImportLine(R"({"key":"a","value":1,"encoding":"hex"})", &r).IsInvalidArgument());
  CHECK(ParseImportLine(R"({"key":"a","value":"!","encoding":"base64"})", &r).IsInvalidArgument());
  CHECK(ParseImportLine(R"({"key":"a","value":1,"ttl_ms":-5})", &r).IsInvalidArgument());
  CHECK(ParseImportLine(R"({"key":1,"value":1})", &r).IsInvalidArgument());
}

TEST_CASE("settings: flag / then environment / then profile / then defaults", "[unit]") {
  testing::TempDir dir;
  std::string config = dir.Sub("config.toml");
  CliHarness h({{"KV_CONFIG", config}});
  REQUIRE(h.Run("get k") == kExitNotFound);
  CHECK(h.settings().url.empty());
  CHECK(h.settings().scope.ns == "default");
  CHECK(h.settings().scope.app == "default");
  CHECK(h.settings().timeout_ms == 10'000);
  CHECK(h.settings().autostart);

  h.env()["KV_URL"] = "unix:///env.sock";
  h.env()["KV_NAMESPACE"] = "envns";
  h.env()["KV_TIMEOUT"] = "3s";
  h.env()["KV_NO_AUTOSTART"] = "1";
  h.env()["KV_SOCKET"] = "/s.sock";
  REQUIRE(h.Run("get k") == kExitNotFound);
  CHECK(h.settings().url == "unix:///env.sock");
  CHECK(h.settings().scope.ns == "envns");
  CHECK(h.settings().timeout_ms == 3000);
  CHECK_FALSE(h.settings().autostart);
  CHECK(h.settings().socket_path == "/s.sock");
  REQUIRE(h.Run("--url http://h:1 -n flagns --app a1 --timeout 2s --token t get k") ==
          kExitNotFound);
  CHECK(h.settings().url == "http://h:1");
  CHECK(h.settings().scope.ns == "flagns");
  CHECK(h.settings().scope.app == "a1");
  CHECK(h.settings().timeout_ms == 2000);
  CHECK(h.settings().token == "t");

  h.env().clear();
  h.env()["KV_CONFIG"] = config;
  REQUIRE(SaveProfile(config, {"prod", "http://prod:7379", "kv_prod", "shop", "web"}, true).ok());
  REQUIRE(h.Run("get k") == kExitNotFound);
  CHECK(h.settings().url == "http://prod:7379");
  CHECK(h.settings().token == "kv_prod");
  CHECK(h.settings().scope.ns == "shop");
  CHECK(h.settings().scope.app == "web");
  REQUIRE(h.Run("-n other get k") == kExitNotFound);
  CHECK(h.settings().scope.ns == "other");
  // --url without -p: the current profile is not used, its token never sent.
  REQUIRE(h.Run("--url http://elsewhere:1 get k") == kExitNotFound);
  CHECK(h.settings().token.empty());
  CHECK(h.settings().scope.ns == "default");
  // -p with another URL: the profile's namespace, but not its token.
  REQUIRE(h.Run("-p prod --url http://elsewhere:1 get k") == kExitNotFound);
  CHECK(h.settings().token.empty());
  CHECK(h.settings().scope.ns == "shop");
  CHECK(h.Run("-p nope get k") == kExitUsage);
  CHECK(h.err() == "kv: no profile named nope (see kv profile ls)\n");
}

TEST_CASE("profile commands", "[unit]") {
  testing::TempDir dir;
  CliHarness h({{"XDG_CONFIG_HOME", dir.str()}});
  REQUIRE(h.Run("profile add prod --url http://prod:1 --token kv_t -n shop") == 0);
  REQUIRE(h.Run("profile add dev") == 0);
  REQUIRE(h.Run("profile ls") == 0);
  CHECK(h.out() == "dev\nprod\n");
  REQUIRE(h.Run("profile ls -o json") == 0);
  CHECK(h.out().find("\"name\":\"prod\",\"url\":\"http://prod:1\",\"namespace\":\"shop\"") !=
        std::string::npos);
  CHECK(h.out().find("kv_t") == std::string::npos);
  Result<Config> c = LoadConfig(dir.Sub("kv/config.toml"));
  REQUIRE(c.ok());
  CHECK(c->current == "prod");
  REQUIRE(h.Run("profile use dev") == 0);
  CHECK(LoadConfig(dir.Sub("kv/config.toml"))->current == "dev");
  CHECK(h.Run("profile use nope") == kExitNotFound);
  REQUIRE(h.Run("profile rm dev") == 0);
  CHECK(h.Run("profile rm dev") == kExitNotFound);
  CHECK(h.Run("profile add 'bad name'") == kExitUsage);

  // The token from KV_TOKEN, so that it need never be on a command line (ps).
  h.env()["KV_TOKEN"] = "kv_from_env";
  REQUIRE(h.Run("profile add envtok --url http://prod:2") == 0);
  CHECK(LoadConfig(dir.Sub("kv/config.toml"))->Find("envtok")->token == "kv_from_env");
  REQUIRE(h.Run("profile add flagtok --url http://prod:2 --token kv_flag") == 0);
  CHECK(LoadConfig(dir.Sub("kv/config.toml"))->Find("flagtok")->token == "kv_flag");
}

TEST_CASE("one context across lines: no stale flags / one connection", "[unit]") {
  CliHarness h;
  REQUIRE(h.Run("-n first set a 1 --ttl 1h -o json") == 0);
  CHECK_FALSE(h.out().empty());
  REQUIRE(h.Run("set b 2") == 0);  // neither the ttl nor -o json remain
  CHECK(h.out().empty());
  CHECK(h.store().data["b"].meta.ttl_ms == -1);
  CHECK(h.opens() == 1);
  Result<client::Backend*> b = h.ctx().backend();
  REQUIRE(b.ok());
  CHECK((*b)->scope().ns == "default");  // back from "first"
  REQUIRE(h.Run("--url unix:///other get a") == 0);
  CHECK(h.opens() == 2);  // new connection settings: a new backend
}

TEST_CASE("output defaults: table on a terminal / raw otherwise", "[unit]") {
  CliHarness h;
  REQUIRE(h.Run("set k v") == 0);
  REQUIRE(h.Run("get k") == 0);
  CHECK(h.out() == "v");
  h.set_tty(false, true);
  REQUIRE(h.Run("get k") == 0);
  CHECK(h.out() == "v\n");
  REQUIRE(h.Run("get k -o raw") == 0);
  CHECK(h.out() == "v");
}

TEST_CASE("colour: a terminal / unless NO_COLOR or TERM=dumb", "[unit]") {
  CliHarness h;
  h.set_tty(false, true);
  CHECK(h.ctx().color());
  h.env()["NO_COLOR"] = "1";
  CHECK_FALSE(h.ctx().color());
  h.env()["NO_COLOR"] = "";
  CHECK(h.ctx().color());
  h.env()["TERM"] = "dumb";
  CHECK_FALSE(h.ctx().color());
  h.set_tty(false, false);
  h.env().erase("TERM");
  CHECK_FALSE(h.ctx().color());
}

}  // namespace
}  // namespace kv::cli
