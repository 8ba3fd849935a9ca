#include "cmd/kv/printer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "cmd/kv/terminal_text.h"
#include "common/base64.h"
#include "common/json_flat.h"
#include "common/json_text.h"
#include "common/units.h"

namespace kv::cli {

const char* const kJsonShapes = R"(JSON output (-o json): one object per line; field names are stable.
  get        {"key","value","encoding":"json|text|base64","content_type","etag",
              "revision","size","expire_at_ms":N|null,"ttl_ms":N|null}  one per key found
  meta, set, expire, persist
             {"key","etag","revision","create_revision","size","content_type",
              "created_ms":N|null,"updated_ms":N|null,"expire_at_ms":N|null,"ttl_ms":N|null}
  has        {"key","exists":true|false}
  del        {"key","deleted":true|false}            one line per key
  ls         {"key","etag","revision","size","content_type","updated_ms":N|null,
              "expire_at_ms":N|null,"ttl_ms":N|null[,"value","encoding"]}   one line per key;
             with --limit and more to come, a last line {"next_cursor":"..."}
  ttl        {"key","ttl_ms":N|null,"expire_at_ms":N|null}
  incr, decr {"key","value":N}
  patch      {"key","value":<the merged document>}
  clear, del --prefix
             {"deleted":N}
  import     {"imported":N,"skipped":N}
  watch      {"revision","type":"create|update|delete|expire","key","namespace","app",
              "time_ms","size","content_type","expire_at_ms":N|null[,"value","encoding"]}
  stats      {"tenant","namespace","app","keys","bytes","quota_bytes":N|null}  one per namespace
  token create {"id","tenant","created_ms","token"}   token ls: {"id","tenant","created_ms"}
  token revoke {"id","revoked":true}
  webhook add, ls, get, update
             {"id","key","event","endpoint","method","headers":{},"payload":{},
              "add_event_data","created_at","delivery":{"cursor","lag","delivered",
              "failed","attempts","last_status":N|null,"last_error":"..."|null,
              "last_attempt_ms":N|null,"last_success_ms":N|null}}   one per webhook
  webhook rm {"id","removed":true}
  profile ls {"name","url","namespace","app","has_token","current"}
  daemon status {"running","socket","pid":N|null,"log_file":"..."|null}
  ui         {"url","tenant","expires_ms","opened"}
  version    {"version"}
A key that is not valid UTF-8 is given in base64 with "key_encoding":"base64".
Times are Unix milliseconds; ttl_ms is the remaining time to live.
export always writes NDJSON: {"key","value"[,"encoding":"text|base64"],"content_type"[,"ttl_ms"]}
(JSON values embedded as JSON, with no "encoding").)";

bool ParseOutputMode(std::string_view text, OutputMode* mode) {
  if (text == "raw") {
    *mode = OutputMode::kRaw;
  } else if (text == "table") {
    *mode = OutputMode::kTable;
  } else if (text == "json") {
    *mode = OutputMode::kJson;
  } else {
    return false;
  }
  return true;
}

std::string HumanTtl(int64_t ttl_ms) {
  if (ttl_ms < 0) return "none";
  if (ttl_ms < 1000) return FormatDurationMs(ttl_ms);
  return FormatDurationMs((ttl_ms + 500) / 1000 * 1000);
}

int64_t RemainingTtlMs(const client::KeyMeta& meta, int64_t now_ms) {
  if (meta.ttl_ms >= 0) return meta.ttl_ms;
  if (meta.expire_at_ms <= 0) return -1;
  return std::max<int64_t>(0, meta.expire_at_ms - now_ms);
}

