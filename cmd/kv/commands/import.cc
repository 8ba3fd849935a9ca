// kv import: read kv export's NDJSON (or one JSON object of key -> value) from
// stdin and write every key.
//
// NDJSON is streamed: memory stays bounded whatever the input's size (a few
// batches per connection are in flight). Records go to `--jobs` connections
// in parallel (by default one to a kvd, four to other backends); all records
// of one key go to the same connection, in input order, so the last line for
// a key wins as it would one at a time. A plain JSON object is read whole
// before it is written.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cmd/kv/commands/commands.h"
#include "common/json_text.h"
#include "common/base64.h"
#include "common/json_flat.h"
#include "common/units.h"

namespace kv::cli {

Status ParseImportLine(std::string_view line, ImportRecord* record) {
  *record = ImportRecord{};
  // The members, as scanned (no tree: an import reads millions of lines). A
  // repeated name: the last one counts, as in a JSON parser.
  // Views into the line; a string with escapes is decoded into `owned`.
  struct Seen {
    json::Kind kind = json::Kind::kNull;
    std::string_view raw, text;
    std::string owned;
  };
  std::optional<Seen> key, key_encoding, value, content_type, encoding, ttl_ms, ttl;
  const std::string error = json::ScanObject(line, [&](const json::Member& m) {
    std::optional<Seen>* slot = m.name == "key"            ? &key
                                : m.name == "key_encoding" ? &key_encoding
                                : m.name == "value"        ? &value
                                : m.name == "content_type" ? &content_type
                                : m.name == "encoding"     ? &encoding
                                : m.name == "ttl_ms"       ? &ttl_ms
                                : m.name == "ttl"          ? &ttl
                                                           : nullptr;
    if (slot == nullptr) return;
    Seen& seen = slot->emplace();
    seen.kind = m.kind;
    seen.raw = m.raw;
    const bool in_line = m.text.data() >= line.data() && m.text.data() < line.data() + line.size();
    if (in_line || m.text.empty()) {
      seen.text = m.text;
    } else {
      seen.owned.assign(m.text);
      seen.text = seen.owned;
    }
  });
  if (!error.empty()) {
    auto doc = nlohmann::json::parse(line, nullptr, false);
    return Status::InvalidArgument(doc.is_discarded() ? "not valid JSON" : "expected a JSON object");
  }
  auto present = [](const std::optional<Seen>& m) { return m && m->kind != json::Kind::kNull; };
  auto is_string = [](const std::optional<Seen>& m) { return m && m->kind == json::Kind::kString; };

  if (!is_string(key)) return Status::InvalidArgument("missing \"key\" (a string)");
  record->key.assign(key->text);
  if (present(key_encoding)) {
    if (!is_string(key_encoding) || (key_encoding->text != "base64" && key_encoding->text != "text")) {
      return Status::InvalidArgument("\"key_encoding\" must be \"base64\" or \"text\"");
    }
    if (key_encoding->text == "base64") {
      std::optional<std::string> decoded = Base64Decode(record->key);
      if (!decoded) return Status::InvalidArgument("\"key\" is not base64");
      record->key = std::move(*decoded);
    }
  }
  if (record->key.empty()) return Status::InvalidArgument("empty \"key\"");

  if (!value) return Status::InvalidArgument("missing \"value\"");

  bool has_type = false;
  if (present(content_type)) {
    if (!is_string(content_type)) return Status::InvalidArgument("\"content_type\" must be a string");
    record->content_type.assign(content_type->text);
    has_type = true;
  }

  std::string how;
  if (present(encoding)) {
    if (!is_string(encoding) ||
        (encoding->text != "json" && encoding->text != "text" && encoding->text != "base64")) {
      return Status::InvalidArgument("\"encoding\" must be \"json\", \"text\" or \"base64\"");
    }
    how.assign(encoding->text);
  } else {
    // No encoding: a string is text unless the content type says JSON.
    bool json_type = has_type && IsJsonContentType(record->content_type);
    how = is_string(value) && !json_type ? "text" : "json";
  }

  if (how == "text") {
    if (!is_string(value)) return Status::InvalidArgument("a text \"value\" must be a string");
    record->value.assign(value->text);
    if (!has_type) record->content_type = DefaultContentType(record->value);
  } else if (how == "base64") {
    if (!is_string(value)) return Status::InvalidArgument("a base64 \"value\" must be a string");
    std::optional<std::string> decoded = Base64Decode(value->text);
    if (!decoded) return Status::InvalidArgument("\"value\" is not base64");
    record->value = std::move(*decoded);
    if (!has_type) record->content_type = "application/octet-stream";
  } else {
    // The value's own text, so that its bytes survive export and import.
    record->value.assign(value->raw);
    if (!has_type) record->content_type = "application/json";
  }

  if (present(ttl_ms)) {
    int64_t ms = 0;
    json::Member m;
    m.kind = ttl_ms->kind;
    m.raw = ttl_ms->raw;
    if (!json::ParseInt64(m, &ms) || ms < 0) {
      return Status::InvalidArgument("\"ttl_ms\" must be an integer >= 0");
    }
    record->ttl_ms = ms;
    record->expired = ms == 0;
  } else if (present(ttl)) {
    if (!is_string(ttl)) return Status::InvalidArgument("\"ttl\" must be a duration string");
    Result<int64_t> ms = ParseDurationMs(ttl->text);
    if (!ms.ok()) return Status::InvalidArgument("bad \"ttl\": " + ms.status().message());
    record->ttl_ms = *ms;
  }
  return Status::Ok();
}

namespace {

constexpr size_t kBatch = 1000;              // records sent in one batch request
constexpr size_t kBatchBytes = 2 << 20;      // ...or fewer, once their values reach this
constexpr size_t kLargeValue = 1 << 20;      // values this big go one by one
constexpr size_t kQueuedBatches = 4;         // per worker, before the reader waits

struct Item {
  ImportRecord record;
  uint64_t line = 0;
};

// Writes records through one or more backends; see the file comment.
class Importer {
 public:
  Importer(Context& ctx, const ImportOptions& options) : ctx_(ctx), options_(options) {}
  ~Importer() { Stop(); }

