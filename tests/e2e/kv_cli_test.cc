// kv end to end: the built `kv` binary run as a shell runs it (argv, env,
// stdin, stdout, stderr, exit code) against a real kvd started in a temporary
// directory. Every test gets its own kvd, socket, port and XDG directories,
// so the tests run in parallel.
//
// KV_PATH and KVD_PATH are compile definitions set by tests/e2e/CMakeLists.txt.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/kvd_process.h"
#include "tests/support/sanitizer_env.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace kv::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct KvResult {
  int code = -1;  // -1: timed out (killed); 128+N: killed by signal N
  std::string out;
  std::string err;
  long max_rss_kb = 0;
};

struct KvCall {
  std::vector<std::string> args;
  std::string input;       // written to stdin (closed after it)
  std::string stdin_path;  // instead of input: stdin opened from this file
  int stdin_fd = -1;       // instead of both: this descriptor (e.g. a pty)
  std::vector<std::string> env;  // NAME=VALUE overrides; NAME alone removes NAME
  std::chrono::milliseconds timeout = 120s;
};

std::vector<std::string> MergeEnv(const std::vector<std::string>& base,
                                  const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  for (const auto* list : {&base, &extra}) {
    for (const std::string& e : *list) {
      size_t eq = e.find('=');
      if (eq == std::string::npos) {
        vars.erase(e);
      } else {
        vars[e.substr(0, eq)] = e.substr(eq + 1);
      }
    }
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Spawns `argv` with `env` and the stdin `call` describes; collects stdout and
// stderr until the process exits.
KvResult RunProcess(const std::vector<std::string>& argv_s, const std::vector<std::string>& env_s,
                    const KvCall& call) {
  KvResult result;
  int in_pipe[2] = {-1, -1}, out_pipe[2], err_pipe[2];
  bool feed = call.stdin_path.empty() && call.stdin_fd < 0;
  if ((feed && ::pipe2(in_pipe, O_CLOEXEC) != 0) || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return result;
  }
  std::vector<std::string> args = argv_s, env = env_s;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (feed) {
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  } else if (call.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, call.stdin_fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, call.stdin_path.c_str(), O_RDONLY,
                                     0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (feed) ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    if (feed) ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = "spawn failed";
    return result;
  }

  int in_fd = feed ? in_pipe[1] : -1;
  if (in_fd >= 0) {
    SetNonBlocking(in_fd);
    if (call.input.empty()) {
      ::close(in_fd);
      in_fd = -1;
    }
  }
  size_t written = 0;
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  auto deadline = std::chrono::steady_clock::now() + call.timeout;
  bool timed_out = false;
  while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0) {
    std::vector<pollfd> fds;
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count(), 200)));
    if (n <= 0) continue;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in_fd) {
        ssize_t w = ::write(in_fd, call.input.data() + written, call.input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = call.input.size();  // reader gone
        if (written == call.input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t r = ::read(p.fd, buf, sizeof buf);
      std::string& sink = p.fd == out_fd ? result.out : result.err;
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
      } else {
        ::close(p.fd);
        (p.fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  ForwardSanitizerReport(result.err, std::to_string(pid));
  result.max_rss_kb = usage.ru_maxrss;
  if (timed_out) {
    result.code = -1;
  } else {
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return result;
}

// A long-running kv (watch): its stdout is read line by line.
class BackgroundKv {
 public:
  // stderr goes to `stderr_path` (a file the test reads afterwards).
  BackgroundKv(const std::vector<std::string>& args, const std::vector<std::string>& env,
               const std::string& stderr_path = "/dev/null") {
    int out_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    std::vector<std::string> a = {KV_PATH};
    a.insert(a.end(), args.begin(), args.end());
    std::vector<std::string> e = env;
    std::vector<char*> argv, envp;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : e) envp.push_back(s.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    fd_ = out_pipe[0];
  }
  ~BackgroundKv() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(fd_);
  }

  // kv's exit code once it has exited; nullopt if it still runs after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  // The next line, without its newline; nullopt after `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

// One isolated world: directories, environment, and (unless told not to) a
// kvd on a Unix socket and a TCP port.
class KvWorld {
 public:
  explicit KvWorld(bool start_kvd = true) {
    ::signal(SIGPIPE, SIG_IGN);
    for (const char* sub : {"config", "state", "data", "run"}) {
      std::filesystem::create_directories(dir_.Sub(sub));
    }
    ::chmod(dir_.Sub("run").c_str(), 0700);
    if (start_kvd) {
      REQUIRE(kvd_.Start({"--data-dir", dir_.Sub("kvd-data"), "--socket", dir_.Sub("kvd.sock"),
                          "--listen", "127.0.0.1:0"}));
    }
  }
  // The log of a kvd that kv started holds that kvd's stderr.
  ~KvWorld() { ForwardSanitizerReport(ReadWholeFile(dir_.Sub("state/kv/kvd.log")), "kvd.log"); }
  KvWorld(const KvWorld&) = delete;
  KvWorld& operator=(const KvWorld&) = delete;

  std::string socket() const { return dir_.Sub("kvd.sock"); }
  uint16_t port() const { return kvd_.tcp_port(); }
  std::string tcp_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  const TempDir& dir() const { return dir_; }
  KvdProcess& kvd() { return kvd_; }

  // The environment kv runs with: nothing from the test's own KV_* or XDG_*.
  std::vector<std::string> Env(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> base;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry = *e;
      if (entry.starts_with("PATH=") || entry.starts_with("LANG=") || entry.starts_with("TMPDIR=")) {
        base.push_back(entry);
      }
    }
    base.push_back("HOME=" + dir_.str());
    base.push_back("XDG_CONFIG_HOME=" + dir_.Sub("config"));
    base.push_back("XDG_STATE_HOME=" + dir_.Sub("state"));
    base.push_back("XDG_DATA_HOME=" + dir_.Sub("data"));
    base.push_back("XDG_RUNTIME_DIR=" + dir_.Sub("run"));
    base.push_back("KV_SOCKET=" + socket());
    base.push_back("KV_NO_AUTOSTART=1");
    for (const std::string& e : SanitizerEnv()) base.push_back(e);
    return MergeEnv(base, extra);
  }

  KvResult Kv(const std::vector<std::string>& args, const std::string& input = "",
              const std::vector<std::string>& env = {}) const {
    KvCall call;
    call.args = args;
    call.input = input;
    call.env = env;
    return Kv(call);
  }

  KvResult Kv(const KvCall& call) const {
    std::vector<std::string> argv = {KV_PATH};
    argv.insert(argv.end(), call.args.begin(), call.args.end());
    return RunProcess(argv, Env(call.env), call);
  }

  // `script` run by /bin/sh with $KV set to the kv binary (for real pipes).
  KvResult Shell(const std::string& script, const std::vector<std::string>& env = {}) const {
    KvCall call;
    std::vector<std::string> extra = env;
    extra.push_back(std::string("KV=") + KV_PATH);
    return RunProcess({"/bin/sh", "-c", script}, Env(extra), call);
  }

  // Runs kv and requires exit 0; returns stdout.
  std::string Ok(const std::vector<std::string>& args, const std::string& input = "",
                 const std::vector<std::string>& env = {}) const {
    KvResult r = Kv(args, input, env);
    INFO("kv args: " << Join(args) << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r.out;
  }

  static std::string Join(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
  }

 private:
  TempDir dir_{"kv-cli"};
  KvdProcess kvd_{KVD_PATH};
};

// stderr is one line starting "kv: ".
bool OneErrorLine(const std::string& err) {
  return err.rfind("kv: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    out.push_back(std::move(j));
  }
  return out;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng() & 0xFF);
  for (int b = 0; b < 256 && static_cast<size_t>(b) < n; ++b) s[b] = static_cast<char>(b);
  return s;
}

TEST_CASE("kv: get / set / has / del / meta and their exit codes", "[e2e]") {
  KvWorld w;
  KvResult r = w.Kv({"get", "user:1"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "kv: key not found: user:1\n");

  CHECK(w.Ok({"set", "user:1", R"({"name":"Ada"})"}).empty());
  CHECK(w.Ok({"get", "user:1"}) == R"({"name":"Ada"})");  // exact bytes, no newline
  r = w.Kv({"has", "user:1"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  r = w.Kv({"has", "nope"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.empty());

  json meta = json::parse(w.Ok({"meta", "user:1", "-o", "json"}));
  CHECK(meta["key"] == "user:1");
  CHECK(meta["content_type"] == "application/json");
  CHECK(meta["size"] == 14);
  CHECK(meta["ttl_ms"].is_null());
  CHECK(meta["expire_at_ms"].is_null());
  CHECK(meta["revision"].is_number_unsigned());
  CHECK(meta["etag"] == std::to_string(meta["revision"].get<uint64_t>()));
  CHECK(meta["created_ms"].is_number());
  std::string raw_meta = w.Ok({"meta", "user:1"});
  CHECK(raw_meta.find("content_type\tapplication/json\n") != std::string::npos);
  CHECK(w.Kv({"meta", "nope"}).code == 1);

  w.Ok({"set", "plain", "hello"});
  CHECK(json::parse(w.Ok({"meta", "plain", "-o", "json"}))["content_type"] ==
        "application/octet-stream");
  w.Ok({"set", "typed", "hello", "--content-type", "text/plain"});
  CHECK(json::parse(w.Ok({"meta", "typed", "-o", "json"}))["content_type"] == "text/plain");

  // get with several keys: a line each in the order given, an empty line
  // and a message for a missing one, exit 1; a bad key refuses them all.
  r = w.Kv({"get", "user:1", "ghost", "plain"});
  CHECK(r.code == 1);
  CHECK(r.out == "{\"name\":\"Ada\"}\n\nhello\n");
  CHECK(r.err == "kv: key not found: ghost\n");
  CHECK(w.Ok({"get", "plain", "typed"}) == "hello\nhello\n");
  std::vector<json> many = JsonLines(w.Ok({"get", "typed", "user:1", "-o", "json"}));
  REQUIRE(many.size() == 2);
  CHECK(many[0]["key"] == "typed");
  CHECK(many[1]["value"]["name"] == "Ada");
  r = w.Kv({"get", "plain", ""});
  CHECK(r.code == 2);
  CHECK(r.out.empty());

  // del: deletes what exists, exit 1 naming each missing key.
  r = w.Kv({"del", "user:1", "ghost", "plain"});
  CHECK(r.code == 1);
  CHECK(r.err == "kv: key not found: ghost\n");
  CHECK(w.Kv({"has", "user:1"}).code == 1);
  CHECK(w.Kv({"has", "plain"}).code == 1);
  r = w.Kv({"del", "typed", "-o", "json"});
  CHECK(r.code == 0);
  CHECK(json::parse(r.out) == json({{"key", "typed"}, {"deleted", true}}));
}

TEST_CASE("kv set: conditions / TTL flags / stdin / exit 3", "[e2e]") {
  KvWorld w;
  w.Ok({"set", "k", "v1"});
  KvResult r = w.Kv({"set", "k", "v2", "--if-absent"});
  CHECK(r.code == 3);
  CHECK(OneErrorLine(r.err));
  CHECK(w.Ok({"get", "k"}) == "v1");
  r = w.Kv({"set", "new", "v", "--if-exists"});
  CHECK(r.code == 3);
  CHECK(w.Kv({"has", "new"}).code == 1);
  w.Ok({"set", "new", "v", "--if-absent"});
  w.Ok({"set", "new", "v2", "--if-exists"});

  json meta = json::parse(w.Ok({"set", "k", "v3", "-o", "json"}));
  std::string etag = meta["etag"];
  r = w.Kv({"set", "k", "v4", "--if-match", "999999"});
  CHECK(r.code == 3);
  CHECK(w.Ok({"get", "k"}) == "v3");
  w.Ok({"set", "k", "v4", "--if-match", "\"" + etag + "\""});
  CHECK(w.Ok({"get", "k"}) == "v4");

  // stdin: omitted value or "-".
  w.Ok({"set", "piped"}, "from stdin\n");
  CHECK(w.Ok({"get", "piped"}) == "from stdin\n");
  w.Ok({"set", "dash", "-"}, R"({"n":1})");
  CHECK(json::parse(w.Ok({"meta", "dash", "-o", "json"}))["content_type"] == "application/json");
  w.Ok({"set", "empty", "-"}, "");
  CHECK(w.Ok({"get", "empty"}).empty());

  // --ttl, --keep-ttl, and a plain set removing the TTL.
  w.Ok({"set", "t", "v", "--ttl", "1h"});
  CHECK(json::parse(w.Ok({"ttl", "t", "-o", "json"}))["ttl_ms"].get<int64_t>() > 3'500'000);
  w.Ok({"set", "t", "v2", "--keep-ttl"});
  CHECK(json::parse(w.Ok({"ttl", "t", "-o", "json"}))["ttl_ms"].is_number());
  w.Ok({"set", "t", "v3"});
  CHECK(w.Ok({"ttl", "t"}) == "none\n");
  CHECK(w.Kv({"set", "t", "v", "--ttl", "5x"}).code == 2);
  CHECK(w.Kv({"set", "t", "v", "--ttl", "1h", "--keep-ttl"}).code == 2);
}

TEST_CASE("kv: binary values round-trip through stdin and stdout", "[e2e]") {
  KvWorld w;
  std::string bytes = RandomBytes(1 << 20, 42);  // NUL, 0xFF, every byte, invalid UTF-8
  std::string file = w.dir().Sub("blob.bin");
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  KvCall call;
  call.args = {"set", "blob"};
  call.stdin_path = file;
  REQUIRE(w.Kv(call).code == 0);
  CHECK(w.Ok({"get", "blob"}) == bytes);
  json meta = json::parse(w.Ok({"meta", "blob", "-o", "json"}));
  CHECK(meta["size"] == bytes.size());
  CHECK(meta["content_type"] == "application/octet-stream");

  std::string small("\0nul\xFF\xFE tail\n", 12);
  w.Ok({"set", "small"}, small);
  CHECK(w.Ok({"get", "small"}) == small);
  json got = json::parse(w.Ok({"get", "small", "-o", "json"}));
  CHECK(got["encoding"] == "base64");
  CHECK(got["value"] == "AG51bP/+IHRhaWwK");

  // A key that is not UTF-8.
  std::string key = "bin\xFFkey";
  w.Ok({"set", key, "v"});
  CHECK(w.Ok({"get", key}) == "v");
  CHECK(w.Ok({"ls", "bin"}) == key + "\n");
  json listed = json::parse(w.Ok({"ls", "bin", "-o", "json"}));
  CHECK(listed["key_encoding"] == "base64");

  // Through a real shell pipe and redirections.
  KvResult r = w.Shell("$KV set piped < '" + file + "' && $KV get piped > '" + file +
                       ".out' && cmp '" + file + "' '" + file + ".out'");
  INFO(r.err);
  CHECK(r.code == 0);
}

TEST_CASE("kv: escape sequences in keys, values and errors reach a terminal as text", "[e2e]") {
  // Anyone who can write a key can put an escape sequence in it; printed
  // raw, the terminal of whoever lists it would obey it (here: clear the
  // screen, and set the clipboard with OSC 52).
  KvWorld w;
  const std::string key = "esc\x1b[2Jkey";
  const std::string value = "\x1b]52;c;ZXZpbA==\x07";
  w.Ok({"set", key}, value);

  std::string listed = w.Ok({"-o", "table", "ls", "--values", "esc"});
  CHECK(listed == "\"esc\\x1b[2Jkey\"  \"\\x1b]52;c;ZXZpbA==\\x07\"\n");
  std::string got = w.Ok({"-o", "table", "get", key});
  CHECK(got == "\"\\x1b]52;c;ZXZpbA==\\x07\"\n");
  std::string meta = w.Ok({"-o", "table", "meta", key});
  CHECK(meta.find("\"esc\\x1b[2Jkey\"") != std::string::npos);
  for (const std::string& out : {listed, got, meta}) CHECK(out.find('\x1b') == std::string::npos);

  KvResult missing = w.Kv({"get", "nope\x1b[2J"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "kv: key not found: nope\\x1b[2J\n");

  // Pipes and -o raw get the bytes as they are.
  CHECK(w.Ok({"get", key}) == value);
  CHECK(w.Ok({"ls", "esc"}) == key + "\n");
}

TEST_CASE("kv: -o json output parses / one document per result", "[e2e]") {
  KvWorld w;
  w.Ok({"set", "doc", R"({"name":"Ada","tags":["x"]})", "--ttl", "10m"});
  json get = json::parse(w.Ok({"get", "doc", "-o", "json"}));
  CHECK(get["key"] == "doc");
  CHECK(get["value"]["name"] == "Ada");
  CHECK(get["encoding"] == "json");
  CHECK(get["content_type"] == "application/json");
  CHECK(get["size"] == 27);
  CHECK(get["ttl_ms"].get<int64_t>() > 500'000);
  CHECK(get["expire_at_ms"].is_number());
  for (const char* field : {"etag", "revision"}) CHECK(get.contains(field));

  json set = json::parse(w.Ok({"-o", "json", "set", "t", "text"}));
  CHECK(set["key"] == "t");
  CHECK(set["etag"].is_string());
  CHECK(json::parse(w.Ok({"has", "t", "-o", "json"})) == json({{"key", "t"}, {"exists", true}}));
  CHECK(json::parse(w.Ok({"incr", "n", "5", "-o", "json"})) == json({{"key", "n"}, {"value", 5}}));
  json patched = json::parse(w.Ok({"patch", "doc", R"({"age":36})", "-o", "json"}));
  CHECK(patched["value"]["age"] == 36);
  CHECK(patched["value"]["name"] == "Ada");
  json ttl = json::parse(w.Ok({"ttl", "doc", "-o", "json"}));
  CHECK(ttl["ttl_ms"].get<int64_t>() <= 600'000);
  std::vector<json> ls = JsonLines(w.Ok({"ls", "-o", "json", "--values"}));
  REQUIRE(ls.size() == 3);
  CHECK(ls[0]["key"] == "doc");
  CHECK(ls[0]["value"]["age"] == 36);
  CHECK(ls[2]["key"] == "t");
  CHECK(ls[2]["encoding"] == "text");
  std::vector<json> stats = JsonLines(w.Ok({"stats", "-o", "json"}));
  REQUIRE(stats.size() >= 1);
  CHECK(stats[0]["namespace"] == "default");
  CHECK(stats[0]["keys"] == 3);
  CHECK(stats[0]["bytes"].get<uint64_t>() > 0);
  CHECK(stats[0]["quota_bytes"].get<uint64_t>() > 0);
  CHECK(json::parse(w.Ok({"version", "-o", "json"}))["version"] == KV_VERSION);
  json status = json::parse(w.Ok({"daemon", "status", "-o", "json"}));
  CHECK(status["running"] == true);
  CHECK(status["pid"] == w.kvd().pid());
}

TEST_CASE("kv ls: paging / --limit/--cursor / --values / --where / prefixes", "[e2e]") {
  KvWorld w;
  std::string input;
  for (int i = 0; i < 2500; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "item:%05d", i);
    input += json({{"key", key}, {"value", {{"n", i}, {"even", i % 2 == 0}}}}).dump() + "\n";
  }
  w.Ok({"import"}, input);
  w.Ok({"set", "other", "x"});

  // Without --limit, kv pages through everything (kvd's pages hold 1000).
  std::string all = w.Ok({"ls", "item:"});
  CHECK(std::count(all.begin(), all.end(), '\n') == 2500);
  CHECK(all.rfind("item:00000\nitem:00001\n", 0) == 0);
  CHECK(w.Ok({"ls"}).find("other\n") != std::string::npos);

  // --limit: that many, then the cursor (stderr in raw, a last line in JSON).
  KvResult r = w.Kv({"ls", "item:", "--limit", "3"});
  CHECK(r.code == 0);
  CHECK(r.out == "item:00000\nitem:00001\nitem:00002\n");
  CHECK(r.err.rfind("kv: more keys follow: --cursor ", 0) == 0);
  std::string cursor = r.err.substr(std::string("kv: more keys follow: --cursor ").size());
  cursor.pop_back();
  CHECK(w.Ok({"ls", "item:", "--limit", "2", "--cursor", cursor}) == "item:00003\nitem:00004\n");

  // Walk every page through the JSON cursor.
  size_t seen = 0;
  std::string next;
  for (int page = 0; page < 10; ++page) {
    std::vector<std::string> args = {"ls", "item:", "--limit", "1000", "-o", "json"};
    if (!next.empty()) args.insert(args.end(), {"--cursor", next});
    std::vector<json> lines = JsonLines(w.Ok(args));
    next.clear();
    for (const json& j : lines) {
      if (j.contains("next_cursor")) {
        next = j["next_cursor"];
      } else {
        ++seen;
      }
    }
    if (next.empty()) break;
  }
  CHECK(seen == 2500);

  CHECK(w.Ok({"ls", "item:0000", "--values"}).find("item:00003\t{\"even\":false,\"n\":3}\n") !=
        std::string::npos);
  std::string where = w.Ok({"ls", "item:", "--where", "even=true", "--where", "n=42"});
  CHECK(where == "item:00042\n");
  CHECK(w.Kv({"ls", "--where", "novalue"}).code == 2);
  CHECK(w.Ok({"ls", "nothing:"}).empty());
}

TEST_CASE("kv ttl / expire / persist", "[e2e]") {
  KvWorld w;
  w.Ok({"set", "k", "v", "--ttl", "1h"});
  std::string ttl = w.Ok({"ttl", "k"});
  CHECK(std::regex_match(ttl, std::regex("(1h|59m5[0-9]s)\n")));
  w.Ok({"persist", "k"});
  CHECK(w.Ok({"ttl", "k"}) == "none\n");
  CHECK(json::parse(w.Ok({"ttl", "k", "-o", "json"}))["ttl_ms"].is_null());
  json meta = json::parse(w.Ok({"expire", "k", "30s", "-o", "json"}));
  CHECK(meta["ttl_ms"].get<int64_t>() > 25'000);
  CHECK(meta["ttl_ms"].get<int64_t>() <= 30'000);
  CHECK(w.Kv({"expire", "k", "bogus"}).code == 2);
  CHECK(w.Kv({"expire", "missing", "1s"}).code == 1);
  CHECK(w.Kv({"persist", "missing"}).code == 1);
  CHECK(w.Kv({"ttl", "missing"}).code == 1);

  w.Ok({"set", "short", "v", "--ttl", "300ms"});
  CHECK(w.Ok({"get", "short"}) == "v");
  std::this_thread::sleep_for(500ms);
  KvResult r = w.Kv({"get", "short"});
  CHECK(r.code == 1);
  CHECK(r.err == "kv: key not found: short\n");
}

TEST_CASE("kv incr / decr / patch", "[e2e]") {
  KvWorld w;
  CHECK(w.Ok({"incr", "n"}) == "1\n");
  CHECK(w.Ok({"incr", "n", "41"}) == "42\n");
  CHECK(w.Ok({"decr", "n"}) == "41\n");
  CHECK(w.Ok({"decr", "n", "50"}) == "-9\n");
  CHECK(w.Ok({"incr", "n", "-1"}) == "-10\n");
  CHECK(w.Ok({"get", "n"}) == "-10");
  CHECK(w.Kv({"incr", "n", "x"}).code == 2);
  w.Ok({"set", "s", "text"});
  KvResult r = w.Kv({"incr", "s"});
  CHECK(r.code == 5);
  CHECK(OneErrorLine(r.err));

  CHECK(json::parse(w.Ok({"patch", "doc", R"({"a":1,"b":{"c":2}})"})) ==
        json::parse(R"({"a":1,"b":{"c":2}})"));
  CHECK(json::parse(w.Ok({"patch", "doc", "-"}, R"({"b":{"c":null,"d":3}})")) ==
        json::parse(R"({"a":1,"b":{"d":3}})"));
  CHECK(json::parse(w.Ok({"patch", "doc"}, R"({"a":null})")) == json::parse(R"({"b":{"d":3}})"));
  r = w.Kv({"patch", "doc", "{bad"});
  CHECK(r.code == 2);
  CHECK(r.err == "kv: the patch is not valid JSON\n");
  CHECK(w.Kv({"patch", "s", R"({"a":1})"}).code == 5);
}

TEST_CASE("kv clear: --yes / a namespace at a time / the question on a terminal", "[e2e]") {
  KvWorld w;
  w.Ok({"set", "a", "1"});
  w.Ok({"set", "b", "2"});
  w.Ok({"-n", "other", "set", "c", "3"});
  KvResult r = w.Kv({"clear"});
  CHECK(r.code == 2);
  CHECK(OneErrorLine(r.err));
  CHECK(w.Ok({"ls"}) == "a\nb\n");
  r = w.Kv({"clear", "--yes"});
  CHECK(r.code == 0);
  CHECK(r.err == "kv: deleted 2 keys\n");
  CHECK(w.Ok({"ls"}).empty());
  CHECK(w.Ok({"-n", "other", "ls"}) == "c\n");
  CHECK(json::parse(w.Ok({"clear", "-y", "-o", "json", "-n", "other"})) == json({{"deleted", 1}}));

  // On a terminal kv asks, and only "y" clears.
  w.Ok({"set", "a", "1"});
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  REQUIRE(master >= 0);
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  REQUIRE(slave >= 0);
  REQUIRE(::write(master, "n\n", 2) == 2);
  KvCall call;
  call.args = {"clear"};
  call.stdin_fd = slave;
  r = w.Kv(call);
  CHECK(r.code == 2);
  CHECK(r.err.find("[y/N]") != std::string::npos);
  CHECK(w.Ok({"ls"}) == "a\n");
  REQUIRE(::write(master, "y\n", 2) == 2);
  r = w.Kv(call);
  CHECK(r.code == 0);
  CHECK(w.Ok({"ls"}).empty());
  ::close(slave);
  ::close(master);
}

TEST_CASE("kv del --prefix: the keys under it in the namespace, and nothing on bad input",
          "[e2e]") {
  KvWorld w;
  for (const char* k : {"user:1", "user:2", "user:3", "user", "users:1", "order:1"}) {
    w.Ok({"set", k, "v"});
  }
  w.Ok({"-n", "other", "set", "user:9", "v"});
  for (std::vector<std::string> bad : {std::vector<std::string>{"del", "--prefix", ""},
                                       {"del", "user:1", "--prefix", "user:"},
                                       {"del", "--prefix", "user:", "--if-match", "1"},
                                       {"del"}}) {
    KvResult r = w.Kv(bad);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(OneErrorLine(r.err));
  }
  CHECK(w.Ok({"ls"}) == "order:1\nuser\nuser:1\nuser:2\nuser:3\nusers:1\n");

  KvResult r = w.Kv({"del", "--prefix", "user:"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err == "kv: deleted 3 keys\n");
  CHECK(w.Ok({"ls"}) == "order:1\nuser\nusers:1\n");
  CHECK(w.Ok({"-n", "other", "ls"}) == "user:9\n");
  CHECK(json::parse(w.Ok({"del", "--prefix", "user", "-o", "json"})) == json({{"deleted", 2}}));
  r = w.Kv({"del", "--prefix", "nothing:", "-q"});  // none under it: not an error
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(w.Ok({"ls"}) == "order:1\n");
}

TEST_CASE("kv export | kv import: values / types and TTLs survive", "[e2e]") {
  KvWorld w;
  std::string binary = RandomBytes(5000, 7);
  // What a JSON parser would not give back: member order, 2.50, 1e3, a
  // 23-digit integer, and a pretty-printed document's line breaks.
  const std::string pretty = "{\n  \"z\": 2.50,\n  \"a\": [1e3, 12345678901234567890123]\n}\n";
  std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
      {"json", {"set", "json", R"({"b":1,"a":[2,{"c":null}]})"}},
      {"numbers", {"set", "numbers", R"({"z": 2.50, "a": [1e3, 12345678901234567890123]})"}},
      {"pretty", {"set", "pretty", pretty}},
      {"number", {"set", "number", "42"}},
      {"jstring", {"set", "jstring", R"("quoted")"}},
      {"text", {"set", "text", "two\nlines\tand \"quotes\" caf\xC3\xA9"}},
      {"typed", {"set", "typed", "<p>hi</p>", "--content-type", "text/html"}},
      {"badjson", {"set", "badjson", "{nope", "--content-type", "application/json"}},
      {"ttl", {"set", "ttl", "expiring", "--ttl", "2h"}},
      {"empty", {"set", "empty", "-"}},
      {"k\xFF\x01", {"set", "k\xFF\x01", "odd key"}},
  };
  for (auto& [key, args] : keys) {
    std::vector<std::string> a = {"-n", "src"};
    a.insert(a.end(), args.begin(), args.end());
    w.Ok(a);
  }
  w.Ok({"-n", "src", "set", "binary"}, binary);

  std::string dump = w.Ok({"-n", "src", "export"});
  std::vector<json> lines = JsonLines(dump);
  REQUIRE(lines.size() == keys.size() + 1);
  std::map<std::string, json> by_key;
  for (const json& j : lines) by_key[j["key"]] = j;
  CHECK(by_key["json"]["value"] == json::parse(R"({"b":1,"a":[2,{"c":null}]})"));
  CHECK_FALSE(by_key["json"].contains("encoding"));
  // A JSON value is embedded as its own text when that is its exact bytes,
  // else carried as a string.
  CHECK(dump.find(R"("value":{"z": 2.50, "a": [1e3, 12345678901234567890123]},)") !=
        std::string::npos);
  CHECK(by_key["pretty"]["value"] == pretty);
  CHECK(by_key["pretty"]["encoding"] == "text");
  CHECK(by_key["pretty"]["content_type"] == "application/json");
  // kv ls and kv watch show the same text (a pretty one on one line).
  std::string listed = w.Ok({"-n", "src", "ls", "--values", "-o", "json"});
  CHECK(listed.find(R"("value":{"z": 2.50, "a": [1e3, 12345678901234567890123]},)") !=
        std::string::npos);
  CHECK(listed.find(R"("value":{"z":2.50,"a":[1e3,12345678901234567890123]},)") !=
        std::string::npos);
  std::string events = w.Ok({"-n", "src", "watch", "--since", "0", "--no-follow", "-o", "json"});
  CHECK(events.find(R"("value":{"z":2.50,"a":[1e3,12345678901234567890123]},)") !=
        std::string::npos);
  CHECK(by_key["json"]["content_type"] == "application/json");
  CHECK(by_key["number"]["value"] == 42);
  CHECK(by_key["jstring"]["value"] == "quoted");
  CHECK_FALSE(by_key["jstring"].contains("encoding"));
  CHECK(by_key["text"]["encoding"] == "text");
  CHECK(by_key["binary"]["encoding"] == "base64");
  CHECK(by_key["badjson"]["encoding"] == "text");
  CHECK(by_key["ttl"]["ttl_ms"].get<int64_t>() > 7'000'000);
  CHECK_FALSE(by_key["text"].contains("ttl_ms"));

  // Through a real pipe into another namespace.
  KvResult piped = w.Shell("$KV -n src export | $KV -n dst import");
  INFO(piped.err);
  REQUIRE(piped.code == 0);
  CHECK(piped.err == "kv: imported 12 keys\n");
  std::vector<std::string> all_keys;
  for (auto& [key, args] : keys) all_keys.push_back(key);
  all_keys.push_back("binary");
  for (const std::string& key : all_keys) {
    INFO("key " << key);
    std::string src = w.Ok({"-n", "src", "get", key});
    std::string dst = w.Ok({"-n", "dst", "get", key});
    json src_meta = json::parse(w.Ok({"-n", "src", "meta", key, "-o", "json"}));
    json dst_meta = json::parse(w.Ok({"-n", "dst", "meta", key, "-o", "json"}));
    CHECK(dst_meta["content_type"] == src_meta["content_type"]);
    CHECK(dst == src);  // byte for byte, JSON values too
    CHECK(dst_meta["ttl_ms"].is_null() == src_meta["ttl_ms"].is_null());
    if (!src_meta["ttl_ms"].is_null()) {
      // The export carries the remaining TTL, which the import restarts: the
      // copy may outlive the source by the time between the two (a few ms).
      CHECK(dst_meta["ttl_ms"].get<int64_t>() <= src_meta["ttl_ms"].get<int64_t>() + 5'000);
      CHECK(dst_meta["ttl_ms"].get<int64_t>() > src_meta["ttl_ms"].get<int64_t>() - 60'000);
    }
  }
  CHECK(w.Ok({"-n", "dst", "get", "binary"}) == binary);

  // --if-absent skips what exists; -o json reports counts.
  w.Ok({"-n", "dst", "set", "text", "changed"});
  json counts = json::parse(w.Ok({"-n", "dst", "import", "--if-absent", "-o", "json"}, dump));
  CHECK(counts == json({{"imported", 0}, {"skipped", 12}}));
  CHECK(w.Ok({"-n", "dst", "get", "text"}) == "changed");
  KvResult quiet = w.Kv({"-n", "dst", "import", "-q"}, dump);
  CHECK(quiet.code == 0);
  CHECK(quiet.err.empty());
  CHECK(w.Ok({"-n", "dst", "get", "text"}) == w.Ok({"-n", "src", "get", "text"}));

  // export PREFIX
  CHECK(JsonLines(w.Ok({"-n", "src", "export", "t"})).size() == 3);  // text, ttl, typed
}

TEST_CASE("kv import: plain JSON objects / bad lines / exit 2 with the line number", "[e2e]") {
  KvWorld w;
  KvResult r = w.Kv({"import"}, "{\n  \"greeting\": \"hello\",\n  \"cfg\": {\"debug\": true},\n  "
                                "\"n\": 7\n}\n");
  CHECK(r.code == 0);
  CHECK(r.err == "kv: imported 3 keys\n");
  CHECK(w.Ok({"get", "greeting"}) == "hello");
  CHECK(w.Ok({"get", "cfg"}) == R"({"debug": true})");
  CHECK(json::parse(w.Ok({"meta", "cfg", "-o", "json"}))["content_type"] == "application/json");

  r = w.Kv({"import"}, "{\"key\":\"a\",\"value\":1}\n{\"key\":\"b\",\"value\":2}\n{\"key\":\"c\"\n");
  CHECK(r.code == 2);
  CHECK(r.err == "kv: line 3: not valid JSON\n");
  CHECK(w.Ok({"get", "b"}) == "2");  // lines before the bad one are written
  r = w.Kv({"import"}, "{\"key\":\"a\",\"value\":1}\n\n{\"value\":2}\n");
  CHECK(r.code == 2);
  CHECK(r.err == "kv: line 3: missing \"key\" (a string)\n");
  r = w.Kv({"import"}, "[1, 2, 3]\n");
  CHECK(r.code == 2);
  CHECK(OneErrorLine(r.err));
}

// kv sends large bodies with "Expect: 100-continue", so kvd's 413 arrives
// before the body is sent into a closed connection.
TEST_CASE("kv: a value over kvd's limit is refused with exit 5", "[e2e]") {
  KvWorld w;
  std::string big((10 << 20) + 1, 'x');
  KvResult r = w.Kv({"set", "big"}, big);
  CHECK(r.code == 5);
  CHECK(OneErrorLine(r.err));
  // A refused write stops the import with the backend's code.
  r = w.Kv({"import"}, json({{"key", "big"}, {"value", big}, {"encoding", "text"}}).dump() + "\n");
  CHECK(r.code == 5);
  CHECK(r.err.rfind("kv: line 1: key big: ", 0) == 0);
}

TEST_CASE("kv import: a million lines in bounded memory", "[e2e][slow]") {
  KvWorld w;
  size_t lines = 1'000'000;
  if (const char* n = std::getenv("KV_E2E_IMPORT_LINES")) lines = std::stoul(n);
  std::string path = w.dir().Sub("million.ndjson");
  {
    std::ofstream out(path);
    std::string value(100, 'v');
    char key[32];
    for (size_t i = 0; i < lines; ++i) {
      std::snprintf(key, sizeof key, "m:%07zu", i);
      out << "{\"key\":\"" << key << "\",\"value\":\"" << value
          << "\",\"encoding\":\"text\",\"content_type\":\"text/plain\"}\n";
    }
  }
  KvCall call;
  call.args = {"import", "-o", "json"};
  call.stdin_path = path;
  call.timeout = 580s;
  auto start = std::chrono::steady_clock::now();
  KvResult r = w.Kv(call);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out) == json({{"imported", lines}, {"skipped", 0}}));
  WARN("kv import: " << lines << " lines in " << secs << " s ("
                     << static_cast<long>(static_cast<double>(lines) / secs)
                     << " keys/s), peak RSS " << r.max_rss_kb << " KiB");
  if (!kAddressSanitizer) CHECK(r.max_rss_kb < 64 * 1024);  // the input is ~90 bytes a line
  json stats = json::parse(w.Ok({"stats", "--current", "-o", "json"}));
  CHECK(stats["keys"] == lines);
}

TEST_CASE("kv watch: NDJSON events / replay with --since", "[e2e]") {
  KvWorld w;
  json first = json::parse(w.Ok({"set", "w:1", R"({"v":1})", "-o", "json"}));
  w.Ok({"set", "w:2", "text"});
  w.Ok({"del", "w:1"});
  w.Ok({"set", "other", "x"});
  uint64_t since = first["revision"].get<uint64_t>() - 1;
  std::vector<json> events =
      JsonLines(w.Ok({"watch", "w:", "--since", std::to_string(since), "--no-follow"}));
  REQUIRE(events.size() == 3);
  CHECK(events[0]["type"] == "create");
  CHECK(events[0]["key"] == "w:1");
  CHECK(events[0]["value"] == json({{"v", 1}}));
  CHECK(events[0]["encoding"] == "json");
  CHECK(events[0]["namespace"] == "default");
  CHECK(events[1]["value"] == "text");
  CHECK(events[2]["type"] == "delete");
  CHECK(events[2]["revision"].get<uint64_t>() > events[1]["revision"].get<uint64_t>());
  CHECK(w.Kv({"watch", "--since", "x1"}).code == 2);
}

TEST_CASE("kv watch: events arrive as they happen", "[e2e]") {
  KvWorld w;
  // Following: each event arrives as it happens, one flushed line each.
  BackgroundKv watch({"watch", "live:"}, w.Env());
  std::this_thread::sleep_for(300ms);  // let it subscribe
  w.Ok({"set", "live:a", "1"});
  std::optional<std::string> line = watch.ReadLine(10s);
  REQUIRE(line.has_value());
  json e = json::parse(*line);
  CHECK(e["key"] == "live:a");
  CHECK(e["type"] == "create");
  w.Ok({"set", "live:a", "2", "--ttl", "1h"});
  line = watch.ReadLine(10s);
  REQUIRE(line.has_value());
  e = json::parse(*line);
  CHECK(e["type"] == "update");
  CHECK(e["expire_at_ms"].is_number());
}

// etcdctl's watch outlives a restart of its server; so does kv's: it
// resumes after the last revision it printed, missing and repeating nothing,
// and gives up with exit 4 and where to resume once kvd stays away.
TEST_CASE("kv watch: resumes across kvd restarts / gives up when kvd stays away", "[e2e]") {
  KvWorld w;
  const std::string err_path = w.dir().Sub("watch-stderr.txt");
  BackgroundKv watch({"watch", "--timeout", "8s", "-o", "json", "r:"}, w.Env(), err_path);
  std::this_thread::sleep_for(300ms);  // let it subscribe
  auto restart = [&] {
    REQUIRE(w.kvd().Start({"--data-dir", w.dir().Sub("kvd-data"), "--socket", w.socket(),
                           "--listen", "127.0.0.1:0"}));
  };
  auto next_key = [&]() -> std::pair<std::string, uint64_t> {
    std::optional<std::string> line = watch.ReadLine(15s);
    REQUIRE(line.has_value());
    json e = json::parse(*line);
    return {e["key"], e["revision"]};
  };

  w.Ok({"set", "r:1", "a"});
  auto [k1, rev1] = next_key();
  CHECK(k1 == "r:1");
  w.kvd().Stop();  // SIGTERM: kvd ends its watch streams and exits
  restart();
  w.Ok({"set", "r:2", "b"});  // most likely before the watch is back: replayed
  w.Ok({"set", "r:3", "c"});
  auto [k2, rev2] = next_key();
  auto [k3, rev3] = next_key();
  CHECK(k2 == "r:2");
  CHECK(k3 == "r:3");
  CHECK(rev1 < rev2);
  CHECK(rev2 < rev3);

  w.kvd().Kill();  // SIGKILL: the connection just breaks
  restart();
  w.Ok({"set", "r:4", "d"});
  auto [k4, rev4] = next_key();
  CHECK(k4 == "r:4");

  w.kvd().Stop();  // and now kvd stays away
  std::optional<int> code = watch.Wait(30s);
  REQUIRE(code.has_value());
  CHECK(*code == 4);
  std::string err = ReadWholeFile(err_path);
  CHECK(err == "kv: the local kvd went away and did not come back within 8s: resume with kv "
               "watch --since " + std::to_string(rev4) + "\n");
  CHECK_FALSE(watch.ReadLine(100ms).has_value());  // nothing repeated
}

// etcdctl snapshot save's counterpart: a copy of everything, taken while
// kvd serves, that a second kvd starts on as it is.
TEST_CASE("kv daemon backup: a data directory another kvd starts on", "[e2e]") {
  KvWorld w;
  w.Ok({"set", "plain", "one"});
  w.Ok({"set", "ttl", "two", "--ttl", "1h"});
  w.Ok({"-n", "shop", "set", "cart", R"({"items": [1, 2.50]})"});
  w.Ok({"set", "gone-later", "x"});
  std::string token = w.Ok({"token", "create", "acme"});
  token.pop_back();
  w.Ok({"set", "acme-key", "theirs"}, "", {"KV_URL=" + w.tcp_url(), "KV_TOKEN=" + token});

  const std::string backup = w.dir().Sub("backup");
  KvResult made = w.Kv({"daemon", "backup", backup});
  INFO(made.err);
  REQUIRE(made.code == 0);
  CHECK(made.err == "kv: backed up kvd to " + backup + " (start a kvd on it with: kvd --data-dir " +
                        backup + ")\n");
  w.Ok({"del", "gone-later"});  // after the backup: not in it
  w.Ok({"set", "after", "y"});

  KvResult again = w.Kv({"daemon", "backup", backup});
  CHECK(again.code == 2);
  CHECK(again.err == "kv: " + backup + " exists: back up into a new directory\n");
  CHECK(w.Kv({"daemon", "backup", w.dir().Sub("no/parent")}).code == 2);
  CHECK(w.Kv({"--url", w.tcp_url(), "daemon", "backup", w.dir().Sub("b2")}).code == 2);
  // kv waits for the copy however long it takes: --timeout bounds the
  // requests of other commands, and kvd answers a backup when it is done.
  KvResult patient = w.Kv({"--timeout", "1ms", "daemon", "backup", w.dir().Sub("b3")});
  INFO(patient.err);
  CHECK(patient.code == 0);
  CHECK(std::filesystem::exists(w.dir().Sub("b3/db/CURRENT")));

  KvdProcess restored{KVD_PATH};
  const std::string socket = w.dir().Sub("restored.sock");
  REQUIRE(restored.Start({"--data-dir", backup, "--socket", socket, "--listen", "127.0.0.1:0"}));
  const std::vector<std::string> at_copy = {"KV_SOCKET=" + socket};
  CHECK(w.Ok({"get", "plain"}, "", at_copy) == "one");
  CHECK(w.Ok({"get", "gone-later"}, "", at_copy) == "x");
  CHECK(w.Kv({"get", "after"}, "", at_copy).code == 1);
  CHECK(w.Ok({"-n", "shop", "get", "cart"}, "", at_copy) == R"({"items": [1, 2.50]})");
  json ttl = json::parse(w.Ok({"meta", "ttl", "-o", "json"}, "", at_copy));
  CHECK(ttl["ttl_ms"].get<int64_t>() > 3'500'000);
  // The tokens came along: acme reaches its key on the copy, over TCP.
  const std::string copy_url = "http://127.0.0.1:" + std::to_string(restored.tcp_port());
  CHECK(w.Ok({"get", "acme-key"}, "", {"KV_URL=" + copy_url, "KV_TOKEN=" + token}) == "theirs");
  // And the event log: a watch on the copy replays what happened before.
  std::string events = w.Ok({"watch", "--since", "0", "--no-follow", "-o", "json"}, "", at_copy);
  CHECK(events.find(R"("key":"gone-later")") != std::string::npos);
  CHECK(events.find(R"("key":"after")") == std::string::npos);
}

TEST_CASE("kv token and KV_URL over TCP with a token - KV_URL over the Unix socket", "[e2e]") {
  KvWorld w;
  w.Ok({"set", "shared", "local tenant"});
  std::string token = w.Ok({"token", "create", "acme"});
  REQUIRE(token.size() > 4);
  token.pop_back();  // newline
  CHECK(token.rfind("kv_", 0) == 0);
  std::vector<json> tokens = JsonLines(w.Ok({"token", "ls", "-o", "json"}));
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["tenant"] == "acme");
  CHECK_FALSE(tokens[0].contains("token"));
  std::string id = tokens[0]["id"];

  std::vector<std::string> tcp = {"KV_URL=" + w.tcp_url(), "KV_TOKEN=" + token};
  w.Ok({"set", "a", "over tcp"}, "", tcp);
  CHECK(w.Ok({"get", "a"}, "", tcp) == "over tcp");
  CHECK(w.Kv({"get", "shared"}, "", tcp).code == 1);  // another tenant's keys are not there
  CHECK(w.Kv({"get", "a"}).code == 1);
  CHECK(w.Ok({"--url", w.tcp_url(), "--token", token, "get", "a"}) == "over tcp");

  KvResult r = w.Kv({"get", "a"}, "", {"KV_URL=" + w.tcp_url()});  // no token
  CHECK(r.code == 5);
  CHECK(OneErrorLine(r.err));
  r = w.Kv({"token", "ls"}, "", tcp);  // administration: the socket only
  CHECK(r.code == 5);

  CHECK(w.Ok({"get", "shared"}, "", {"KV_URL=unix://" + w.socket(), "KV_SOCKET"}) ==
        "local tenant");

  // A profile holding the TCP URL and token.
  w.Ok({"profile", "add", "remote", "--url", w.tcp_url(), "--token", token, "--use"});
  CHECK(w.Ok({"get", "a"}) == "over tcp");
  std::string ls = w.Ok({"profile", "ls"});
  CHECK(ls == "remote\n");
  struct stat st;
  REQUIRE(::stat(w.dir().Sub("config/kv/config.toml").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  w.Ok({"profile", "use", ""});
  CHECK(w.Ok({"get", "shared"}) == "local tenant");
  CHECK(w.Ok({"-p", "remote", "get", "a"}) == "over tcp");
  CHECK(w.Kv({"-p", "nope", "get", "a"}).code == 2);
  w.Ok({"profile", "rm", "remote"});

  CHECK(w.Kv({"token", "revoke", id, "-o", "json"}).code == 0);
  r = w.Kv({"get", "a"}, "", tcp);
  CHECK(r.code == 5);
  CHECK(w.Kv({"token", "revoke", id}).code == 1);
}

TEST_CASE("kv: unreachable backends exit 4", "[e2e]") {
  KvWorld w(/*start_kvd=*/false);
  KvResult r = w.Kv({"get", "a"});
  CHECK(r.code == 4);
  CHECK(OneErrorLine(r.err));
  CHECK(r.err.find("KV_NO_AUTOSTART") != std::string::npos);
  r = w.Kv({"get", "a"}, "", {"KV_URL=http://127.0.0.1:1"});
  CHECK(r.code == 4);
  CHECK(OneErrorLine(r.err));
  r = w.Kv({"get", "a"}, "", {"KV_URL=unix://" + w.dir().Sub("none.sock")});
  CHECK(r.code == 4);
  r = w.Kv({"daemon", "status"});
  CHECK(r.code == 4);
  CHECK(r.out.find("not running") != std::string::npos);
}

// Someone else's server on the local kvd's socket path (a /tmp/kv-UID that
// another user made first): kv sends it nothing, and never signals it.
TEST_CASE("kv: a local socket served by another user is refused", "[e2e]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to run a server as another user");
    return;
  }
  KvWorld w(/*start_kvd=*/false);
  const std::string dir = w.dir().Sub("theirs");
  std::filesystem::create_directories(dir);
  REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
  const std::string path = dir + "/kvd.sock";
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t theirs = ::fork();
  REQUIRE(theirs >= 0);
  if (theirs == 0) {  // listens as uid 65534 and accepts nothing
    ::close(ready[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 16) != 0) {
      ::_exit(1);
    }
    (void)!::write(ready[1], "r", 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);

  const std::vector<std::string> env = {"KV_SOCKET=" + path, "KV_NO_AUTOSTART=0"};
  KvResult r = w.Kv({"set", "secret", "value"}, "", env);
  INFO(r.err);
  CHECK(r.code == 4);
  CHECK(OneErrorLine(r.err));
  CHECK(r.err.find("served by uid 65534, not by you") != std::string::npos);
  r = w.Kv({"daemon", "stop"}, "", env);
  CHECK(r.code != 0);
  CHECK(::kill(theirs, 0) == 0);  // still running: kv did not signal it
  // The same socket named explicitly is the user's choice, and is used.
  r = w.Kv({"get", "secret"}, "", {"KV_URL=unix://" + path, "KV_TIMEOUT=500ms"});
  CHECK(r.err.find("not by you") == std::string::npos);

  ::kill(theirs, SIGKILL);
  ::waitpid(theirs, nullptr, 0);
}

TEST_CASE("kv: usage errors exit 2 with one line on stderr", "[e2e]") {
  KvWorld w;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"frobnicate"}, {"get"}, {"get", "a", "--bogus"}, {"--bogus", "get", "a"},
           {"set", "a", "b", "--ttl", "soon"}, {"--timeout", "zz", "get", "a"},
           {"-o", "yaml", "get", "a"}, {"expire", "a", "1y"}, {"patch", "a", "{"},
           {"import", "--format", "xml"}, {"-n", "bad name", "get", "a"}, {"token"}}) {
    KvResult r = w.Kv(args);
    INFO(KvWorld::Join(args) << " -> " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(OneErrorLine(r.err));
  }
  KvResult r = w.Kv(std::vector<std::string>{});
  CHECK(r.code == 2);
  CHECK(r.err.find("Usage: kv") != std::string::npos);
}

TEST_CASE("kv: help and version", "[e2e]") {
  KvWorld w(/*start_kvd=*/false);
  std::string help = w.Ok({"--help"});
  for (const char* command : {"get", "set", "del", "has", "meta", "ls", "ttl", "expire", "persist",
                              "incr", "decr", "patch", "clear", "export", "import", "watch",
                              "stats", "token", "daemon", "profile", "version", "help"}) {
    INFO(command);
    CHECK(std::regex_search(help, std::regex(std::string("\n  ") + command + "[ ,]")));
  }
  CHECK(w.Ok({"help", "ls"}).find("Usage: kv ls") != std::string::npos);
  CHECK(w.Ok({"help", "daemon", "logs"}).find("--follow") != std::string::npos);
  CHECK(w.Ok({"set", "--help"}).find("--if-match") != std::string::npos);
  CHECK(w.Ok({"help", "json"}).find("\"next_cursor\"") != std::string::npos);
  CHECK(w.Kv({"help", "nope"}).code == 2);
  CHECK(w.Ok({"--version"}) == std::string("kv ") + KV_VERSION + "\n");
  CHECK(w.Ok({"version"}) == std::string("kv ") + KV_VERSION + "\n");
}

TEST_CASE("kv daemon start / status / logs / stop / restart - auto-start", "[e2e]") {
  KvWorld w(/*start_kvd=*/false);
  // Auto-start on: the daemon is kv's to start, on a socket of this test.
  std::vector<std::string> env = {"KV_NO_AUTOSTART"};
  auto cleanup = [&] {
    KvResult s = w.Kv({"daemon", "status", "-o", "json"}, "", env);
    json j = json::parse(s.out, nullptr, false);
    if (!j.is_discarded() && j["running"] == true) ::kill(j["pid"].get<pid_t>(), SIGKILL);
  };
  struct Guard {
    std::function<void()> f;
    ~Guard() { f(); }
  } guard{cleanup};

  KvResult r = w.Kv({"daemon", "status"}, "", env);
  CHECK(r.code == 4);
  CHECK(r.out == "kvd is not running (socket " + w.socket() + ")\n");
  r = w.Kv({"daemon", "stop"}, "", env);
  CHECK(r.code == 0);
  CHECK(r.err == "kv: kvd is not running (socket " + w.socket() + ")\n");

  r = w.Kv({"daemon", "start"}, "", env);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("kvd is running (pid ", 0) == 0);
  json status = json::parse(w.Ok({"daemon", "status", "-o", "json"}, "", env));
  CHECK(status["running"] == true);
  CHECK(status["socket"] == w.socket());
  pid_t pid = status["pid"].get<pid_t>();
  CHECK(pid > 0);
  CHECK(status["log_file"] == w.dir().Sub("state/kv/kvd.log"));
  r = w.Kv({"daemon", "start"}, "", env);
  CHECK(r.code == 0);
  CHECK(r.err == "kv: kvd is already running\n");

  w.Ok({"set", "a", "1"}, "", env);
  CHECK(w.Ok({"get", "a"}, "", env) == "1");
  CHECK(w.Ok({"daemon", "logs", "--lines", "0"}, "", env).find("started") != std::string::npos);
  std::string last = w.Ok({"daemon", "logs", "--lines", "1"}, "", env);
  CHECK(std::count(last.begin(), last.end(), '\n') == 1);

  r = w.Kv({"daemon", "restart"}, "", env);
  INFO(r.err);
  CHECK(r.code == 0);
  json after = json::parse(w.Ok({"daemon", "status", "-o", "json"}, "", env));
  CHECK(after["pid"] != pid);
  CHECK(w.Ok({"get", "a"}, "", env) == "1");  // same data directory

  r = w.Kv({"daemon", "stop"}, "", env);
  CHECK(r.code == 0);
  CHECK(r.err.rfind("kv: kvd stopped (pid ", 0) == 0);
  CHECK(w.Kv({"daemon", "status"}, "", env).code == 4);

  // Auto-start: a plain command starts it again.
  CHECK(w.Ok({"get", "a"}, "", env) == "1");
  CHECK(w.Kv({"daemon", "status"}, "", env).code == 0);
  CHECK(w.Kv({"daemon", "stop", "-q"}, "", env).code == 0);
}

// Every kvd process serving `socket`, found through /proc.
std::vector<pid_t> KvdProcessesOn(const std::string& socket) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("kvd") != std::string::npos && cmdline.find(socket) != std::string::npos &&
        cmdline.find("--socket") != std::string::npos) {
      found.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return found;
}

TEST_CASE("kv: racing auto-starts from nothing end with one daemon", "[e2e]") {
  KvWorld w(/*start_kvd=*/false);
  std::vector<std::string> env = {"KV_NO_AUTOSTART"};
  struct Guard {
    std::string socket;
    ~Guard() {
      for (pid_t p : KvdProcessesOn(socket)) ::kill(p, SIGKILL);
    }
  } guard{w.socket()};

  constexpr int kRacers = 6;
  std::vector<KvResult> results(kRacers);
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      results[i] = w.Kv({"set", "racer" + std::to_string(i), std::to_string(i)}, "", env);
    });
  }
  for (auto& t : racers) t.join();
  for (const KvResult& r : results) {
    INFO(r.err);
    CHECK(r.code == 0);
  }
  CHECK(KvdProcessesOn(w.socket()).size() == 1);
  for (int i = 0; i < kRacers; ++i) {
    CHECK(w.Ok({"get", "racer" + std::to_string(i)}, "", env) == std::to_string(i));
  }
}

TEST_CASE("kv: KV_NO_AUTOSTART=1 exits 4 instead of starting kvd", "[e2e]") {
  KvWorld w(/*start_kvd=*/false);
  KvResult r = w.Kv({"get", "a"}, "", {"KV_NO_AUTOSTART=1"});
  CHECK(r.code == 4);
  CHECK(r.err.rfind("kv: ", 0) == 0);
  CHECK(r.err.find(w.socket()) != std::string::npos);
  CHECK(KvdProcessesOn(w.socket()).empty());
}

}  // namespace
}  // namespace kv::testing