int64_t Printer::NowMs() const {
  if (now_ms_ != 0) return now_ms_;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

void Line(std::ostream& out, const std::string& text) {
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.put('\n');
}

// ISO 8601 UTC with milliseconds, or "-" for 0 (unknown).
std::string IsoTime(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string HumanBytes(uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

// A value on one line of text output: itself when it is one line of UTF-8,
// else a JSON string (escapes), else "base64:...".
std::string OneLineValue(std::string_view bytes) {
  if (!IsValidUtf8(bytes)) return "base64:" + Base64Encode(bytes);
  if (bytes.find_first_of("\n\r\t") == std::string_view::npos) return std::string(bytes);
  std::string out;
  AppendJsonString(out, bytes);
  return out;
}

// A key in text output (keys are any bytes but NUL).
std::string TextKey(std::string_view key) { return std::string(key); }

// A value on one line of a terminal: "base64:..." for binary data, as
// OneLineValue, and quoted with escapes when it holds control characters.
std::string TerminalValue(std::string_view bytes) {
  if (!IsValidUtf8(bytes)) return "base64:" + Base64Encode(bytes);
  return ForTerminal(bytes);
}

// Binary values up to this size show on a terminal quoted; larger ones
// only as a note (a photo's escapes would fill the screen).
constexpr size_t kMaxQuotedBinaryBytes = 4096;

std::string MetaJson(const client::KeyMeta& m, int64_t now_ms) {
  JsonObject o;
  PutKey(o, m.key);
  o.Str("etag", m.etag)
      .Uint("revision", m.revision)
      .Uint("create_revision", m.create_revision)
      .Uint("size", m.size)
      .Str("content_type", m.content_type)
      .MsOrNull("created_ms", m.created_ms, true)
      .MsOrNull("updated_ms", m.updated_ms, true)
      .MsOrNull("expire_at_ms", m.expire_at_ms, true)
      .MsOrNull("ttl_ms", RemainingTtlMs(m, now_ms), false);
  return o.Done();
}

std::string EventJson(const client::Event& e) {
  JsonObject o;
  o.Uint("revision", e.revision).Str("type", e.type);
  PutKey(o, e.key);
  o.Str("namespace", e.ns)
      .Str("app", e.app)
      .Int("time_ms", e.time_ms)
      .Uint("size", e.size)
      .Str("content_type", e.content_type)
      .MsOrNull("expire_at_ms", e.expire_at_ms, true);
  if (e.value) PutValue(o, *e.value, e.content_type, false);
  return o.Done();
}

// Writes rows as left-aligned columns separated by two spaces; the first row
// is a header (bold when colour is on).
void WriteTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows, bool color) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    if (r == 0 && color) line += "\x1b[1m";
    for (size_t i = 0; i < rows[r].size(); ++i) {
      line += rows[r][i];
      if (i + 1 < rows[r].size()) line.append(width[i] - rows[r][i].size() + 2, ' ');
    }
    if (r == 0 && color) line += "\x1b[0m";
    Line(out, line);
  }
}

class RawPrinter : public Printer {
 public:
  explicit RawPrinter(std::ostream& out) : out_(out) {}