  Status Start() {
    client::Backend* first = nullptr;
    if (Status s = GetBackend(ctx_, &first); !s.ok()) return s;
    // A kvd applies one batch at a time whatever the connections: through
    // one, its memtable inserts come in key order and nothing waits on its
    // locks (1M lines: 1 connection ~160k keys/s, 4 ~130k). Other backends
    // write item by item, and parallel connections hide their round trips.
    const int jobs = options_.jobs > 0 ? options_.jobs : first->Caps().batch_set ? 1 : 4;
    for (int i = 0; i < jobs; ++i) {
      auto w = std::make_unique<Worker>();
      if (i == 0) {
        w->backend = first;
      } else {
        Result<std::unique_ptr<client::Backend>> b = ctx_.OpenAnotherBackend();
        if (!b.ok()) return b.status();
        w->owned = std::move(*b);
        w->backend = w->owned.get();
      }
      workers_.push_back(std::move(w));
    }
    for (auto& w : workers_) {
      Worker* raw = w.get();
      raw->thread = std::thread([this, raw] { WorkerLoop(*raw); });
    }
    return Status::Ok();
  }

  // False once a write failed (Finish() says why).
  bool Add(ImportRecord&& record, uint64_t line) {
    if (failed_.load(std::memory_order_relaxed)) return false;
    if (record.expired) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    Worker& w = workers_.size() == 1
                    ? *workers_[0]
                    : *workers_[std::hash<std::string>{}(record.key) % workers_.size()];
    w.pending_bytes += record.value.size();
    w.pending.push_back(Item{std::move(record), line});
    if (w.pending.size() >= kBatch || w.pending_bytes >= kBatchBytes) Hand(w);
    return !failed_.load(std::memory_order_relaxed);
  }

  Status Finish() {
    for (auto& w : workers_) {
      if (!w->pending.empty()) Hand(*w);
    }
    Stop();
    std::lock_guard<std::mutex> lock(error_mu_);
    return error_;
  }

  uint64_t done() const { return imported_.load() + skipped_.load(); }
  uint64_t imported() const { return imported_.load(); }
  uint64_t skipped() const { return skipped_.load(); }

 private:
  struct Worker {
    std::unique_ptr<client::Backend> owned;
    client::Backend* backend = nullptr;
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::vector<Item>> queue;
    std::vector<Item> pending;  // filled by the reader, handed over in batches
    size_t pending_bytes = 0;
    bool closing = false;
  };

  void Hand(Worker& w) {
    std::unique_lock<std::mutex> lock(w.mu);
    w.cv.wait(lock, [&] {
      return w.queue.size() < kQueuedBatches || failed_.load(std::memory_order_relaxed);
    });
    if (failed_.load(std::memory_order_relaxed)) {
      w.pending.clear();
      return;
    }
    w.queue.push_back(std::move(w.pending));
    w.pending.clear();
    w.pending_bytes = 0;
    w.cv.notify_all();
  }

  void WorkerLoop(Worker& w) {
    for (;;) {
      std::vector<Item> batch;
      {
        std::unique_lock<std::mutex> lock(w.mu);
        w.cv.wait(lock, [&] { return !w.queue.empty() || w.closing; });
        if (w.queue.empty()) return;
        batch = std::move(w.queue.front());
        w.queue.pop_front();
        w.cv.notify_all();
      }
      WriteAll(*w.backend, batch);
    }
  }

