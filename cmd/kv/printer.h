// Printer: the one way kv commands show results (etcdctl's printer, redis-cli's
// output modes). One method per kind of result; three implementations:
//
//   raw    for scripts (the default when stdout is not a TTY): exact value
//          bytes, one key per line, bare numbers, tab-separated rows.
//   table  for people (the default on a TTY): the same data with aligned
//          columns, human durations and times, colour unless NO_COLOR.
//   json   `-o json`: one JSON document per result, NDJSON (one object per
//          line) for streams (ls, watch, stats, token ls, profile ls).
//
// Data goes to the `out` stream, never anything else; diagnostics go through
// Context (stderr). The JSON field names are a stable interface: they are
// listed in `kv help` (kJsonShapes in printer.cc) and the README.
//
// Ownership: a Printer holds references to streams its creator owns, which
// must outlive it. Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "client/backend.h"
#include "cmd/kv/config.h"

namespace kv::cli {

enum class OutputMode { kRaw, kTable, kJson };

// "raw", "table", "json" -> mode. False for anything else.
bool ParseOutputMode(std::string_view text, OutputMode* mode);

// What `kv daemon status` found.
struct DaemonInfo {
  bool running = false;
  std::string socket;    // the socket it listens on (or would)
  int64_t pid = 0;       // 0: unknown
  std::string log_file;  // empty: unknown
};

struct ProfileRow {
  Profile profile;
  bool current = false;
};

// A remaining TTL as people read it: "59m58s", "250ms" (whole seconds from
// 1 s up, rounded to the nearest), or "none" when ttl_ms < 0.
std::string HumanTtl(int64_t ttl_ms);

// The remaining TTL of `meta`: its ttl_ms, else derived from expire_at_ms and
// now_ms; -1 when it has none.
int64_t RemainingTtlMs(const client::KeyMeta& meta, int64_t now_ms);

class Printer {
 public:
  virtual ~Printer() = default;

  // get: raw = the exact bytes; table = the bytes plus a newline when they
  // do not end in one.
  virtual void Value(std::string_view key, const client::Value& value) = 0;
  // get with several keys, one call per key in the order given; `value` is
  // null for a missing key. raw = one line per key, the value as ls
  // --values writes it (empty when missing); table = KEY  VALUE (nothing
  // when missing); JSON = as Value (nothing when missing).
  virtual void ValueOfMany(std::string_view key, const client::Value* value) = 0;
  // meta
  virtual void Meta(const client::KeyMeta& meta) = 0;
  // set, expire, persist: nothing but in JSON (the key's metadata).
  virtual void Written(const client::KeyMeta& meta) = 0;
  // del (one call per key): nothing but in JSON.
  virtual void Deleted(std::string_view key, bool existed) = 0;
  // has: nothing but in JSON (the answer is the exit code).
  virtual void Exists(std::string_view key, bool exists) = 0;
  // ls, one call per key as pages arrive.
  virtual void Listed(const client::ListedKey& key) = 0;
  // ls --limit, when more keys follow: JSON prints {"next_cursor":...} as the
  // last line; the others leave it to Context::Note (stderr).
  virtual bool NextCursor(const std::string& cursor) = 0;
  // ttl
  virtual void Ttl(const client::KeyMeta& meta) = 0;
  // incr / decr: the new value.
  virtual void Counter(std::string_view key, std::string_view value) = 0;
  // patch: the merged JSON document.
  virtual void Document(std::string_view key, std::string_view json) = 0;
  // clear: JSON only ({"deleted":N}); the others say it on stderr.
  virtual bool Cleared(uint64_t deleted) = 0;
  // import: JSON only; the others say it on stderr.
  virtual bool Imported(uint64_t imported, uint64_t skipped) = 0;
  // watch, one call per event. Flushes.
  virtual void Event(const client::Event& event) = 0;
  virtual void Stats(const std::vector<client::NamespaceStats>& stats) = 0;
  virtual void TokenCreated(const client::TokenInfo& token) = 0;
  virtual void Tokens(const std::vector<client::TokenInfo>& tokens) = 0;
  virtual void TokenRevoked(std::string_view id) = 0;
  // webhook add: raw = the id alone.
  virtual void WebhookAdded(const client::WebhookInfo& webhook) = 0;
  // webhook ls (one row each), get and update (`detail`: one webhook, every field).
  virtual void Webhooks(const std::vector<client::WebhookInfo>& webhooks, bool detail) = 0;
  // webhook rm: nothing but in JSON.
  virtual void WebhookRemoved(std::string_view id) = 0;
  virtual void Profiles(const std::vector<ProfileRow>& profiles) = 0;
  virtual void Daemon(const DaemonInfo& info) = 0;
  virtual void Version(std::string_view version) = 0;

  // The time used for remaining TTLs; tests set it.
  void set_now_ms(int64_t now_ms) { now_ms_ = now_ms; }

 protected:
  int64_t NowMs() const;
  int64_t now_ms_ = 0;  // 0: the clock
};

// `color` only matters for table (the caller decides: a TTY and no NO_COLOR).
std::unique_ptr<Printer> MakePrinter(OutputMode mode, std::ostream& out, bool color);

// The documentation of every -o json shape, for `kv help` and the README.
extern const char* const kJsonShapes;

}  // namespace kv::cli
