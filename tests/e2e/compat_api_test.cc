// kvd as a drop-in for simple-golang-kv and for Invoke's KV: a real kvd over
// TCP (loopback, --no-auth, as those services take no token), driven as their
// users drive them: the requests of simple-golang-kv's README and the curl
// commands of Invoke's KV test function, verbatim but for the base URL, with
// the curl command line; `kv -n NS --app APP` reading what they wrote; and
// `kv --url invoke+http://...` (kv's Invoke backend) against the same kvd.
//
// KVD_PATH, KV_PATH and KV_REMOTE_LIB_PATH are compile definitions set by
// tests/e2e/CMakeLists.txt.
#include <stdio.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/kvd_process.h"
#include "tests/support/run_command.h"

namespace kv::testing {
namespace {

using Json = nlohmann::json;

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// What curl got: the status and the body.
struct CurlReply {
  int status = 0;
  std::string body;
  Json json() const {
    Json j = Json::parse(body, nullptr, false);
    INFO("status " << status << ", body: " << body);
    REQUIRE(!j.is_discarded());
    return j;
  }
};

// Runs a curl command line, adding -s and a last line with the status.
CurlReply Curl(const std::string& command) {
  CommandResult r = RunCommand(command + " -s -w '\\n%{http_code}'");
  INFO(command << "\n" << r.out);
  REQUIRE(r.code == 0);
  size_t nl = r.out.rfind('\n');
  REQUIRE(nl != std::string::npos);
  return {std::stoi(r.out.substr(nl + 1)), r.out.substr(0, nl)};
}

// A kvd on a temporary socket and a loopback port, and kv pointed at it.
class Compat {
 public:
  explicit Compat(std::vector<std::string> flags = {"--no-auth"},
                  std::vector<std::string> env = {}) {
    std::vector<std::string> args = {"--data-dir",         dir_.Sub("data"), "--socket",
                                     dir_.Sub("kvd.sock"), "--listen",       "127.0.0.1:0"};
    args.insert(args.end(), flags.begin(), flags.end());
    REQUIRE(kvd_.Start(args, env));
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(kvd_.tcp_port()); }

  // kv with an isolated environment, on this kvd's socket unless args say
  // --url; stderr joins stdout.
  CommandResult Kv(const std::string& args) const {
    std::string env =
        "env -u KV_URL -u KV_TOKEN -u KV_NAMESPACE -u KV_APP -u KV_PROFILE HOME=" + dir_.str() +
        " XDG_CONFIG_HOME=" + dir_.Sub("cfg") + " XDG_STATE_HOME=" + dir_.Sub("state") +
        " XDG_RUNTIME_DIR=" + dir_.Sub("run") +
        " KV_NO_AUTOSTART=1 KV_REMOTE_LIB=" KV_REMOTE_LIB_PATH;
    std::string where =
        args.find("--url") == std::string::npos ? " --socket " + dir_.Sub("kvd.sock") + " " : " ";
    return RunCommand(env + " " KV_PATH + where + args + " 2>&1");
  }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_{"kv-compat"};
  KvdProcess kvd_{KVD_PATH};
};

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ----------------------------------------------------------- simple-golang-kv

// The README's requests, as curl sends them: its headers, its bodies (no
// Content-Type: the README shows none; "Content-Type:" stops curl adding one).
const std::string kSgkvHeaders =
    "-H 'KV-Namespace: myns' -H 'KV-App-Name: myapp' -H 'Content-Type:'";
const std::string kSgkvSetBody = R"j({
  "key": "foo",
  "value": "bar",
  "ttl": 60
})j";
const std::string kSgkvUpdateBody = R"j({
  "value": "baz",
  "ttl": 120
})j";