  // Writes a batch in one request where the backend can (large values one by
  // one, so no request outgrows the backend's body limit).
  void WriteAll(client::Backend& backend, std::vector<Item>& batch) {
    std::vector<client::BatchItem> items;
    std::vector<Item*> sent;
    for (Item& item : batch) {
      if (failed_.load(std::memory_order_relaxed)) return;
      if (item.record.value.size() >= kLargeValue) {
        Write(backend, item);
        continue;
      }
      items.push_back(client::BatchItem{item.record.key, std::move(item.record.value),
                                        SetOptionsFor(item)});
      sent.push_back(&item);
    }
    if (items.empty() || failed_.load(std::memory_order_relaxed)) return;
    Result<std::vector<Status>> r = backend.SetMany(items);
    if (!r.ok()) {
      Fail(Prefixed(r.status(), "lines " + std::to_string(sent.front()->line) + "-" +
                                    std::to_string(sent.back()->line) + ": "));
      return;
    }
    for (size_t i = 0; i < sent.size() && i < r->size(); ++i) Count(*sent[i], (*r)[i]);
  }

  // Takes the item's content type: an item is written once.
  client::SetOptions SetOptionsFor(Item& item) const {
    client::SetOptions set;
    set.content_type = std::move(item.record.content_type);
    set.ttl_ms = item.record.ttl_ms;
    if (options_.if_absent) set.condition.kind = client::Condition::Kind::kIfAbsent;
    return set;
  }

