// A libcurl client for end-to-end tests of kvd's HTTP APIs: one kept-alive
// connection over a Unix socket or TCP, requests with headers and bodies, and
// NDJSON streams read line by line.
//
//   Client c = Client::Unix(kvd.socket());          // trusted: tenant "local"
//   Reply r = c.Call("PUT", "/v1/kv/k", "v");
//   Client t = Client::Tcp("http://127.0.0.1:" + port, token);
//
// Thread-safety: one Client per thread; Reply is a plain value.
#pragma once

#include <curl/curl.h>

#include <cctype>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace kv::e2e {

using Json = nlohmann::json;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// What a request got back. Client methods use no Catch2 macros (they run on
// test threads too): a transport failure is status 0 with `error` set.
struct Reply {
  long status = 0;
  std::string error;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  Json JsonBody() const {
    Json j = Json::parse(body, nullptr, false);
    INFO("status " << status << " " << error << " body: " << body);
    REQUIRE(!j.is_discarded());
    return j;
  }
  // The keyvalue.dev error shape; returns its code.
  std::string ErrorCode() const {
    Json j = JsonBody();
    INFO("body: " << body);
    REQUIRE(j.is_object());
    CHECK(j.value("status", 0) == status);
    CHECK(!j.value("error", "").empty());
    return j.value("code", "");
  }
};

inline size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

inline size_t AppendHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*headers)[name] = value;
  } else if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after 100 Continue)
  }
  return size * n;
}

// One connection (kept alive across calls), over the Unix socket or TCP.
class Client {
 public:
  // Unix socket when `unix_socket` is set; `base` is then ignored for routing.
  Client(std::string base, std::string unix_socket, std::string token = "")
      : base_(std::move(base)), unix_socket_(std::move(unix_socket)), token_(std::move(token)) {
    handle_ = curl_easy_init();
  }
  ~Client() { curl_easy_cleanup(handle_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  static Client Unix(std::string socket) { return Client("http://localhost", std::move(socket)); }
  // `base`: "http://127.0.0.1:PORT".
  static Client Tcp(std::string base, std::string token) {
    return Client(std::move(base), "", std::move(token));
  }
  Client(Client&& other) noexcept
      : base_(std::move(other.base_)),
        unix_socket_(std::move(other.unix_socket_)),
        token_(std::move(other.token_)),
        handle_(other.handle_) {
    other.handle_ = nullptr;
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& body = "",
             const HeaderList& headers = {}, bool send_body = false) {
    Reply reply;
    Prepare(method, path, body, headers, send_body);
    curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, AppendHeader);
    curl_easy_setopt(handle_, CURLOPT_HEADERDATA, &reply.headers);
    curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, 30000L);
    CURLcode rc = curl_easy_perform(handle_);
    if (rc != CURLE_OK) reply.error = method + " " + path + ": " + curl_easy_strerror(rc);
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(list_);
    list_ = nullptr;
    return reply;
  }

  // Streams a GET, handing each complete line to `on_line` until it returns
  // false (then the client hangs up) or the server ends the stream.
  Reply Stream(const std::string& path, const std::function<bool(const Json&)>& on_line,
               const HeaderList& headers = {}) {
    struct State {
      std::string pending;
      const std::function<bool(const Json&)>* on_line;
      bool stopped = false;
    } state{"", &on_line};
    Reply reply;
    Prepare("GET", path, "", headers, false);
    curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION,
                     +[](char* data, size_t size, size_t n, void* user) -> size_t {
                       auto* s = static_cast<State*>(user);
                       s->pending.append(data, size * n);
                       size_t nl;
                       while ((nl = s->pending.find('\n')) != std::string::npos) {
                         Json line = Json::parse(s->pending.substr(0, nl), nullptr, false);
                         s->pending.erase(0, nl + 1);
                         if (!(*s->on_line)(line)) {
                           s->stopped = true;
                           return 0;  // hang up
                         }
                       }
                       return size * n;
                     });
    curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, AppendHeader);
    curl_easy_setopt(handle_, CURLOPT_HEADERDATA, &reply.headers);
    curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, 30000L);
    CURLcode rc = curl_easy_perform(handle_);
    if (!state.stopped && rc != CURLE_OK) reply.error = curl_easy_strerror(rc);
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &reply.status);
    reply.body = state.pending;
    curl_slist_free_all(list_);
    list_ = nullptr;
    return reply;
  }

 private:
  void Prepare(const std::string& method, const std::string& path, const std::string& body,
               const HeaderList& headers, bool send_body) {
    curl_easy_reset(handle_);
    curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle_, CURLOPT_URL, (base_ + path).c_str());
    if (!unix_socket_.empty()) {
      curl_easy_setopt(handle_, CURLOPT_UNIX_SOCKET_PATH, unix_socket_.c_str());
    }
    if (method == "HEAD") {
      curl_easy_setopt(handle_, CURLOPT_NOBODY, 1L);
    } else if (method != "GET") {
      curl_easy_setopt(handle_, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (!body.empty() || send_body || method == "PUT" || method == "PATCH" || method == "POST") {
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    bool has_type = false;
    for (const auto& [name, value] : headers) {
      if (name == "Content-Type") has_type = true;
      list_ = curl_slist_append(list_, (name + ": " + value).c_str());
    }
    // libcurl would send application/x-www-form-urlencoded; an empty
    // "Content-Type:" line removes it, as a client without a type does.
    if (!has_type) list_ = curl_slist_append(list_, "Content-Type:");
    list_ = curl_slist_append(list_, "Expect:");
    if (!token_.empty()) list_ = curl_slist_append(list_, ("Authorization: Bearer " + token_).c_str());
    curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, list_);
  }

  std::string base_;
  std::string unix_socket_;
  std::string token_;
  CURL* handle_ = nullptr;
  curl_slist* list_ = nullptr;
};

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};
inline const CurlGlobal kCurlGlobal;

}  // namespace kv::e2e
