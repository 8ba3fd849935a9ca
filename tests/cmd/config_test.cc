#include "cmd/kv/config.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace kv::cli {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("a missing config file is an empty config", "[unit]") {
  testing::TempDir dir;
  Result<Config> c = LoadConfig(dir.Sub("nope/config.toml"));
  REQUIRE(c.ok());
  CHECK(c->current.empty());
  CHECK(c->profiles.empty());
}

TEST_CASE("profiles are saved 0600 / read back / replaced / used and removed", "[unit]") {
  testing::TempDir dir;
  std::string path = dir.Sub("cfg/kv/config.toml");
  REQUIRE(SaveProfile(path, {"prod", "http://10.0.0.5:7379", "kv_secret", "shop", ""}, false).ok());
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(dir.Sub("cfg/kv").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  Result<Config> c = LoadConfig(path);
  REQUIRE(c.ok());
  CHECK(c->current == "prod");  // the first profile becomes current
  REQUIRE(c->profiles.size() == 1);
  const Profile* p = c->Find("prod");
  REQUIRE(p != nullptr);
  CHECK(p->url == "http://10.0.0.5:7379");
  CHECK(p->token == "kv_secret");
  CHECK(p->ns == "shop");
  CHECK(p->app.empty());

  REQUIRE(SaveProfile(path, {"dev", "", "", "", "web"}, false).ok());
  c = LoadConfig(path);
  REQUIRE(c.ok());
  CHECK(c->current == "prod");
  REQUIRE(c->profiles.size() == 2);
  CHECK(c->profiles[0].name == "dev");  // sorted
  CHECK(c->profiles[0].app == "web");

  REQUIRE(SaveProfile(path, {"prod", "http://other:1", "", "", ""}, true).ok());
  c = LoadConfig(path);
  CHECK(c->Find("prod")->url == "http://other:1");
  CHECK(c->Find("prod")->token.empty());

  REQUIRE(UseProfile(path, "dev").ok());
  CHECK(LoadConfig(path)->current == "dev");
  CHECK(UseProfile(path, "nope").IsNotFound());
  REQUIRE(RemoveProfile(path, "dev").ok());
  c = LoadConfig(path);
  CHECK(c->current.empty());
  CHECK(c->Find("dev") == nullptr);
  CHECK(RemoveProfile(path, "dev").IsNotFound());
  CHECK(SaveProfile(path, {"bad name", "", "", "", ""}, false).IsInvalidArgument());
}

TEST_CASE("members kv does not know survive a rewrite", "[unit]") {
  testing::TempDir dir;
  std::string path = dir.Sub("config.toml");
  std::ofstream(path) << "editor = 'vi'\n[profiles.a]\nurl = 'unix:///s'\ncolor = true\n";
  REQUIRE(UseProfile(path, "a").ok());
  std::string text = Slurp(path);
  CHECK(text.find("editor = 'vi'") != std::string::npos);
  CHECK(text.find("color = true") != std::string::npos);
  CHECK(LoadConfig(path)->current == "a");
}

// fuzz_url's find (tests/fuzz/corpus/url/toml_writes_back_unreadable):
// toml++ writes this string back as a literal it cannot read again.
TEST_CASE("a config kv cannot write back readably is refused and left as it was", "[unit]") {
  testing::TempDir dir;
  std::string path = dir.Sub("config.toml");
  const std::string original = "[profiles.a]\nnote = \"\"\"x\n'''''y\"\"\"\n";
  std::ofstream(path) << original;
  REQUIRE(LoadConfig(path).ok());
  Status s = SaveProfile(path, {"b", "unix:///s", "", "", ""}, false);
  if (s.ok()) {
    CHECK(LoadConfig(path).ok());  // a toml++ that writes it correctly
  } else {
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find(path + ": kv cannot write this file back") == 0);
    CHECK(Slurp(path) == original);
  }
}

// fuzz_url's (tests/fuzz/corpus/url/toml_writes_back_another_string): a
// multi-line string toml++ writes back as one that reads as another string.
TEST_CASE("a config kv cannot write back unchanged is refused and left as it was", "[unit]") {
  testing::TempDir dir;
  std::string path = dir.Sub("config.toml");
  const std::string original =
      "[profiles.local]\n"
      "url =\"\"\"=ggggggggggggggggggg\n"
      "current_profile = \"rpod\"\n"
      "\n"
      "[profiles.prod]\n"
      "url = \"http://0St\tctypeIcE\t2378\"\n"
      "\t\t\t\t\n"
      "\n"
      "ucrreRnt_proffhle = '''''\n"
      "ucrreRnt_proffhle = ''''')ep gg = \"e\\\\\\\\\"\"\"\"\n"
      "extra = 0\n";
  std::ofstream(path) << original;
  Result<Config> before = LoadConfig(path);
  REQUIRE(before.ok());
  const std::string url = before->Find("local")->url;
  Status s = SaveProfile(path, {"b", "unix:///s", "", "", ""}, false);
  if (s.ok()) {  // a toml++ that round-trips it
    Result<Config> after = LoadConfig(path);
    REQUIRE(after.ok());
    CHECK(after->Find("local")->url == url);
  } else {
    CHECK(s.message().find(path + ": kv cannot write this file back") == 0);
    CHECK(Slurp(path) == original);
  }
}

TEST_CASE("a bad config file is an error naming the file and line", "[unit]") {
  testing::TempDir dir;
  std::string path = dir.Sub("config.toml");
  std::ofstream(path) << "current_profile = 'a'\n[profiles.a\n";
  Result<Config> c = LoadConfig(path);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().IsInvalidArgument());
  CHECK(c.status().message().find(path + ":2:") == 0);

  std::ofstream(path, std::ios::trunc) << "[profiles.a]\nurl = 5\n";
  c = LoadConfig(path);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() == path + ":2: profiles.a.url must be a string");
  CHECK(SaveProfile(path, {"b", "", "", "", ""}, false).IsInvalidArgument());
}

}  // namespace
}  // namespace kv::cli