  // Counts one item's outcome; false (and the import fails) on an error.
  bool Count(const Item& item, const Status& s) {
    if (s.ok()) {
      imported_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (options_.if_absent && s.IsPreconditionFailed()) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    Fail(Prefixed(s, "line " + std::to_string(item.line) + ": key " + QuoteKey(item.record.key) +
                         ": "));
    return false;
  }

  bool Write(client::Backend& backend, Item& item) {
    Result<client::KeyMeta> r =
        backend.Set(item.record.key, item.record.value, SetOptionsFor(item));
    return Count(item, r.status());
  }

  void Fail(Status status) {
    {
      std::lock_guard<std::mutex> lock(error_mu_);
      if (error_.ok()) error_ = std::move(status);
    }
    failed_.store(true);
    for (auto& w : workers_) {
      std::lock_guard<std::mutex> lock(w->mu);
      w->cv.notify_all();
    }
  }

  void Stop() {
    for (auto& w : workers_) {
      {
        std::lock_guard<std::mutex> lock(w->mu);
        w->closing = true;
      }
      w->cv.notify_all();
    }
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  Context& ctx_;
  const ImportOptions& options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> imported_{0};
  std::atomic<uint64_t> skipped_{0};
  std::mutex error_mu_;
  Status error_;
};

// A one-line progress report on stderr, redrawn at most every 100 ms.
class Progress {
 public:
  Progress(Context& ctx, bool enabled) : ctx_(ctx), enabled_(enabled) {
    start_ = last_ = std::chrono::steady_clock::now();
  }

  void Update(uint64_t records, uint64_t bytes_read) {
    if (!enabled_ || (++calls_ & 255) != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    char buf[160];
    uint64_t total = ctx_.io().stdin_size;
    if (total > 0) {
      int pct = static_cast<int>(100.0 * static_cast<double>(std::min(bytes_read, total)) /
                                 static_cast<double>(total));
      std::string bar(static_cast<size_t>(pct / 5), '#');
      bar.resize(20, '.');
      std::snprintf(buf, sizeof buf, "\r\x1b[Kkv: import [%s] %3d%%  %llu keys  %.0f keys/s",
                    bar.c_str(), pct, static_cast<unsigned long long>(records),
                    secs > 0 ? static_cast<double>(records) / secs : 0.0);
    } else {
      std::snprintf(buf, sizeof buf, "\r\x1b[Kkv: import  %llu keys  %.0f keys/s",
                    static_cast<unsigned long long>(records),
                    secs > 0 ? static_cast<double>(records) / secs : 0.0);
    }
    ctx_.err() << buf << std::flush;
    drawn_ = true;
  }

  void Clear() {
    if (drawn_) ctx_.err() << "\r\x1b[K" << std::flush;
    drawn_ = false;
  }

 private:
  Context& ctx_;
  bool enabled_;
  uint64_t calls_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

bool Blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Does this first line look like kv's NDJSON (an object with "key" and
// "value")?
bool LooksLikeRecord(std::string_view line) {
  auto doc = nlohmann::json::parse(line, nullptr, false);
  return !doc.is_discarded() && doc.is_object() && doc.contains("key") &&
         doc["key"].is_string() && doc.contains("value");
}

Status ImportObject(const std::string& text, Importer& importer) {
  // Checked whole first: a bad input writes nothing.
  if (!json::ScanObject(text, [](const json::Member&) {}).empty()) {
    return Status::InvalidArgument(
        "line 1: the input is neither NDJSON records ({\"key\":...,\"value\":...} per line) nor "
        "a JSON object of key -> value");
  }
  Status error;
  json::ScanObject(text, [&](const json::Member& m) {
    if (!error.ok()) return;
    if (m.name.empty()) {
      error = Status::InvalidArgument("an empty key in the input object");
      return;
    }
    ImportRecord record;
    record.key.assign(m.name);
    if (m.kind == json::Kind::kString) {
      record.value.assign(m.text);
      record.content_type = DefaultContentType(record.value);
    } else {
      json::OneLine(m.raw, &record.value);  // valid: ScanObject checked it
      record.content_type = "application/json";
    }
    importer.Add(std::move(record), 1);
  });
  return error;
}

}  // namespace

Status RunImport(const ImportOptions& options, Context& ctx) {
  if (options.format != "auto" && options.format != "ndjson" && options.format != "object") {
    return Status::InvalidArgument("bad --format " + options.format +
                                   ": expected auto, ndjson or object");
  }
  std::istream& in = ctx.in();
  if (ctx.io().stdin_tty) ctx.Note("reading NDJSON from stdin (end it with Ctrl-D)");
  std::string line;
  uint64_t line_no = 0;
  uint64_t bytes = 0;
  bool have_line = false;
  while (std::getline(in, line)) {
    ++line_no;
    bytes += line.size() + 1;
    if (!Blank(line)) {
      have_line = true;
      break;
    }
  }
  if (in.bad()) return Status::IOError("cannot read stdin");

  Importer importer(ctx, options);
  if (have_line) {
    if (Status s = importer.Start(); !s.ok()) return s;
  }
  Progress progress(ctx, ctx.io().stderr_tty && !ctx.quiet());
  Status status;
  if (have_line) {
    bool ndjson = options.format == "ndjson" || (options.format == "auto" && LooksLikeRecord(line));
    if (!ndjson) {
      Result<std::string> rest = ReadAll(in);
      if (!rest.ok()) return rest.status();
      status = ImportObject(line + "\n" + *rest, importer);
    } else {
      do {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!Blank(line)) {
          ImportRecord record;
          if (Status s = ParseImportLine(line, &record); !s.ok()) {
            status = Prefixed(s, "line " + std::to_string(line_no) + ": ");
            break;
          }
          if (!importer.Add(std::move(record), line_no)) break;
          progress.Update(importer.done(), bytes);
        }
        if (!std::getline(in, line)) break;
        ++line_no;
        bytes += line.size() + 1;
      } while (true);
      if (status.ok() && in.bad()) status = Status::IOError("cannot read stdin");
    }
  }
  Status written = importer.Finish();
  progress.Clear();
  if (!status.ok()) return status;
  if (!written.ok()) return written;
  uint64_t imported = importer.imported();
  uint64_t skipped = importer.skipped();
  if (!ctx.printer().Imported(imported, skipped)) {
    std::string note = "imported " + std::to_string(imported) + (imported == 1 ? " key" : " keys");
    if (skipped > 0) note += ", skipped " + std::to_string(skipped);
    ctx.Note(note);
  }
  return Status::Ok();
}

void AddImportCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ImportOptions>();
  CLI::App* cmd = app.add_subcommand("import", "Write keys read from stdin (kv export's NDJSON)");
  cmd->add_flag("--if-absent", opts->if_absent, "Skip keys that exist already");
  cmd->add_option("--format", opts->format,
                  "auto (default), ndjson, or object (one JSON object of key -> value)")
      ->check(CLI::IsMember({"auto", "ndjson", "object"}));
  cmd->add_option("-j,--jobs", opts->jobs,
                  "Parallel connections (default: 1 to a kvd, 4 to other backends)")
      ->check(CLI::Range(1, 64));
  cmd->footer(
      "Input: NDJSON lines {\"key\",\"value\"[,\"encoding\":\"json|text|base64\"],"
      "\"content_type\"[,\"ttl_ms\"|\"ttl\"]}\n"
      "(kv export's format; without \"encoding\", a string is text unless the content type is\n"
      "JSON), or one JSON object {\"key\": value, ...} (strings stored as text, other values as\n"
      "JSON). NDJSON is streamed in bounded memory. A bad line stops the import (exit 2) naming\n"
      "its line number; lines before it are written. Says how many keys it wrote on stderr\n"
      "(unless -q); a progress line on stderr when stderr is a terminal.\n"
      "JSON: {\"imported\":N,\"skipped\":N}");
  OnRun(cmd, ctx, [opts, &ctx] { return RunImport(*opts, ctx); });
}

}  // namespace kv::cli
