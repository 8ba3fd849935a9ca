// Context: what every kv command shares for one run of the command tree (one
// argv, or one REPL line): the global flags CLI11 fills in, the settings
// resolved from them, the streams, the Printer and the Backend.
//
// Settings come from, first to last: the command line flag, its environment
// twin (KV_URL, KV_NAMESPACE, KV_APP, KV_TOKEN, KV_PROFILE, KV_TIMEOUT,
// KV_SOCKET, KV_NO_AUTOSTART, KV_CACERT, KV_CERT, KV_KEY, KV_USER; with
// KV_USER=NAME the password comes from KV_PASSWORD), the profile
// (-p/KV_PROFILE, else the config file's current profile; not used when
// --url/KV_URL is given without -p, and its token is only sent to its own
// URL), then the defaults.
//
// The Backend is opened on first use (so `kv version` never connects) and
// kept across runs while the connection settings stay the same: the REPL
// calls BuildApp for every line with the same Context and reuses the
// connection; a change of namespace only changes the backend's scope.
//
// Commands never exit() and write only through out()/err()/printer(), so the
// REPL can hand a Context its own streams.
//
// Ownership: the Context owns the Backend and the Printer; the streams belong
// to whoever built the Io and must outlive the Context.
// Thread-safety: one thread at a time (kv import's workers get their own
// backends from OpenAnotherBackend(), called on the Context's thread).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "client/backend.h"
#include "client/connect.h"
#include "cmd/kv/printer.h"
#include "common/status.h"

namespace kv::cli {

// The streams and what they are connected to.
struct Io {
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool stdin_tty = false;
  bool stdout_tty = false;
  bool stderr_tty = false;
  // The size of stdin when it is a regular file (import's progress), else 0.
  uint64_t stdin_size = 0;
};

// The global flags of one command line, as given (empty: not given).
struct GlobalFlags {
  std::string url;
  std::string ns;
  std::string app;
  std::string token;
  std::string profile;
  std::string output;   // raw | json | table
  std::string timeout;  // a duration
  std::string socket;
  // Remote backends: TLS files and the etcd user ("NAME:PASSWORD").
  std::string cacert;
  std::string cert;
  std::string key;
  std::string user;
  bool quiet = false;
};

// The settings a command runs with.
struct Settings {
  client::ConnectOptions connect;
  std::string profile;  // the profile in use; empty: none
  bool quiet = false;
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
// Opens a backend (client::OpenBackend in kv; tests may pass another).
using BackendOpener =
    std::function<Result<std::unique_ptr<client::Backend>>(const client::ConnectOptions&)>;

// The process environment.
std::optional<std::string> ProcessEnv(const char* name);

class Context {
 public:
  Context(Io io, BackendOpener opener, EnvLookup env = ProcessEnv);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  std::istream& in() { return *io_.in; }
  std::ostream& out() { return *io_.out; }
  std::ostream& err() { return *io_.err; }
  const Io& io() const { return io_; }
  // New streams (the REPL between lines, tests). Forgets the printer.
  void set_io(const Io& io) {
    io_ = io;
    printer_.reset();
  }

  // Bound by BuildApp; Reset() clears them before each parse.
  GlobalFlags& flags() { return flags_; }
  // Forgets the flags, the resolved settings, the printer and any pending
  // action (the backend stays open). BuildApp calls it.
  void Reset();

  // The settings for this command line. InvalidArgument: an unknown profile,
  // a bad config file, a bad namespace or app name, a bad --timeout.
  // Cached until Reset().
  Result<Settings> settings();

  // The output mode: -o, else table on a TTY and raw otherwise.
  OutputMode output_mode() const;
  Printer& printer();
  // Makes printer() build printers with `factory` instead of MakePrinter
  // (the REPL's pretty JSON on a terminal); nullptr: MakePrinter again.
  using PrinterFactory =
      std::function<std::unique_ptr<Printer>(OutputMode mode, std::ostream& out, bool color)>;
  void set_printer_factory(PrinterFactory factory) {
    printer_factory_ = std::move(factory);
    printer_.reset();
  }

  // The backend for the current settings, opened on first use. Errors: those
  // of settings() and of the opener (Unavailable when kvd is unreachable...).
  // The pointer stays valid until the next Reset() or backend() call.
  Result<client::Backend*> backend();
  // A new, separate backend with the same settings (import's workers).
  Result<std::unique_ptr<client::Backend>> OpenAnotherBackend();
  // A new backend with other connection options (kv daemon start).
  Result<std::unique_ptr<client::Backend>> OpenBackendWith(const client::ConnectOptions& options) {
    return opener_(options);
  }

  // "kv: MESSAGE" on stderr (one line: line breaks become spaces). Does
  // nothing for an empty message.
  void PrintError(std::string_view message);
  // An informational "kv: MESSAGE" on stderr, unless -q.
  void Note(std::string_view message);
  bool quiet() const { return flags_.quiet; }
  // Colour on stdout: a TTY, NO_COLOR unset or empty, TERM not "dumb".
  bool color() const;

  std::optional<std::string> Getenv(const char* name) const { return env_(name); }
  // KV_CONFIG, else $XDG_CONFIG_HOME/kv/config.toml, else
  // ~/.config/kv/config.toml.
  std::string ConfigPath() const;

  // The command CLI11 selected, to run once parsing is over.
  void SetAction(std::function<Status()> action) { action_ = std::move(action); }
  std::function<Status()> TakeAction();

 private:
  std::string FirstOf(const std::string& flag, const char* env_name) const;

  Io io_;
  BackendOpener opener_;
  EnvLookup env_;
  GlobalFlags flags_;
  std::optional<Settings> settings_;
  std::unique_ptr<Printer> printer_;
  PrinterFactory printer_factory_;
  std::unique_ptr<client::Backend> backend_;
  client::ConnectOptions backend_options_;  // what backend_ was opened with
  std::function<Status()> action_;
};

// Reads `in` to its end. IOError when the stream fails.
Result<std::string> ReadAll(std::istream& in);

}  // namespace kv::cli