TEST_CASE("simple-golang-kv's README requests work against kvd over TCP", "[e2e]") {
  Compat c;
  const std::string kv = c.base() + "/kv";
  CurlReply set =
      Curl("curl -X POST " + kSgkvHeaders + " --data-binary '" + kSgkvSetBody + "' " + kv);
  CHECK(set.status == 201);
  CHECK(set.body == "{\"key\":\"foo\",\"value\":\"bar\",\"ttl\":60}\n");

  CurlReply get = Curl("curl " + kSgkvHeaders + " " + kv + "/foo");
  CHECK(get.status == 200);
  Json g = get.json();
  CHECK(g["key"] == "foo");
  CHECK(g["value"] == "bar");
  CHECK(g["ttl"].get<int64_t>() > 0);
  CHECK(g["ttl"].get<int64_t>() <= 60);
  CHECK(g["expire_at"].get<int64_t>() > NowSeconds());
  CHECK(g["expire_at"].get<int64_t>() <= NowSeconds() + 61);
  // Each namespace/app pair is a kvd namespace.
  CommandResult read = c.Kv("-n myns --app myapp get foo");
  CHECK(read.code == 0);
  CHECK(read.out == "bar");

  CurlReply update = Curl("curl -X PUT " + kSgkvHeaders + " --data-binary '" + kSgkvUpdateBody +
                          "' " + kv + "/foo");
  CHECK(update.status == 200);
  CHECK(update.body == "{\"key\":\"foo\",\"value\":\"baz\",\"ttl\":120}\n");
  CHECK(c.Kv("-n myns --app myapp get foo").out == "baz");
  // What kv writes, simple-golang-kv's API reads.
  CHECK(c.Kv("-n myns --app myapp set foo2 qux").code == 0);
  CurlReply list = Curl("curl " + kSgkvHeaders + " '" + kv + "/foo*'");
  CHECK(list.status == 200);
  CHECK(list.json().size() == 2);
  CHECK(list.json()[1] ==
        Json{{"key", "foo2"}, {"value", "qux"}, {"ttl", nullptr}, {"expire_at", nullptr}});

  CurlReply del = Curl("curl -X DELETE " + kSgkvHeaders + " " + kv + "/foo");
  CHECK(del.status == 204);
  CHECK(del.body.empty());
  CurlReply gone = Curl("curl " + kSgkvHeaders + " " + kv + "/foo");
  CHECK(gone.status == 404);
  CHECK(gone.body == "{\"error\":\"Key not found\"}\n");
  CHECK(c.Kv("-n myns --app myapp has foo").code == 1);

  // A key with '/', which simple-golang-kv could write but never read.
  CHECK(
      Curl("curl -H 'Content-Type: application/json' -d '{\"key\":\"a/b\",\"value\":\"v\"}' " + kv)
          .status == 201);
  CHECK(Curl("curl " + kv + "/a/b").json()["value"] == "v");
  CHECK(c.Kv("get a/b").out == "v");

  // Bad input: the recorded 400, nothing written.
  CurlReply bad =
      Curl("curl -H 'Content-Type: application/json' -d '{\"key\":\"n\",\"value\":5}' " + kv);
  CHECK(bad.status == 400);
  CHECK(bad.body == "{\"error\":\"Invalid input\"}\n");
  CHECK(c.Kv("has n").code == 1);
}

