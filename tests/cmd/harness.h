// CliHarness: a Context over string streams, a chosen environment and a
// FakeBackend, so tests run kv command lines in-process as the REPL will.
//
//   CliHarness h;
//   REQUIRE(h.Run("set k v") == 0);
//   CHECK(h.out() == "");
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "cmd/kv/app.h"
#include "cmd/kv/context.h"
#include "tests/cmd/fake_backend.h"

namespace kv::testing {

class CliHarness {
 public:
  explicit CliHarness(std::map<std::string, std::string> env = {})
      : env_(std::move(env)),
        store_(std::make_shared<FakeStore>()),
        ctx_(MakeIo(), Opener(), Env()) {}

  // Runs one command line (no program name) with `input` on stdin. Clears
  // the captured output first.
  int Run(const std::string& line, const std::string& input = "") {
    in_.str(input);
    in_.clear();
    out_.str("");
    err_.str("");
    return cli::RunLine(ctx_, line);
  }

  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }
  FakeStore& store() { return *store_; }
  std::map<std::string, std::string>& env() { return env_; }
  cli::Context& ctx() { return ctx_; }
  int opens() const { return opens_; }
  // What the last backend was opened with.
  const client::ConnectOptions& last_options() const { return last_; }
  // What the last command line resolved to (the backend may be reused).
  client::ConnectOptions settings() {
    Result<cli::Settings> s = ctx_.settings();
    return s.ok() ? s->connect : client::ConnectOptions{};
  }
  // Make the next opens fail with `status` (ok: succeed again).
  void FailOpens(Status status) { open_error_ = std::move(status); }
  void set_tty(bool in, bool out) {
    io_.stdin_tty = in;
    io_.stdout_tty = out;
    ctx_.set_io(io_);
  }

 private:
  cli::Io MakeIo() {
    io_.in = &in_;
    io_.out = &out_;
    io_.err = &err_;
    return io_;
  }
  cli::BackendOpener Opener() {
    return [this](const client::ConnectOptions& o) -> Result<std::unique_ptr<client::Backend>> {
      ++opens_;
      last_ = o;
      if (!open_error_.ok()) return open_error_;
      auto b = std::make_unique<FakeBackend>(store_);
      b->SetScope(o.scope);
      return std::unique_ptr<client::Backend>(std::move(b));
    };
  }
  cli::EnvLookup Env() {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }

  std::map<std::string, std::string> env_;
  std::shared_ptr<FakeStore> store_;
  std::istringstream in_;
  std::ostringstream out_;
  std::ostringstream err_;
  cli::Io io_;
  int opens_ = 0;
  client::ConnectOptions last_;
  Status open_error_;
  cli::Context ctx_;
};

}  // namespace kv::testing
