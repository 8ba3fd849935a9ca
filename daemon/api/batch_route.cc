// POST /v1/batch: several puts in one store write (native_api.h documents the
// route). Kept apart from native_api.cc because it decodes a stream of
// items rather than one request's headers.
#include <charconv>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_flat.h"
#include "daemon/api/errors.h"
#include "daemon/api/native_api.h"

namespace kv::daemon {
namespace {

using Json = nlohmann::json;

// Decodes one line into a store put; InvalidArgument names what is wrong.
// Lines are scanned, not parsed into a tree: an import sends thousands.
Status DecodeItem(std::string_view line, store::BatchPut* item) {
  std::optional<std::string> key, value, key_encoding, encoding, content_type, if_match;
  std::optional<int64_t> ttl_ms;
  bool if_absent = false, if_exists = false;
  Status bad = Status::Ok();
  auto fail = [&](std::string why) {
    if (bad.ok()) bad = Status::InvalidArgument(std::move(why));
  };
  auto string_or_null = [&](const json::Member& m, std::optional<std::string>* out) {
    if (m.kind == json::Kind::kString) {
      out->emplace(m.text);
    } else if (m.kind == json::Kind::kNull) {
      out->reset();
    } else {
      fail("\"" + std::string(m.name) + "\" must be a string");
    }
  };
  auto flag = [&](const json::Member& m, bool* out) {
    if (m.kind == json::Kind::kTrue || m.kind == json::Kind::kFalse) {
      *out = m.kind == json::Kind::kTrue;
    } else if (m.kind != json::Kind::kNull) {
      fail("\"" + std::string(m.name) + "\" must be true or false");
    }
  };
  const std::string error = json::ScanObject(line, [&](const json::Member& m) {
    if (m.name == "key") {
      string_or_null(m, &key);
    } else if (m.name == "value") {
      string_or_null(m, &value);
    } else if (m.name == "key_encoding") {
      string_or_null(m, &key_encoding);
    } else if (m.name == "encoding") {
      string_or_null(m, &encoding);
    } else if (m.name == "content_type") {
      string_or_null(m, &content_type);
    } else if (m.name == "if_match") {
      string_or_null(m, &if_match);
    } else if (m.name == "if_absent") {
      flag(m, &if_absent);
    } else if (m.name == "if_exists") {
      flag(m, &if_exists);
    } else if (m.name == "ttl_ms") {
      int64_t ms = 0;
      if (m.kind == json::Kind::kNull) {
        ttl_ms.reset();
      } else if (json::ParseInt64(m, &ms) && ms > 0) {
        ttl_ms = ms;
      } else {
        fail("\"ttl_ms\" must be a positive integer");
      }
    }
  });
  if (!error.empty()) return Status::InvalidArgument("not a JSON object (" + error + ")");
  if (!bad.ok()) return bad;

  if (!key) return Status::InvalidArgument("missing \"key\" (a string)");
  if (key_encoding == "base64") {
    auto raw = Base64Decode(*key);
    if (!raw) return Status::InvalidArgument("\"key\" is not base64");
    item->key = std::move(*raw);
  } else if (!key_encoding || key_encoding == "text") {
    item->key = std::move(*key);
  } else {
    return Status::InvalidArgument("\"key_encoding\" must be text or base64");
  }
  if (!value) return Status::InvalidArgument("missing \"value\" (a string)");
  if (!encoding || encoding == "text") {
    item->value = std::move(*value);
  } else if (encoding == "base64") {
    auto raw = Base64Decode(*value);
    if (!raw) return Status::InvalidArgument("\"value\" is not base64");
    item->value = std::move(*raw);
  } else {
    return Status::InvalidArgument("\"encoding\" must be text or base64");
  }
  if (content_type) item->options.content_type = std::move(*content_type);
  if (ttl_ms) item->options.ttl_ms = *ttl_ms;
  if (int(if_absent) + int(if_exists) + int(if_match.has_value()) > 1) {
    return Status::InvalidArgument("at most one condition per item");
  }
  if (if_absent) item->options.condition = store::Condition::IfAbsent();
  if (if_exists) item->options.condition = store::Condition::IfExists();
  if (if_match) {
    std::string_view e = *if_match;
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    uint64_t rev = 0;
    auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), rev);
    if (e.empty() || ec != std::errc() || end != e.data() + e.size()) {
      return Status::InvalidArgument("\"if_match\" must be an ETag");
    }
    item->options.condition = store::Condition::IfMatch(rev);
  }
  return Status::Ok();
}

}  // namespace

HttpResponse NativeApi::Batch(const HttpRequest& request, const NamespaceRef& ns) {
  std::vector<store::BatchPut> items;
  std::string_view body = request.body;
  size_t line_no = 0;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (items.size() == store::kMaxBatchItems) {
      return ErrorResponse(400, "BAD_REQUEST",
                           "a batch holds at most " + std::to_string(store::kMaxBatchItems) +
                               " items");
    }
    store::BatchPut item;
    Status s = DecodeItem(line, &item);
    if (!s.ok()) {
      return ErrorResponse(400, "BAD_REQUEST",
                           "line " + std::to_string(line_no) + ": " + s.message());
    }
    items.push_back(std::move(item));
  }
  auto outcome = store_.PutMany(ns.StoreName(), items);
  if (!outcome.ok()) return ErrorFromStatus(outcome.status());
  Json errors = Json::array();
  uint64_t written = 0;
  for (size_t i = 0; i < outcome->size(); ++i) {
    const Status& s = (*outcome)[i];
    if (s.ok()) {
      ++written;
      continue;
    }
    Json e = {{"index", i},
              {"status", HttpStatusFor(s.code())},
              {"code", ErrorCodeFor(s.code())},
              {"error", s.message()},
              {"key", items[i].key}};
    errors.push_back(std::move(e));
  }
  Json answer = {{"written", written}, {"failed", errors.size()}, {"errors", std::move(errors)}};
  HttpResponse r;
  r.status = 200;
  r.headers.Set("Content-Type", "application/json");
  // A key that is not UTF-8 is echoed with U+FFFD where its bad bytes were.
  r.body = answer.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

}  // namespace kv::daemon
