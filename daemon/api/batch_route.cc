// POST /v1/batch: several puts in one store write (native_api.h documents the
// route). Kept apart from native_api.cc because it decodes a stream of
// items rather than one request's headers.
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "daemon/api/errors.h"
#include "daemon/api/native_api.h"

namespace kv::daemon {
namespace {

using Json = nlohmann::json;

// Decodes one line into a store put; InvalidArgument names what is wrong.
Status DecodeItem(const Json& j, store::BatchPut* item) {
  if (!j.is_object()) return Status::InvalidArgument("not a JSON object");
  auto str = [&](const char* name) -> const std::string* {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const std::string* key = str("key");
  if (key == nullptr) return Status::InvalidArgument("missing \"key\" (a string)");
  if (const std::string* enc = str("key_encoding"); enc && *enc == "base64") {
    auto raw = Base64Decode(*key);
    if (!raw) return Status::InvalidArgument("\"key\" is not base64");
    item->key = std::move(*raw);
  } else {
    item->key = *key;
  }
  const std::string* value = str("value");
  if (value == nullptr) return Status::InvalidArgument("missing \"value\" (a string)");
  const std::string* enc = str("encoding");
  if (enc == nullptr || *enc == "text") {
    item->value = *value;
  } else if (*enc == "base64") {
    auto raw = Base64Decode(*value);
    if (!raw) return Status::InvalidArgument("\"value\" is not base64");
    item->value = std::move(*raw);
  } else {
    return Status::InvalidArgument("\"encoding\" must be text or base64");
  }
  if (const std::string* ct = str("content_type")) item->options.content_type = *ct;
  if (auto it = j.find("ttl_ms"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() <= 0) {
      return Status::InvalidArgument("\"ttl_ms\" must be a positive integer");
    }
    item->options.ttl_ms = it->get<int64_t>();
  }
  int conditions = 0;
  if (j.value("if_absent", false) == true) {
    item->options.condition = store::Condition::IfAbsent();
    ++conditions;
  }
  if (j.value("if_exists", false) == true) {
    item->options.condition = store::Condition::IfExists();
    ++conditions;
  }
  if (const std::string* etag = str("if_match")) {
    uint64_t rev = 0;
    std::string_view e = *etag;
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    if (e.empty() || e.find_first_not_of("0123456789") != std::string_view::npos) {
      return Status::InvalidArgument("\"if_match\" must be an ETag");
    }
    rev = std::stoull(std::string(e));
    item->options.condition = store::Condition::IfMatch(rev);
    ++conditions;
  }
  if (conditions > 1) return Status::InvalidArgument("at most one condition per item");
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
    Status s = DecodeItem(Json::parse(line, nullptr, false), &item);
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
