// Tokens: created once, stored hashed and atomically, looked up, revoked.
#include "daemon/auth/token_store.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace kv::daemon::auth {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("a new token grants its tenant and nothing else", "[unit]") {
  kv::testing::TempDir dir;
  auto store = TokenStore::Open(dir.Sub("tokens.json"));
  REQUIRE(store.ok());
  auto t = (*store)->Create("acme");
  REQUIRE(t.ok());
  CHECK(t->token.rfind("kv_", 0) == 0);
  CHECK(t->token.size() == 3 + 43);  // 32 bytes in base64url without padding
  CHECK(t->info.tenant == "acme");
  CHECK(t->info.id.size() == 16);
  CHECK((*store)->Lookup(t->token) == std::optional<std::string>("acme"));

  std::string wrong = t->token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  CHECK(!(*store)->Lookup(wrong));
  CHECK(!(*store)->Lookup(""));
  CHECK(!(*store)->Lookup("kv_"));
  CHECK(!(*store)->Lookup(t->token + "x"));
}

TEST_CASE("tokens are random and distinct", "[unit]") {
  kv::testing::TempDir dir;
  auto store = TokenStore::Open(dir.Sub("tokens.json"));
  REQUIRE(store.ok());
  std::set<std::string> seen, ids;
  for (int i = 0; i < 20; ++i) {
    auto t = (*store)->Create("t");
    REQUIRE(t.ok());
    seen.insert(t->token);
    ids.insert(t->info.id);
  }
  CHECK(seen.size() == 20);
  CHECK(ids.size() == 20);
}

TEST_CASE("the file holds hashes, never the token, with mode 0600", "[unit]") {
  kv::testing::TempDir dir;
  std::string path = dir.Sub("data/tokens.json");  // parent created on demand
  auto store = TokenStore::Open(path);
  REQUIRE(store.ok());
  auto t = (*store)->Create("acme");
  REQUIRE(t.ok());
  std::string text = ReadFile(path);
  CHECK(text.find("acme") != std::string::npos);
  CHECK(text.find(t->token) == std::string::npos);
  CHECK(text.find(t->token.substr(3)) == std::string::npos);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("data"))) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("tokens survive a reopen, list shows no secret, revoke works at once", "[unit]") {
  kv::testing::TempDir dir;
  std::string path = dir.Sub("tokens.json");
  std::string a, b, a_id;
  {
    auto store = TokenStore::Open(path);
    REQUIRE(store.ok());
    auto ta = (*store)->Create("acme");
    auto tb = (*store)->Create("beta");
    REQUIRE(ta.ok());
    REQUIRE(tb.ok());
    a = ta->token;
    b = tb->token;
    a_id = ta->info.id;
  }
  auto store = TokenStore::Open(path);
  REQUIRE(store.ok());
  CHECK((*store)->Lookup(a) == std::optional<std::string>("acme"));
  CHECK((*store)->Lookup(b) == std::optional<std::string>("beta"));
  auto list = (*store)->List();
  REQUIRE(list.size() == 2);
  CHECK(list[0].tenant == "acme");
  CHECK(list[0].id == a_id);
  CHECK(list[0].created_ms > 0);
  CHECK(list[1].tenant == "beta");

  REQUIRE((*store)->Revoke(a_id).ok());
  CHECK(!(*store)->Lookup(a));
  CHECK((*store)->Lookup(b));
  CHECK((*store)->Revoke(a_id).IsNotFound());
  auto again = TokenStore::Open(path);
  REQUIRE(again.ok());
  CHECK(!(*again)->Lookup(a));
  CHECK((*again)->List().size() == 1);
}

TEST_CASE("a bad tenant name is refused", "[unit]") {
  kv::testing::TempDir dir;
  auto store = TokenStore::Open(dir.Sub("tokens.json"));
  REQUIRE(store.ok());
  CHECK((*store)->Create("").status().IsInvalidArgument());
  CHECK((*store)->Create("a/b").status().IsInvalidArgument());
  CHECK((*store)->List().empty());
}

TEST_CASE("a damaged token file is an error, never overwritten", "[unit]") {
  kv::testing::TempDir dir;
  std::string path = dir.Sub("tokens.json");
  { std::ofstream(path) << "{not json"; }
  auto store = TokenStore::Open(path);
  CHECK(store.status().code() == Status::Code::kCorruption);
  CHECK(ReadFile(path) == "{not json");
  { std::ofstream(path) << R"({"version":1,"tokens":[{"id":"x","tenant":"a","sha256":"zz"}]})"; }
  CHECK(TokenStore::Open(path).status().code() == Status::Code::kCorruption);
}

TEST_CASE("concurrent creates and lookups lose nothing", "[unit]") {
  kv::testing::TempDir dir;
  auto opened = TokenStore::Open(dir.Sub("tokens.json"));
  REQUIRE(opened.ok());
  TokenStore& store = **opened;
  std::vector<std::thread> threads;
  std::vector<std::string> made(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto t = store.Create("t" + std::to_string(i));
      if (t.ok()) made[i] = t->token;
      for (int k = 0; k < 50; ++k) (void)store.Lookup(made[i]);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    CHECK(store.Lookup(made[i]) == std::optional<std::string>("t" + std::to_string(i)));
  }
  auto reopened = TokenStore::Open(dir.Sub("tokens.json"));
  REQUIRE(reopened.ok());
  CHECK((*reopened)->List().size() == 8);
}

}  // namespace
}  // namespace kv::daemon::auth
