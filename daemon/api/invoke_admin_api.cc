#include "daemon/api/invoke_admin_api.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/json_flat.h"
#include "common/key.h"
#include "daemon/api/invoke_store.h"

namespace kv::daemon {
namespace {

using json = nlohmann::ordered_json;

// Export reads at most this many pages of store::kMaxListLimit keys.
constexpr size_t kMaxExportPages = 10000;

// "2026-01-01T00:00:00.000Z", as JavaScript's Date.toISOString().
std::string IsoTimestamp(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm t;
  gmtime_r(&secs, &t);
  char out[64];  // room for any year gmtime_r may give
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(ms % 1000));
  return out;
}

// Invoke's createResponse(success, data, message, statusCode).
HttpResponse Envelope(int status, json data, std::string_view message, int64_t now_ms) {
  json body = {{"success", status < 400},
               {"data", std::move(data)},
               {"message", std::string(message)},
               {"statusCode", status},
               {"timestamp", IsoTimestamp(now_ms)}};
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json; charset=utf-8");
  r.body = DumpInvokeJson(body);
  return r;
}

// "12.34" (MB of 2^20 bytes, two decimals, as toFixed(2)).
std::string Megabytes(uint64_t bytes) {
  char out[32];
  std::snprintf(out, sizeof out, "%.2f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return out;
}

}  // namespace

InvokeAdminApi::InvokeAdminApi(store::Store& store) : store_(store) {}

HttpResponse InvokeAdminApi::Handle(const HttpRequest& request, std::string_view rest,
                                    const Caller& caller) {
  // rest = "/{project}/kv-export" or "/{project}/kv-import"
  const int64_t now = store_.NowMs();
  const auto [project, action] = SplitProjectPath(rest);
  auto answer = [](HttpResponse r, std::string route) {
    r.route = "/{project}" + route;
    return r;
  };
  const bool is_export = action == "/kv-export";
  if (project.empty() || (!is_export && action != "/kv-import")) {
    return answer(Envelope(404, nullptr, "Not found", now), "/*");
  }
  const std::string route(action);
  if (request.method != (is_export ? "GET" : "POST")) {
    HttpResponse r = Envelope(405, nullptr, "Method not allowed", now);
    r.headers.Set("Allow", is_export ? "GET" : "POST");
    return answer(std::move(r), route);
  }
  if (project == "system") {
    return answer(Envelope(403, nullptr, "KV store not available for system project", now), route);
  }
  Result<NamespaceRef> ns = InvokeProjectNamespace(caller.tenant, project);
  if (!ns.ok()) return answer(Envelope(400, nullptr, ns.status().message(), now), route);
  return answer(is_export ? Export(*ns, project) : Import(request, *ns), route);
}

HttpResponse InvokeAdminApi::Export(const NamespaceRef& ns, std::string_view project) {
  const int64_t now = store_.NowMs();
  json data = json::object();
  store::ListOptions list;
  list.values = true;
  list.limit = store::kMaxListLimit;
  for (size_t pages = 0;; ++pages) {
    if (pages == kMaxExportPages) {
      return Envelope(507, nullptr, "Too many keys to export in one answer; use kv export", now);
    }
    Result<store::ListPage> page = store_.List(ns.StoreName(), list);
    if (!page.ok()) return Envelope(500, nullptr, "Failed to export KV store", now);
    for (const store::Entry& entry : page->entries) data[entry.key] = DecodeInvokeValue(entry);
    if (page->next_cursor.empty()) break;
    list.cursor = std::move(page->next_cursor);
  }
  HttpResponse r;
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Content-Disposition", "attachment; filename=\"kv-export-" + std::string(project) +
                                           "-" + std::to_string(now) + ".json\"");
  r.body = DumpInvokeJson(data, 2);
  return r;
}

