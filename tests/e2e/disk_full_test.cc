// A full disk: kvd's data directory on a small tmpfs fills up. Writes fail
// with 507 INSUFFICIENT_STORAGE (kv: exit 5), reads keep working, nothing
// acknowledged is lost or corrupted, and writes resume once space is freed
// (the tmpfs is grown, as deleting other files on a real disk would do).
//
// Mounting needs root (CI runs as root); elsewhere the test says why and
// passes without running.
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/http_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace kv::e2e {
namespace {

using kv::testing::KvdProcess;
using kv::testing::RunKvd;
using kv::testing::TempDir;
using namespace std::chrono_literals;

// A tmpfs of a given size, unmounted when it goes.
class SmallDisk {
 public:
  SmallDisk(std::string path, int mebibytes) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, Options(mebibytes).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  bool Grow(int mebibytes) {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, Options(mebibytes).c_str()) == 0;
  }

 private:
  static std::string Options(int mebibytes) {
    return "size=" + std::to_string(mebibytes) + "m,mode=0700";
  }
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// Runs kv with the given arguments against `socket`; returns its exit code
// and stderr.
std::pair<int, std::string> RunKv(const std::string& socket, const std::string& args) {
  std::string command = "KV_URL=unix://" + socket + " " + KV_PATH + " " + args + " 2>&1 >/dev/null";
  testing::CommandResult r = testing::RunCommand(command);
  return {r.code, r.out};
}

TEST_CASE("a full disk refuses writes with 507, keeps reads, and recovers", "[e2e][disk]") {
  TempDir dir("kv-disk-full");
  SmallDisk disk(dir.Sub("fs"), 24);
  if (!disk.mounted()) {
    WARN("not run: cannot mount a tmpfs here (" << disk.error() << "); needs root");
    return;
  }
  const std::string data = dir.Sub("fs/data");
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", data, "--socket", dir.Sub("kvd.sock")}));
  Client c = Client::Unix(dir.Sub("kvd.sock"));

  std::map<std::string, std::string> acknowledged;
  Reply refused;
  for (int i = 0; i < 1000 && refused.status == 0; ++i) {
    std::string key = "big-" + std::to_string(i);
    std::string value(200'000, static_cast<char>('a' + i % 26));
    Reply r = c.Call("PUT", "/v1/kv/" + key, value);
    if (r.status == 201) {
      acknowledged[key] = value;
    } else {
      refused = r;
    }
  }
  INFO(refused.error << refused.body << kvd.Stderr());
  REQUIRE(refused.status == 507);
  CHECK(refused.ErrorCode() == "INSUFFICIENT_STORAGE");
  CHECK(refused.body.find("no space left") != std::string::npos);
  REQUIRE(acknowledged.size() > 10);

  // While full: every write is refused and says why; kv exits 5.
  CHECK(c.Call("PUT", "/v1/kv/small", "1").status == 507);
  auto [code, err] = RunKv(dir.Sub("kvd.sock"), "set small 1");
  CHECK(code == 5);
  CHECK(err.find("no space left") != std::string::npos);

  // Reads keep working, exactly.
  for (const auto& [key, value] : acknowledged) {
    Reply r = c.Call("GET", "/v1/kv/" + key);
    REQUIRE(r.status == 200);
    REQUIRE(r.body == value);
  }

  // Space comes back: writes resume on their own once RocksDB sees room to
  // flush a memtable (64 MiB; it looks every 5 s).
  REQUIRE(disk.Grow(256));
  int status = 0;
  for (int i = 0; i < 300 && status != 201; ++i) {
    status = static_cast<int>(c.Call("PUT", "/v1/kv/after", "back").status);
    if (status != 201) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(status == 201);
  CHECK(RunKv(dir.Sub("kvd.sock"), "set small 1").first == 0);
  for (const auto& [key, value] : acknowledged) {
    Reply r = c.Call("GET", "/v1/kv/" + key);
    REQUIRE(r.status == 200);
    REQUIRE(r.body == value);
  }

  // Nothing is corrupted: a clean stop, and the directory checks out.
  kvd.Signal(SIGTERM);
  REQUIRE(kvd.Wait(20s) == 0);
  auto check = RunKvd({"check", "--data-dir", data}, {}, 60s);
  INFO(check.err << check.out);
  CHECK(check.exit_code == 0);
}

}  // namespace
}  // namespace kv::e2e