  void Value(std::string_view, const client::Value& v) override {
    out_.write(v.bytes.data(), static_cast<std::streamsize>(v.bytes.size()));
  }
  void ValueOfMany(std::string_view, const client::Value* v) override {
    Line(out_, v ? OneLineValue(v->bytes) : std::string());
  }
  void Meta(const client::KeyMeta& m) override {
    auto field = [this](const char* name, const std::string& value) {
      Line(out_, std::string(name) + "\t" + value);
    };
    auto ms = [](int64_t v) { return v > 0 ? std::to_string(v) : std::string("none"); };
    int64_t ttl = RemainingTtlMs(m, NowMs());
    field("key", TextKey(m.key));
    field("etag", m.etag);
    field("revision", std::to_string(m.revision));
    field("create_revision", std::to_string(m.create_revision));
    field("size", std::to_string(m.size));
    field("content_type", m.content_type);
    field("created_ms", ms(m.created_ms));
    field("updated_ms", ms(m.updated_ms));
    field("expire_at_ms", ms(m.expire_at_ms));
    field("ttl_ms", ttl >= 0 ? std::to_string(ttl) : std::string("none"));
  }
  void Written(const client::KeyMeta&) override {}
  void Deleted(std::string_view, bool) override {}
  void Exists(std::string_view, bool) override {}
  void Listed(const client::ListedKey& k) override {
    std::string line = TextKey(k.meta.key);
    if (k.value) line += "\t" + OneLineValue(*k.value);
    Line(out_, line);
  }
  bool NextCursor(const std::string&) override { return false; }
  void Ttl(const client::KeyMeta& m) override { Line(out_, HumanTtl(RemainingTtlMs(m, NowMs()))); }
  void Counter(std::string_view, std::string_view value) override { Line(out_, std::string(value)); }
  void Document(std::string_view, std::string_view json) override {
    std::string text(json);
    if (text.empty() || text.back() != '\n') text.push_back('\n');
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  bool Cleared(uint64_t) override { return false; }
  bool Imported(uint64_t, uint64_t) override { return false; }
  void Event(const client::Event& e) override {
    Line(out_, EventJson(e));
    out_.flush();
  }
  void Stats(const std::vector<client::NamespaceStats>& stats) override {
    for (const auto& s : stats) {
      Line(out_, s.tenant + "\t" + s.ns + "\t" + s.app + "\t" + std::to_string(s.keys) + "\t" +
                     std::to_string(s.bytes) + "\t" +
                     (s.quota_bytes ? std::to_string(s.quota_bytes) : std::string("none")));
    }
  }
  void TokenCreated(const client::TokenInfo& t) override { Line(out_, t.token); }
  void Tokens(const std::vector<client::TokenInfo>& tokens) override {
    for (const auto& t : tokens) {
      Line(out_, t.id + "\t" + t.tenant + "\t" + std::to_string(t.created_ms));
    }
  }
  void TokenRevoked(std::string_view) override {}
  void WebhookAdded(const client::WebhookInfo& w) override { Line(out_, w.id); }
  void Webhooks(const std::vector<client::WebhookInfo>& webhooks, bool) override {
    for (const auto& w : webhooks) {
      Line(out_, w.id + "\t" + w.event + "\t" + w.key + "\t" + w.method + "\t" + w.endpoint +
                     "\t" + std::to_string(w.delivered) + "\t" + std::to_string(w.failed) + "\t" +
                     std::to_string(w.attempts) + "\t" + std::to_string(w.last_status) + "\t" +
                     std::to_string(w.lag));
    }
  }
  void WebhookRemoved(std::string_view) override {}
  void Profiles(const std::vector<ProfileRow>& rows) override {
    for (const auto& r : rows) Line(out_, r.profile.name);
  }
  void Daemon(const DaemonInfo& d) override {
    if (d.running) {
      Line(out_, "kvd is running" + (d.pid ? " (pid " + std::to_string(d.pid) + ")" : "") +
                     " on unix " + d.socket);
    } else {
      Line(out_, "kvd is not running (socket " + d.socket + ")");
    }
  }
  void Version(std::string_view version) override { Line(out_, "kv " + std::string(version)); }

 protected:
  std::ostream& out_;
};

class TablePrinter : public RawPrinter {
 public:
  TablePrinter(std::ostream& out, bool color) : RawPrinter(out), color_(color) {}

