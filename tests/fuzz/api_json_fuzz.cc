// fuzz_json: the JSON (and NDJSON) bodies of every API, handed straight to
// the router (no sockets; fuzz_http covers the bytes before). The input's
// first byte picks the route below ('a' the first, 'b' the second, ...; any
// other byte counts modulo their number); the rest is the body. Values the
// routes read back (listings with values=1 and where=, the watch replay, the
// Invoke export) are fuzzed too: route 'o' stores the body as a JSON value
// and lists it, 'p' filters listings with the body as the where= clause.
//
// Oracles: the sanitizers and CheckedHandle (fuzz_kvd.h): no exception, no
// 500, and a refused body changes nothing.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_kvd.h"

namespace {

using kv::daemon::HttpRequest;
using kv::daemon::HttpResponse;
using kv::fuzz::Fail;
using Headers = std::vector<std::pair<std::string, std::string>>;

kv::fuzz::FuzzKvd& Kvd() {
  static kv::fuzz::FuzzKvd* kvd = new kv::fuzz::FuzzKvd(/*with_server=*/false);
  return *kvd;
}

HttpRequest Request(std::string method, const std::string& target, std::string body,
                    const Headers& headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = target;
  if (!kv::daemon::ParseTarget(target, &r)) Fail("bad target " + target);
  for (const auto& [name, value] : headers) r.headers.Add(name, value);
  r.body = std::move(body);
  r.transport = kv::daemon::Transport::kUnixSocket;
  r.remote = "unix";
  return r;
}

// Runs a streaming answer until it has written what it had (its writer is
// closed from the start, so a follow stream returns after the replay).
void Drain(HttpResponse& response) {
  struct Writer : kv::daemon::StreamWriter {
    std::string data;
    bool Write(std::string_view chunk) override {
      data.append(chunk);
      return true;
    }
    bool Closed() const override { return true; }
  } writer;
  if (response.stream) response.stream(writer);
}

HttpResponse Call(std::string method, const std::string& target, std::string body = "",
                  const Headers& headers = {}) {
  HttpRequest r = Request(std::move(method), target, std::move(body), headers);
  HttpResponse response = kv::fuzz::CheckedHandle(*Kvd().router, *Kvd().store, r);
  Drain(response);
  return response;
}

// A field of a JSON answer, or "".
std::string Field(const HttpResponse& r, const char* name) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains(name) || !j[name].is_string()) return "";
  return j[name].get<std::string>();
}

const Headers kJson = {{"Content-Type", "application/json"}};

// One webhook in each dialect that updates are aimed at (made on first use).
const std::string& WebhookId(bool native) {
  static std::string ids[2];
  std::string& id = ids[native ? 1 : 0];
  if (id.empty()) {
    HttpResponse r = Call("POST", native ? "/v1/webhooks" : "/webhooks",
                          R"({"key":"w*","event":"create","endpoint":"http://127.0.0.1:9/hook"})",
                          kJson);
    id = Field(r, "id");
    if (id.empty()) Fail("cannot make a webhook: " + r.body);
  }
  return id;
}

void Route(uint8_t selector, const std::string& body) {
  constexpr int kRoutes = 16;
  int route = selector >= 'a' && selector < 'a' + kRoutes ? selector - 'a' : selector % kRoutes;
  switch (route) {
    case 0:  // native batch (NDJSON)
      Call("POST", "/v1/batch?ns=batch", body, {{"Content-Type", "application/x-ndjson"}});
      break;
    case 1:  // native JSON merge patch, on a fresh document each time
      Call("PUT", "/v1/kv/doc", R"({"a":{"b":[1,2],"c":null},"d":"x","e":{}})", kJson);
      Call("PATCH", "/v1/kv/doc", body, {{"Content-Type", "application/merge-patch+json"}});
      break;
    case 2:  // native incr: N or {"by":N}
      Call("POST", "/v1/kv/counter/incr", body);
      break;
    case 3:  // native expire: {"ttl_ms":N} or {"ttl":"30s"}
      Call("PUT", "/v1/kv/expiring", "v");
      Call("POST", "/v1/kv/expiring/expire", body, kJson);
      break;
    case 4: {  // token administration: {"tenant":"acme"}; a made token is revoked again
      HttpResponse r = Call("POST", "/v1/admin/tokens", body, kJson);
      if (r.status == 201) Call("DELETE", "/v1/admin/tokens/" + Field(r, "id"));
      break;
    }
    case 5:  // Invoke admin import: {"data":{...},"strategy":"merge"|"replace"}
      Call("POST", "/api/projects/imported/kv-import", body, kJson);
      Call("GET", "/api/projects/imported/kv-export");
      break;
    case 6:  // Invoke set: {"key":K,"value":V,"ttl":MS}, then read back
      Call("POST", "/invoke/proj/set", body, kJson);
      Call("GET", "/invoke/proj/get/k");
      break;
    case 7:  // simple-golang-kv POST /kv
      Call("POST", "/kv", body, kJson);
      break;
    case 8:  // simple-golang-kv PUT /kv/{key}, then its listing
      Call("PUT", "/kv/sg", body, kJson);
      Call("GET", "/kv/s*");
      break;
    case 9: {  // simple-golang-kv webhook registration; a made one is removed again
      HttpResponse r = Call("POST", "/webhooks", body, kJson);
      if (r.status == 201) Call("DELETE", "/webhooks/" + Field(r, "id"));
      break;
    }
    case 10:  // simple-golang-kv webhook update
      Call("PUT", "/webhooks/" + WebhookId(false), body, kJson);
      break;
    case 11: {  // native webhook registration
      HttpResponse r = Call("POST", "/v1/webhooks", body, kJson);
      if (r.status == 201) Call("DELETE", "/v1/webhooks/" + Field(r, "id"));
      break;
    }
    case 12:  // native webhook update
      Call("PATCH", "/v1/webhooks/" + WebhookId(true), body, kJson);
      Call("GET", "/v1/webhooks?prefix=w");
      break;
    case 13:  // admin panel sign-in: {"code":"kvl_..."}
      Call("POST", "/ui/api/session", body, kJson);
      break;
    case 14: {  // a stored JSON value, as listings, the watch replay and Invoke show it
      uint64_t before = Kvd().store->CommittedRevision();
      Call("PUT", "/v1/kv/json?ns=values", body, kJson);
      Call("GET", "/v1/keys?ns=values&values=1");
      Call("GET", "/v1/watch?ns=values&follow=0&since=" + std::to_string(before));
      Call("GET", "/v1/keys?ns=values&values=1&where=a.b.0=1");
      break;
    }
    case 15: {  // a where= clause over the values stored by route 14
      HttpRequest r = Request("GET", "/v1/keys?ns=values&values=1", "");
      r.query.emplace_back("where", body);
      HttpResponse response = kv::fuzz::CheckedHandle(*Kvd().router, *Kvd().store, r);
      Drain(response);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  Route(data[0], std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
