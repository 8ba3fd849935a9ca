// bench/http_load against a real kvd over its Unix socket: what it reports
// is what kvd did, and what it cannot do it says in one line. Its speed is
// the benchmark's business, never a test's.
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/http_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/support/run_command.h"

namespace kv::testing {
namespace {

CommandResult HttpLoad(const std::string& args) {
  return RunCommand(std::string(HTTP_LOAD_PATH) + " " + args + " 2>&1");
}

// The number after `name=` in http_load's RESULT line.
double Field(const std::string& out, const std::string& name) {
  size_t at = out.find(" " + name + "=");
  REQUIRE(at != std::string::npos);
  return std::stod(out.substr(at + name.size() + 2));
}

TEST_CASE("http_load drives kvd's Unix socket and reports what kvd answered", "[e2e]") {
  TempDir dir;
  KvdProcess kvd;
  const std::string socket = dir.Sub("run/kvd.sock");
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", socket}));

  CommandResult put = HttpLoad("--target unix:" + socket +
                     " --op put --connections 4 --threads 2 --duration 1s --keys 20 --value-bytes 7");
  INFO(put.out);
  REQUIRE(put.code == 0);
  REQUIRE(put.out.rfind("RESULT ops=", 0) == 0);
  CHECK(Field(put.out, "ops") > 0);
  CHECK(Field(put.out, "non2xx") == 0);
  CHECK(Field(put.out, "errors") == 0);
  CHECK(Field(put.out, "p99_ms") >= Field(put.out, "p50_ms"));

  // The PUTs reached kvd: every one of 20 keys is there with the value.
  e2e::Client c = e2e::Client::Unix(socket);
  int found = 0;
  for (int i = 0; i < 20; ++i) {
    e2e::Reply r = c.Call("GET", "/v1/kv/key:" + std::to_string(i));
    if (r.status == 200 && r.body == "vvvvvvv") ++found;
  }
  CHECK(found == 20);

  // GETs of keys that are not there count as non-2xx.
  CommandResult get = HttpLoad("--target unix:" + socket +
                     " --op get --connections 2 --threads 1 --duration 1s --keys 1000");
  INFO(get.out);
  REQUIRE(get.code == 0);
  CHECK(Field(get.out, "non2xx") > 0);
  CHECK(Field(get.out, "errors") == 0);
}

TEST_CASE("http_load: nothing listening or a bad flag is one line and a failure", "[e2e]") {
  TempDir dir;
  CommandResult none = HttpLoad("--target unix:" + dir.Sub("nothing.sock") + " --op get --duration 1s");
  CHECK(none.code == 1);
  CHECK(none.out == "http_load: cannot connect to unix:" + dir.Sub("nothing.sock") +
                        ": No such file or directory\n");
  CommandResult bad = HttpLoad("--target unix:/x --op delete");
  CHECK(bad.code == 2);
  CHECK(bad.out.rfind("http_load: --op is get or put, not 'delete'", 0) == 0);
  CHECK(bad.out.find('\n') == bad.out.size() - 1);
  CommandResult port = HttpLoad("--target 127.0.0.1:70000 --op get");
  CHECK(port.code == 2);
  CHECK(port.out.rfind("http_load: --target port is at most 65535, not 70000", 0) == 0);
}

}  // namespace
}  // namespace kv::testing