  void Value(std::string_view, const client::Value& v) override {
    if (ShowsAsIs(v.bytes, /*lines=*/true)) {
      out_.write(v.bytes.data(), static_cast<std::streamsize>(v.bytes.size()));
      if (v.bytes.empty() || v.bytes.back() != '\n') out_.put('\n');
    } else if (IsValidUtf8(v.bytes) || v.bytes.size() <= kMaxQuotedBinaryBytes) {
      Line(out_, Quoted(v.bytes));
    } else {
      Line(out_, Paint("(" + HumanBytes(v.bytes.size()) +
                           " of binary data, not shown on a terminal: -o raw or a pipe "
                           "gives the bytes)",
                       "2"));
    }
  }
  void ValueOfMany(std::string_view key, const client::Value* v) override {
    if (v) Line(out_, Paint(ForTerminal(key), "36") + "  " + TerminalValue(v->bytes));
  }
  void Meta(const client::KeyMeta& m) override {
    int64_t ttl = RemainingTtlMs(m, NowMs());
    std::vector<std::vector<std::string>> rows = {
        {"Key:", ForTerminal(m.key)},
        {"ETag:", "\"" + m.etag + "\""},
        {"Revision:", std::to_string(m.revision) + " (created at " +
                          std::to_string(m.create_revision) + ")"},
        {"Size:", HumanBytes(m.size)},
        {"Content-Type:", ForTerminal(m.content_type)},
        {"Created:", IsoTime(m.created_ms)},
        {"Updated:", IsoTime(m.updated_ms)},
        {"Expires:", m.expire_at_ms > 0 ? IsoTime(m.expire_at_ms) : std::string("never")},
        {"TTL:", HumanTtl(ttl)},
    };
    for (auto& row : rows) {
      std::string label = row[0];
      label.append(14 - std::min<size_t>(14, label.size()), ' ');
      Line(out_, Paint(label, "1") + row[1]);
    }
  }
  void Listed(const client::ListedKey& k) override {
    std::string line = Paint(ForTerminal(k.meta.key), "36");
    if (k.value) line += "  " + TerminalValue(*k.value);
    Line(out_, line);
  }
  void Document(std::string_view, std::string_view json) override {
    auto doc = kv::json::ParseTree<nlohmann::ordered_json>(json);
    if (doc.is_discarded()) return Line(out_, Quoted(json));
    // JSON escapes C0 controls; \u escapes for the rest (C1) when there are any.
    const bool ascii = !ShowsAsIs(json, /*lines=*/true);
    Line(out_, doc.dump(2, ' ', ascii, nlohmann::ordered_json::error_handler_t::replace));
  }
  void Event(const client::Event& e) override {
    const char* colour = e.type == "create" ? "32" : e.type == "update" ? "33" : "31";
    std::string line = std::to_string(e.revision) + "  " + Paint(e.type, colour) + "  " +
                       ForTerminal(e.key);
    if (e.type == "create" || e.type == "update") {
      line += "  (" + HumanBytes(e.size);
      if (e.expire_at_ms > 0) line += ", expires " + IsoTime(e.expire_at_ms);
      line += ")";
      if (e.value && e.value->size() <= 200) line += "  " + TerminalValue(*e.value);
    }
    Line(out_, line);
    out_.flush();
  }
  void Stats(const std::vector<client::NamespaceStats>& stats) override {
    bool tenants = std::any_of(stats.begin(), stats.end(),
                               [&](const auto& s) { return s.tenant != stats.front().tenant; });
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header = {"NAMESPACE", "APP", "KEYS", "SIZE", "QUOTA", "USED"};
    if (tenants) header.insert(header.begin(), "TENANT");
    rows.push_back(header);
    for (const auto& s : stats) {
      std::string used = "-";
      if (s.quota_bytes) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f%%",
                      100.0 * static_cast<double>(s.bytes) / static_cast<double>(s.quota_bytes));
        used = buf;
      }
      std::vector<std::string> row = {ForTerminal(s.ns), ForTerminal(s.app),
                                      std::to_string(s.keys), HumanBytes(s.bytes),
                                      s.quota_bytes ? HumanBytes(s.quota_bytes) : "-", used};
      if (tenants) row.insert(row.begin(), s.tenant);
      rows.push_back(row);
    }
    WriteTable(out_, rows, color_);
  }
  void TokenCreated(const client::TokenInfo& t) override {
    Line(out_, Paint("id:     ", "1") + t.id);
    Line(out_, Paint("tenant: ", "1") + t.tenant);
    Line(out_, Paint("token:  ", "1") + t.token);
  }
  void Tokens(const std::vector<client::TokenInfo>& tokens) override {
    std::vector<std::vector<std::string>> rows = {{"ID", "TENANT", "CREATED"}};
    for (const auto& t : tokens) rows.push_back({t.id, t.tenant, IsoTime(t.created_ms)});
    WriteTable(out_, rows, color_);
  }
  void Webhooks(const std::vector<client::WebhookInfo>& webhooks, bool detail) override {
    auto status = [](const client::WebhookInfo& w) {
      return w.last_status > 0 ? std::to_string(w.last_status)
                               : (w.last_attempt_ms > 0 ? std::string("no answer") : "-");
    };
    if (detail) {
      for (const auto& w : webhooks) {
        std::vector<std::vector<std::string>> rows = {
            {"ID:", w.id},
            {"Key:", ForTerminal(w.key)},
            {"Event:", ForTerminal(w.event)},
            {"Endpoint:", ForTerminal(w.endpoint)},
            {"Method:", ForTerminal(w.method)},
            {"Headers:", ForTerminal(w.headers_json)},
            {"Payload:", ForTerminal(w.payload_json)},
            {"Event data:", w.add_event_data ? "yes" : "no"},
            {"Created:", IsoTime(w.created_at * 1000)},
            {"Delivered:", std::to_string(w.delivered)},
            {"Failed:", std::to_string(w.failed)},
            {"Attempts:", std::to_string(w.attempts)},
            {"Last status:", status(w)},
            {"Last error:", w.last_error.empty() ? "-" : ForTerminal(w.last_error)},
            {"Last attempt:", w.last_attempt_ms > 0 ? IsoTime(w.last_attempt_ms) : "-"},
            {"Lag:", std::to_string(w.lag) + " revisions (cursor " + std::to_string(w.cursor) + ")"},
        };
        WriteTable(out_, rows, false);
      }
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "EVENT", "KEY", "ENDPOINT", "DELIVERED", "FAILED", "ATTEMPTS", "LAST", "LAG"}};
    for (const auto& w : webhooks) {
      rows.push_back({ForTerminal(w.id), ForTerminal(w.event), ForTerminal(w.key),
                      ForTerminal(w.method + " " + w.endpoint),
                      std::to_string(w.delivered), std::to_string(w.failed),
                      std::to_string(w.attempts), status(w), std::to_string(w.lag)});
    }
    WriteTable(out_, rows, color_);
  }
  void Profiles(const std::vector<ProfileRow>& profiles) override {
    std::vector<std::vector<std::string>> rows = {{"", "NAME", "URL", "NAMESPACE", "APP", "TOKEN"}};
    for (const auto& r : profiles) {
      const Profile& p = r.profile;
      rows.push_back({r.current ? "*" : "", p.name, p.url.empty() ? "(local kvd)" : p.url,
                      p.ns.empty() ? "-" : p.ns, p.app.empty() ? "-" : p.app,
                      p.token.empty() ? "-" : "set"});
    }
    WriteTable(out_, rows, color_);
  }

 private:
  std::string Paint(const std::string& text, const char* sgr) const {
    if (!color_) return text;
    return std::string("\x1b[") + sgr + "m" + text + "\x1b[0m";
  }
  bool color_;
};