HttpResponse InvokeAdminApi::Import(const HttpRequest& request, const NamespaceRef& ns) {
  const int64_t now = store_.NowMs();
  if (kv::json::NestsDeeperThan(request.body, kv::json::kMaxTreeDepth)) {
    return Envelope(400, nullptr, kv::json::TooDeep("The body"), now);
  }
  json body = kv::json::ParseTree<json>(request.body);
  if (body.is_discarded()) return Envelope(400, nullptr, "Invalid JSON body", now);
  if (!body.is_object()) body = json::object();
  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) {
    return Envelope(400, nullptr, "Data must be a JSON object with key-value pairs", now);
  }
  std::string strategy = "merge";
  if (auto s = body.find("strategy"); s != body.end()) {
    strategy = s->is_string() ? s->get<std::string>() : "";
  }
  if (strategy != "merge" && strategy != "replace") {
    return Envelope(400, nullptr, R"(Strategy must be either "merge" or "replace")", now);
  }
  const bool replace = strategy == "replace";

  // Every check first: a refused import writes nothing.
  Result<store::Usage> usage = store_.Stats(ns.StoreName());
  if (!usage.ok()) return Envelope(500, nullptr, "Failed to import KV store", now);
  uint64_t projected = replace ? 0 : usage->bytes;
  uint64_t imported = 0, updated = 0;
  std::vector<store::BatchPut> puts;
  puts.reserve(data->size());
  for (const auto& [key, value] : data->items()) {
    if (Status s = ValidateKey(key, store_.options().max_key_bytes); !s.ok()) {
      return Envelope(400, nullptr, "Key '" + key + "': " + s.message(), now);
    }
    InvokeStoredValue stored = EncodeInvokeValue(value);
    if (stored.bytes.size() > store_.options().max_value_bytes) {
      return Envelope(413, nullptr,
                      "The value of '" + key + "' is " + std::to_string(stored.bytes.size()) +
                          " bytes, over the limit of " +
                          std::to_string(store_.options().max_value_bytes),
                      now);
    }
    Result<store::Entry> existing = store_.Head(ns.StoreName(), key);
    if (existing.ok() && !replace) {
      ++updated;
      projected -= std::min<uint64_t>(projected, key.size() + existing->value_size);
    } else {
      ++imported;
    }
    projected += key.size() + stored.bytes.size();
    store::BatchPut put;
    put.key = key;
    put.value = std::move(stored.bytes);
    put.options.content_type = std::move(stored.content_type);
    puts.push_back(std::move(put));
  }
  if (projected > usage->quota_bytes) {
    return Envelope(413, nullptr,
                    "Import would exceed storage quota. Projected usage: " + Megabytes(projected) +
                        "MB, Limit: " + Megabytes(usage->quota_bytes) + "MB",
                    now);
  }

  if (replace) {
    if (Result<uint64_t> cleared = store_.Clear(ns.StoreName()); !cleared.ok()) {
      return Envelope(500, nullptr, "Failed to import KV store", now);
    }
  }
  for (size_t begin = 0; begin < puts.size(); begin += store::kMaxBatchItems) {
    size_t end = std::min(puts.size(), begin + store::kMaxBatchItems);
    std::vector<store::BatchPut> batch(std::make_move_iterator(puts.begin() + begin),
                                       std::make_move_iterator(puts.begin() + end));
    Result<std::vector<Status>> written = store_.PutMany(ns.StoreName(), batch);
    Status failed = written.ok() ? Status::Ok() : written.status();
    for (size_t i = 0; failed.ok() && written.ok() && i < written->size(); ++i) {
      failed = (*written)[i];
    }
    if (!failed.ok()) {
      return Envelope(
          failed.IsQuotaExceeded() ? 413 : 500, nullptr,
          "Import stopped after " + std::to_string(begin) + " keys: " + failed.message(), now);
    }
  }
  json result = {{"imported", imported},
                 {"updated", updated},
                 {"total", imported + updated},
                 {"strategy", strategy}};
  return Envelope(200, std::move(result), "Import completed successfully", now);
}

}  // namespace kv::daemon
