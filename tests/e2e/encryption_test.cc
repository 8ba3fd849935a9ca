// kvd --encryption-key-file with the real binary: what reaches the disk of
// its data directory, restarts with the key, the one-line refusals (exit 1)
// of an encrypted directory without its key or with another, or of a key
// for a plain one, leaving the directory as it was; `kvd check` with the
// key; and the key file's own errors (exit 2).
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/http_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/support/raw_files.h"
#include "tests/support/temp_dir.h"

namespace kv::e2e {
namespace {

using kv::testing::AnyEndsWith;
using kv::testing::FilesContaining;
using kv::testing::KvdProcess;
using kv::testing::KvdRun;
using kv::testing::RunKvd;
using kv::testing::SnapshotFiles;
using kv::testing::TempDir;
using namespace std::chrono_literals;

const std::string kKeyA = "3c9d1f2e4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const std::string kKeyB = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

// Distinctive enough never to appear in a file by chance, and sharing no
// four bytes, which compression would store as a back-reference.
const std::string kFirstValue = "Aardvark1Bison2Cheetah3Dingo4";
const std::string kSecondValue = "Eagle5Ferret6Gecko7Heron8";
const std::string kSecretKeyName = "ibis9jackal0koala";
const std::string kWebhookUrl = "http://127.0.0.1:9/lemur/mongoose/narwhal";

std::string WriteKeyFile(const TempDir& dir, const std::string& name, const std::string& text,
                         mode_t mode = 0600) {
  std::string path = dir.Sub(name);
  std::ofstream(path, std::ios::trunc) << text;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

// One line, "kvd: ...".
bool IsOneKvdLine(const std::string& err) {
  return err.rfind("kvd: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

struct Setup {
  TempDir dir{"kvd-crypt"};
  std::string data = dir.Sub("data");
  std::string key_a = WriteKeyFile(dir, "a.key", kKeyA + "\n");
  std::string key_b = WriteKeyFile(dir, "b.key", kKeyB + "\n");

  std::vector<std::string> Args(const std::string& key_file = "") const {
    std::vector<std::string> a = {"--data-dir", data, "--socket", dir.Sub("kvd.sock")};
    if (!key_file.empty()) a.insert(a.end(), {"--encryption-key-file", key_file});
    return a;
  }
  void Stop(KvdProcess& kvd) const {
    kvd.Signal(SIGTERM);
    REQUIRE(kvd.Wait(20s) == 0);
  }
};

void Put(const KvdProcess& kvd, const std::string& key, const std::string& value) {
  Reply r = Client::Unix(kvd.unix_socket()).Call("PUT", "/v1/kv/" + key, value);
  INFO(r.body);
  REQUIRE((r.status == 200 || r.status == 201));
}

std::string Get(const KvdProcess& kvd, const std::string& key) {
  Reply r = Client::Unix(kvd.unix_socket()).Call("GET", "/v1/kv/" + key);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.body;
}

// Two runs of kvd: the first value goes into the write-ahead log and, when
// the second run recovers it, into an SST; the second value and a webhook
// stay in the second run's log. `env` passes the key through the variable.
void WriteThroughTwoRuns(const Setup& s, const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {}) {
  KvdProcess kvd;
  REQUIRE(kvd.Start(args, env));
  Put(kvd, kSecretKeyName, kFirstValue);
  s.Stop(kvd);
  REQUIRE(kvd.Start(args, env));
  Put(kvd, "second", kSecondValue);
  Json hook = {{"key", "never-matches-*"}, {"event", "create"}, {"endpoint", kWebhookUrl}};
  Reply r = Client::Unix(kvd.unix_socket()).Call("POST", "/webhooks", hook.dump());
  INFO(r.body);
  REQUIRE(r.status == 201);
  s.Stop(kvd);
}

TEST_CASE("without a key, kvd's values, keys and webhooks are on disk in plain text", "[e2e]") {
  Setup s;
  WriteThroughTwoRuns(s, s.Args());
  // The control for the next test: what it must not find is there to find.
  CHECK(AnyEndsWith(FilesContaining(s.data, kFirstValue), ".sst"));
  CHECK(AnyEndsWith(FilesContaining(s.data, kSecondValue), ".log"));
  CHECK(AnyEndsWith(FilesContaining(s.data, kSecretKeyName), ".sst"));
  CHECK_FALSE(FilesContaining(s.data, kWebhookUrl).empty());
}

TEST_CASE("with --encryption-key-file no file of kvd's holds them, and the key brings them back",
          "[e2e]") {
  Setup s;
  SECTION("the flag") { WriteThroughTwoRuns(s, s.Args(s.key_a)); }
  SECTION("its variable") {
    WriteThroughTwoRuns(s, s.Args(), {"KVD_ENCRYPTION_KEY_FILE=" + s.key_a});
  }
  auto files = SnapshotFiles(s.data);
  std::vector<std::string> names;
  for (const auto& [name, bytes] : files) names.push_back(name);
  INFO("files: " << names.size());
  REQUIRE(AnyEndsWith(names, ".sst"));
  REQUIRE(AnyEndsWith(names, ".log"));
  for (const std::string& needle : {kFirstValue, kSecondValue, kSecretKeyName, kWebhookUrl}) {
    INFO(needle);
    CHECK(FilesContaining(s.data, needle).empty());
  }
  CHECK(FilesContaining(s.data, kKeyA).empty());  // nor the key

  KvdProcess kvd;
  REQUIRE(kvd.Start(s.Args(s.key_a)));
  CHECK(Get(kvd, kSecretKeyName) == kFirstValue);
  CHECK(Get(kvd, "second") == kSecondValue);
  Reply hooks = Client::Unix(kvd.unix_socket()).Call("GET", "/v1/webhooks");
  CHECK(hooks.body.find(kWebhookUrl) != std::string::npos);
  s.Stop(kvd);

  KvdRun check = RunKvd({"check", "--data-dir", s.data, "--encryption-key-file", s.key_a});
  INFO(check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.err.find("consistent") != std::string::npos);
  CHECK(check.err.find("2 keys") != std::string::npos);
}

TEST_CASE("an encrypted data directory without its key or with another is refused, untouched",
          "[e2e]") {
  Setup s;
  {
    KvdProcess kvd;
    REQUIRE(kvd.Start(s.Args(s.key_a)));
    Put(kvd, "k", kFirstValue);
    s.Stop(kvd);
  }
  const auto before = SnapshotFiles(s.data);

  KvdRun none = RunKvd(s.Args());
  INFO(none.err);
  CHECK(none.exit_code == 1);
  CHECK(IsOneKvdLine(none.err));
  CHECK(none.err.find("is encrypted: its key is needed (--encryption-key-file)") !=
        std::string::npos);
  CHECK(none.out.empty());  // never listened

  KvdRun other = RunKvd(s.Args(s.key_b));
  INFO(other.err);
  CHECK(other.exit_code == 1);
  CHECK(IsOneKvdLine(other.err));
  CHECK(other.err.find("the encryption key does not open data directory") != std::string::npos);

  for (const auto& key : {std::string(), s.key_b}) {
    std::vector<std::string> args = {"check", "--data-dir", s.data};
    if (!key.empty()) args.insert(args.end(), {"--encryption-key-file", key});
    KvdRun check = RunKvd(args);
    INFO(check.err);
    CHECK(check.exit_code == 1);
    CHECK(IsOneKvdLine(check.err));
    CHECK(check.err.find("encrypt") != std::string::npos);
  }

  CHECK(SnapshotFiles(s.data) == before);
  KvdProcess kvd;
  REQUIRE(kvd.Start(s.Args(s.key_a)));
  CHECK(Get(kvd, "k") == kFirstValue);
}

TEST_CASE("a key for a plain data directory is refused, untouched", "[e2e]") {
  Setup s;
  {
    KvdProcess kvd;
    REQUIRE(kvd.Start(s.Args()));
    Put(kvd, "k", kFirstValue);
    s.Stop(kvd);
  }
  const auto before = SnapshotFiles(s.data);
  KvdRun keyed = RunKvd(s.Args(s.key_a));
  INFO(keyed.err);
  CHECK(keyed.exit_code == 1);
  CHECK(IsOneKvdLine(keyed.err));
  CHECK(keyed.err.find("is not encrypted, but an encryption key was given") != std::string::npos);
  CHECK(SnapshotFiles(s.data) == before);
  KvdProcess kvd;
  REQUIRE(kvd.Start(s.Args()));
  CHECK(Get(kvd, "k") == kFirstValue);
}

TEST_CASE("a key file open to others, not a key, or missing: one line, exit 2, nothing made",
          "[e2e]") {
  Setup s;
  struct Case {
    std::string file;
    std::string says;
  };
  std::vector<Case> cases = {
      {WriteKeyFile(s.dir, "open.key", kKeyA + "\n", 0644), "permissions 0644 are too open"},
      {WriteKeyFile(s.dir, "group.key", kKeyA + "\n", 0640), "permissions 0640 are too open"},
      {WriteKeyFile(s.dir, "short.key", kKeyA.substr(0, 32) + "\n"), "found 32 characters"},
      {WriteKeyFile(s.dir, "text.key", "my secret passphrase\n"), "64 hexadecimal digits"},
      {s.dir.Sub("missing.key"), "No such file or directory"},
  };
  for (const Case& c : cases) {
    KvdRun run = RunKvd(s.Args(c.file));
    INFO(c.file << ": " << run.err);
    CHECK(run.exit_code == 2);
    CHECK(IsOneKvdLine(run.err));
    CHECK(run.err.find("encryption key file " + c.file + ": ") != std::string::npos);
    CHECK(run.err.find(c.says) != std::string::npos);
    CHECK(run.err.find("passphrase") == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(s.data));
  }
}

TEST_CASE("kvd --help tells how to make a key", "[e2e]") {
  KvdRun help = RunKvd({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--encryption-key-file") != std::string::npos);
  CHECK(help.out.find("KVD_ENCRYPTION_KEY_FILE") != std::string::npos);
  CHECK(help.out.find("openssl rand -hex 32") != std::string::npos);
}

}  // namespace
}  // namespace kv::e2e