class JsonPrinter : public Printer {
 public:
  explicit JsonPrinter(std::ostream& out) : out_(out) {}

  void Value(std::string_view key, const client::Value& v) override {
    JsonObject o;
    PutKey(o, key);
    PutValue(o, v.bytes, v.meta.content_type, false);
    o.Str("content_type", v.meta.content_type)
        .Str("etag", v.meta.etag)
        .Uint("revision", v.meta.revision)
        .Uint("size", v.bytes.size())
        .MsOrNull("expire_at_ms", v.meta.expire_at_ms, true)
        .MsOrNull("ttl_ms", RemainingTtlMs(v.meta, NowMs()), false);
    Line(out_, o.Done());
  }
  void ValueOfMany(std::string_view key, const client::Value* v) override {
    if (v) Value(key, *v);
  }
  void Meta(const client::KeyMeta& m) override { Line(out_, MetaJson(m, NowMs())); }
  void Written(const client::KeyMeta& m) override { Line(out_, MetaJson(m, NowMs())); }
  void Deleted(std::string_view key, bool existed) override {
    JsonObject o;
    PutKey(o, key);
    Line(out_, o.Bool("deleted", existed).Done());
  }
  void Exists(std::string_view key, bool exists) override {
    JsonObject o;
    PutKey(o, key);
    Line(out_, o.Bool("exists", exists).Done());
  }
  void Listed(const client::ListedKey& k) override {
    const client::KeyMeta& m = k.meta;
    JsonObject o;
    PutKey(o, m.key);
    o.Str("etag", m.etag)
        .Uint("revision", m.revision)
        .Uint("size", m.size)
        .Str("content_type", m.content_type)
        .MsOrNull("updated_ms", m.updated_ms, true)
        .MsOrNull("expire_at_ms", m.expire_at_ms, true)
        .MsOrNull("ttl_ms", RemainingTtlMs(m, NowMs()), false);
    if (k.value) PutValue(o, *k.value, m.content_type, false);
    Line(out_, o.Done());
  }
  bool NextCursor(const std::string& cursor) override {
    Line(out_, JsonObject().Str("next_cursor", cursor).Done());
    return true;
  }
  void Ttl(const client::KeyMeta& m) override {
    JsonObject o;
    PutKey(o, m.key);
    o.MsOrNull("ttl_ms", RemainingTtlMs(m, NowMs()), false)
        .MsOrNull("expire_at_ms", m.expire_at_ms, true);
    Line(out_, o.Done());
  }
  void Counter(std::string_view key, std::string_view value) override {
    JsonObject o;
    PutKey(o, key);
    bool number = !value.empty() && value.find_first_not_of("-0123456789") == std::string::npos;
    if (number) {
      o.Raw("value", value);
    } else {
      o.Str("value", IsValidUtf8(value) ? value : std::string_view("?"));
    }
    Line(out_, o.Done());
  }
  void Document(std::string_view key, std::string_view json) override {
    JsonObject o;
    PutKey(o, key);
    std::string text;
    EncodeValue(json, "application/json", &text);
    o.Raw("value", text);
    Line(out_, o.Done());
  }
  bool Cleared(uint64_t deleted) override {
    Line(out_, JsonObject().Uint("deleted", deleted).Done());
    return true;
  }
  bool Imported(uint64_t imported, uint64_t skipped) override {
    Line(out_, JsonObject().Uint("imported", imported).Uint("skipped", skipped).Done());
    return true;
  }
  void Event(const client::Event& e) override {
    Line(out_, EventJson(e));
    out_.flush();
  }
  void Stats(const std::vector<client::NamespaceStats>& stats) override {
    for (const auto& s : stats) {
      JsonObject o;
      o.Str("tenant", s.tenant)
          .Str("namespace", s.ns)
          .Str("app", s.app)
          .Uint("keys", s.keys)
          .Uint("bytes", s.bytes);
      if (s.quota_bytes) {
        o.Uint("quota_bytes", s.quota_bytes);
      } else {
        o.Null("quota_bytes");
      }
      Line(out_, o.Done());
    }
  }
  void TokenCreated(const client::TokenInfo& t) override {
    Line(out_, JsonObject()
                   .Str("id", t.id)
                   .Str("tenant", t.tenant)
                   .Int("created_ms", t.created_ms)
                   .Str("token", t.token)
                   .Done());
  }
  void Tokens(const std::vector<client::TokenInfo>& tokens) override {
    for (const auto& t : tokens) {
      Line(out_,
           JsonObject().Str("id", t.id).Str("tenant", t.tenant).Int("created_ms", t.created_ms).Done());
    }
  }
  void TokenRevoked(std::string_view id) override {
    Line(out_, JsonObject().Str("id", id).Bool("revoked", true).Done());
  }
  void WebhookAdded(const client::WebhookInfo& w) override { Webhooks({w}, true); }
  void Webhooks(const std::vector<client::WebhookInfo>& webhooks, bool) override {
    for (const auto& w : webhooks) {
      JsonObject delivery;
      delivery.Uint("cursor", w.cursor)
          .Uint("lag", w.lag)
          .Uint("delivered", w.delivered)
          .Uint("failed", w.failed)
          .Uint("attempts", w.attempts);
      if (w.last_status > 0) {
        delivery.Int("last_status", w.last_status);
      } else {
        delivery.Null("last_status");
      }
      if (w.last_error.empty()) {
        delivery.Null("last_error");
      } else {
        delivery.Str("last_error", w.last_error);
      }
      delivery.MsOrNull("last_attempt_ms", w.last_attempt_ms, true)
          .MsOrNull("last_success_ms", w.last_success_ms, true);
      Line(out_, JsonObject()
                     .Str("id", w.id)
                     .Str("key", w.key)
                     .Str("event", w.event)
                     .Str("endpoint", w.endpoint)
                     .Str("method", w.method)
                     .Raw("headers", w.headers_json)
                     .Raw("payload", w.payload_json)
                     .Bool("add_event_data", w.add_event_data)
                     .Int("created_at", w.created_at)
                     .Raw("delivery", delivery.Done())
                     .Done());
    }
  }
  void WebhookRemoved(std::string_view id) override {
    Line(out_, JsonObject().Str("id", id).Bool("removed", true).Done());
  }
  void Profiles(const std::vector<ProfileRow>& rows) override {
    for (const auto& r : rows) {
      const Profile& p = r.profile;
      Line(out_, JsonObject()
                     .Str("name", p.name)
                     .Str("url", p.url)
                     .Str("namespace", p.ns.empty() ? "default" : p.ns)
                     .Str("app", p.app.empty() ? "default" : p.app)
                     .Bool("has_token", !p.token.empty())
                     .Bool("current", r.current)
                     .Done());
    }
  }
  void Daemon(const DaemonInfo& d) override {
    JsonObject o;
    o.Bool("running", d.running).Str("socket", d.socket);
    if (d.pid > 0) {
      o.Int("pid", d.pid);
    } else {
      o.Null("pid");
    }
    if (d.log_file.empty()) {
      o.Null("log_file");
    } else {
      o.Str("log_file", d.log_file);
    }
    Line(out_, o.Done());
  }
  void Version(std::string_view version) override {
    Line(out_, JsonObject().Str("version", version).Done());
  }

 private:
  std::ostream& out_;
};

}  // namespace

std::unique_ptr<Printer> MakePrinter(OutputMode mode, std::ostream& out, bool color) {
  switch (mode) {
    case OutputMode::kJson: return std::make_unique<JsonPrinter>(out);
    case OutputMode::kTable: return std::make_unique<TablePrinter>(out, color);
    case OutputMode::kRaw: break;
  }
  return std::make_unique<RawPrinter>(out);
}

}  // namespace kv::cli