TEST_CASE("simple-golang-kv's environment variables and flags configure kvd", "[e2e]") {
  Compat c({"--no-auth", "--sgkv-max-ttl-seconds", "100"},
           {"DEFAULT_NAMESPACE=shared", "DEFAULT_APPNAME=web", "DEFAULT_TTL_SECONDS=30",
            "MAX_KEY_LEN=5", "MAX_VALUE_SIZE=8", "MAX_NAMESPACE_LEN=6", "MAX_APPNAME_LEN=7"});
  const std::string kv = c.base() + "/kv";
  const std::string json = " -H 'Content-Type: application/json' ";
  CurlReply set = Curl("curl" + json + "-d '{\"key\":\"k\",\"value\":\"v\"}' " + kv);
  CHECK(set.status == 201);
  CHECK(set.body == "{\"key\":\"k\",\"value\":\"v\",\"ttl\":30}\n");
  CHECK(c.Kv("-n shared --app web get k").out == "v");
  struct Case {
    std::string curl_args;
    std::string body;
  };
  for (const Case& bad : std::vector<Case>{
           {"-d '{\"key\":\"k23456\",\"value\":\"v\"}'",
            "{\"message\":\"Key too long (max 5 characters)\"}\n"},
           {"-d '{\"key\":\"k\",\"value\":\"123456789\"}'",
            "{\"error\":\"Value too large (max 8 bytes)\"}\n"},
           {"-d '{\"key\":\"k\",\"value\":\"v\",\"ttl\":101}'",
            "{\"error\":\"TTL must be between 0 and 100 seconds\"}\n"},
           {"-H 'KV-Namespace: abcdefg' -d '{\"key\":\"k\",\"value\":\"v\"}'",
            "{\"message\":\"Namespace too long (max 6 characters)\"}\n"},
           {"-H 'KV-App-Name: abcdefgh' -d '{\"key\":\"k\",\"value\":\"v\"}'",
            "{\"message\":\"App name too long (max 7 characters)\"}\n"},
       }) {
    CurlReply r = Curl("curl" + json + bad.curl_args + " " + kv);
    CHECK(r.status == 400);
    CHECK(r.body == bad.body);
  }
  CHECK(c.Kv("-n shared --app web get k").out == "v");  // unchanged

  // A setting kvd cannot work with stops it at start, naming the variable.
  TempDir dir("kv-compat-bad");
  KvdRun run =
      RunKvd({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock")}, {"MAX_KEY_LEN=ten"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("MAX_KEY_LEN") != std::string::npos);
  run = RunKvd({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"),
                "--sgkv-max-value-size", "20MiB"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("MAX_VALUE_SIZE") != std::string::npos);
}

TEST_CASE("without --no-auth, tokenless clients of /kv and /invoke get 401", "[e2e]") {
  Compat c(std::vector<std::string>{});
  CHECK(Curl("curl " + c.base() + "/kv/foo").status == 401);
  CHECK(Curl("curl " + c.base() + "/invoke/p/get/foo").status == 401);
}

// ------------------------------------------------------------------- Invoke

// The test function's README commands, character for character.
const char* const kInvokeGet = "curl https://your-domain/invoke/<function-id>/get/mykey";
const char* const kInvokeSetUser =
    "curl -X POST https://your-domain/invoke/<function-id>/set \\\n"
    "  -H \"Content-Type: application/json\" \\\n"
    "  -d '{\"key\": \"user\", \"value\": {\"name\": \"John\", \"age\": 30}}'";
const char* const kInvokeSetSession =
    "curl -X POST https://your-domain/invoke/<function-id>/set \\\n"
    "  -H \"Content-Type: application/json\" \\\n"
    "  -d '{\"key\": \"session\", \"value\": \"token123\", \"ttl\": 3600000}'";
const char* const kInvokeDelete =
    "curl -X DELETE https://your-domain/invoke/<function-id>/delete/mykey";
const char* const kInvokeHas = "curl https://your-domain/invoke/<function-id>/has/mykey";
const char* const kInvokeClear = "curl -X POST https://your-domain/invoke/<function-id>/clear";

TEST_CASE("Invoke's KV test function examples work against kvd over TCP", "[e2e]") {
  Compat c;
  auto run = [&](const std::string& example) {
    return Curl(ReplaceAll(example, "https://your-domain/invoke/<function-id>",
                           c.base() + "/invoke/myproject"));
  };
  CurlReply missing = run(kInvokeGet);
  CHECK(missing.status == 404);
  CHECK(missing.body == R"j({"error":"Key not found","key":"mykey"})j");
  CHECK(run(kInvokeHas).body == R"j({"key":"mykey","exists":false})j");

  CurlReply user = run(kInvokeSetUser);
  CHECK(user.status == 200);
  CHECK(user.body == R"j({"success":true,"key":"user","value":{"name":"John","age":30}})j");
  CurlReply session = run(kInvokeSetSession);
  CHECK(session.status == 200);
  CHECK(session.body == R"j({"success":true,"key":"session","value":"token123"})j");
  // The project is a kvd namespace; the TTL is the one sent.
  CHECK(c.Kv("-n myproject get user").out == R"j({"name":"John","age":30})j");
  CHECK(c.Kv("-n myproject get session").out == "token123");
  Json meta = Json::parse(c.Kv("-n myproject meta session -o json").out, nullptr, false);
  REQUIRE(meta.is_object());
  CHECK(meta["ttl_ms"].get<int64_t>() > 3500000);
  CHECK(meta["ttl_ms"].get<int64_t>() <= 3600000);

  CHECK(c.Kv("-n myproject set mykey myvalue").code == 0);
  CurlReply get = run(kInvokeGet);
  CHECK(get.status == 200);
  CHECK(get.body == R"j({"key":"mykey","value":"myvalue"})j");
  CHECK(run(kInvokeHas).body == R"j({"key":"mykey","exists":true})j");
  CurlReply del = run(kInvokeDelete);
  CHECK(del.status == 200);
  CHECK(del.body == R"j({"success":true,"deleted":true,"key":"mykey"})j");
  CHECK(run(kInvokeDelete).body == R"j({"success":true,"deleted":false,"key":"mykey"})j");

  CurlReply clear = run(kInvokeClear);
  CHECK(clear.status == 200);
  CHECK(clear.body == R"j({"success":true,"message":"All keys cleared"})j");
  CHECK(c.Kv("-n myproject has user").code == 1);

  CurlReply unknown = Curl("curl " + c.base() + "/invoke/myproject/list");
  CHECK(unknown.status == 404);
  CHECK(unknown.json()["error"] == "Route not found");
}

TEST_CASE("Invoke: a set over the project's quota is 413 and writes nothing", "[e2e]") {
  Compat c({"--no-auth", "--quota-bytes", "64"});
  const std::string set =
      "curl -X POST " + c.base() + "/invoke/p/set -H 'Content-Type: application/json' -d ";
  CHECK(Curl(set + "'{\"key\":\"a\",\"value\":\"" + std::string(50, 'x') + "\"}'").status == 200);
  CurlReply over = Curl(set + "'{\"key\":\"b\",\"value\":\"" + std::string(20, 'y') + "\"}'");
  CHECK(over.status == 413);
  CHECK(over.json()["error"].get<std::string>().find("quota exceeded") != std::string::npos);
  CHECK(Curl("curl " + c.base() + "/invoke/p/has/b").body == R"j({"key":"b","exists":false})j");
}

TEST_CASE("Invoke's admin export, imported into another project, is the same data", "[e2e]") {
  Compat c;
  const std::string set =
      "curl -X POST " + c.base() + "/invoke/a/set -H 'Content-Type: application/json' -d ";
  CHECK(Curl(set + R"j('{"key":"cfg","value":{"on":true,"n":[1,2]}}')j").status == 200);
  CHECK(Curl(set + R"j('{"key":"name","value":"Ada"}')j").status == 200);
  const std::string file = c.dir().Sub("a.json");
  CHECK(RunCommand("curl -s -f -o " + file + " " + c.base() + "/api/projects/a/kv-export").code == 0);
  std::string exported = ReadWholeFile(file);
  CHECK(exported ==
        "{\n  \"cfg\": {\n    \"on\": true,\n    \"n\": [\n      1,\n      2\n    ]\n"
        "  },\n  \"name\": \"Ada\"\n}");
  std::ofstream(c.dir().Sub("import.json"))
      << "{\"data\": " << exported << ", \"strategy\": \"replace\"}";
  CurlReply imported =
      Curl("curl -H 'Content-Type: application/json' -d @" + c.dir().Sub("import.json") + " " +
           c.base() + "/api/projects/b/kv-import");
  CHECK(imported.status == 200);
  CHECK(imported.json()["data"] ==
        Json{{"imported", 2}, {"updated", 0}, {"total", 2}, {"strategy", "replace"}});
  CHECK(Curl("curl " + c.base() + "/api/projects/b/kv-export").body == exported);
  CHECK(Curl("curl " + c.base() + "/invoke/b/get/cfg").json()["value"] ==
        Json{{"on", true}, {"n", {1, 2}}});
}

TEST_CASE("kv --url invoke+http:// against kvd's Invoke API", "[e2e]") {
  Compat c({"--no-auth", "--quota-bytes", "200"});
  const std::string url =
      "--url invoke+http://127.0.0.1:" + c.base().substr(c.base().rfind(':') + 1) + "/invoke/proj ";
  CHECK(c.Kv(url + "set greeting hello").code == 0);
  CHECK(c.Kv(url + "get greeting").out == "hello");
  CHECK(c.Kv(url + "set cfg '{\"a\":[1,true,null]}'").code == 0);
  CHECK(c.Kv(url + "get cfg").out == "{\"a\":[1,true,null]}");
  // The same keys through the native API: the project is the namespace.
  CHECK(c.Kv("-n proj get greeting").out == "hello");
  CHECK(Curl("curl " + c.base() + "/invoke/proj/get/cfg").json()["value"] ==
        Json{{"a", {1, true, nullptr}}});
  CHECK(c.Kv(url + "set n 42").code == 0);
  CHECK(Curl("curl " + c.base() + "/invoke/proj/get/n").json()["value"] == 42);

  CHECK(c.Kv(url + "has greeting").code == 0);
  CHECK(c.Kv(url + "has nope").code == 1);
  CommandResult missing = c.Kv(url + "get nope");
  CHECK(missing.code == 1);
  CHECK(missing.out.rfind("kv: ", 0) == 0);
  CHECK(c.Kv(url + "del greeting").code == 0);
  CHECK(c.Kv(url + "del greeting").code == 1);
  CHECK(c.Kv(url + "has greeting").code == 1);

  // Keys that are dot segments reach the key, not another path.
  for (const char* key : {"..", ".", "a/../b", "a/./b"}) {
    INFO(key);
    CHECK(c.Kv(url + "set '" + key + "' dots").code == 0);
    CommandResult got = c.Kv(url + "get '" + key + "'");
    CHECK(got.code == 0);
    CHECK(got.out == "dots");
    CHECK(c.Kv(url + "del '" + key + "'").code == 0);
  }

  CHECK(c.Kv(url + "set session token123 --ttl 1h").code == 0);
  Json meta = Json::parse(c.Kv("-n proj meta session -o json").out, nullptr, false);
  REQUIRE(meta.is_object());
  CHECK(meta["ttl_ms"].get<int64_t>() > 3500000);

  CommandResult quota = c.Kv(url + "set big " + std::string(300, 'z'));
  CHECK(quota.code == 5);
  CHECK(quota.out.find("quota exceeded") != std::string::npos);
  CHECK(c.Kv(url + "has big").code == 1);

  CommandResult ls = c.Kv(url + "ls");
  CHECK(ls.code == 5);
  CHECK(ls.out == "kv: invoke does not support ls\n");

  CHECK(c.Kv(url + "clear --yes").code == 0);
  CHECK(c.Kv(url + "has cfg").code == 1);
  CHECK(c.Kv("-n proj has n").code == 1);
}

}  // namespace
}  // namespace kv::testing
