// The only translation unit that sees libcurl's types: CURLcode and the
// transport's failures become kv::Status here (STYLE.md, item 5).
#include "client/remote/curl_http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <cstring>
#include <mutex>
#include <thread>

#include "common/units.h"

namespace kv::client {
namespace {

using Clock = std::chrono::steady_clock;

std::once_flag g_curl_once;
CURLcode g_curl_init = CURLE_OK;

bool IdempotentMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

// "host:port" of a base URL, with the scheme's default port when none is given.
std::string HostPort(const std::string& url) {
  size_t start = url.find("://");
  std::string scheme = start == std::string::npos ? "http" : url.substr(0, start);
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
  bool has_port = host.starts_with('[') ? host.find("]:") != std::string::npos
                                        : host.find(':') != std::string::npos;
  if (!has_port) host += scheme == "https" ? ":443" : ":80";
  return host;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// What one request's callbacks share.
struct Transfer {
  HttpReply reply;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  const std::function<bool()>* interrupted = nullptr;
  bool headers_done = false;  // the final (non-1xx) response's headers are in
  bool stopped = false;       // on_data returned false
  bool was_interrupted = false;
  bool header_timeout = false;
  Clock::time_point header_deadline{};  // Stream: the headers must arrive by then
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * count;
  std::string_view line = Trim(std::string_view(data, len));
  if (line.starts_with("HTTP/")) {  // a new response: after 100 Continue, the real one
    t->reply.headers.clear();
    t->reply.status = 0;
    t->headers_done = false;
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos) {
      std::string_view code = line.substr(sp + 1, 3);
      std::from_chars(code.data(), code.data() + code.size(), t->reply.status);
    }
    return len;
  }
  if (line.empty()) {
    t->headers_done = t->reply.status >= 200;
    return len;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    try {
      t->reply.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                    std::string(Trim(line.substr(colon + 1))));
    } catch (...) {
      return 0;  // out of memory: abort the transfer
    }
  }
  return len;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * count;
  try {
    if (t->on_data != nullptr && t->reply.status / 100 == 2) {
      if (!(*t->on_data)(std::string_view(data, len))) {
        t->stopped = true;
        return len == 0 ? 1 : 0;  // any other count than len ends the transfer
      }
      return len;
    }
    t->reply.body.append(data, len);
  } catch (...) {
    return len == 0 ? 1 : 0;
  }
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
  auto* t = static_cast<Transfer*>(user);
  try {
    if (t->interrupted != nullptr && *t->interrupted && (*t->interrupted)()) {
      t->was_interrupted = true;
      return 1;
    }
  } catch (...) {
    return 1;
  }
  if (t->header_deadline != Clock::time_point{} && !t->headers_done &&
      Clock::now() >= t->header_deadline) {
    t->header_timeout = true;
    return 1;
  }
  return 0;
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

struct CurlHttpClient::Impl {
  CurlOptions options;
  std::string host;  // "host:port", for messages
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle{nullptr, &curl_easy_cleanup};
  char error[CURL_ERROR_SIZE] = {};
};

Result<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(CurlOptions options) {
  std::call_once(g_curl_once, [] { g_curl_init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (g_curl_init != CURLE_OK) {
    return Status::Unavailable(std::string("libcurl failed to start: ") +
                               curl_easy_strerror(g_curl_init));
  }
  auto impl = std::make_unique<Impl>();
  impl->handle.reset(curl_easy_init());
  if (!impl->handle) return Status::Unavailable("libcurl cannot make a handle");
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  impl->host = HostPort(options.base_url);
  if (options.timeout_ms > 0 && options.connect_timeout_ms > options.timeout_ms) {
    options.connect_timeout_ms = options.timeout_ms;
  }
  impl->options = std::move(options);
  return std::unique_ptr<CurlHttpClient>(new CurlHttpClient(std::move(impl)));
}

CurlHttpClient::CurlHttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CurlHttpClient::~CurlHttpClient() = default;

std::string CurlHttpClient::Describe() const { return impl_->host; }

Result<HttpReply> CurlHttpClient::Send(const HttpCall& call) {
  return Perform(call, IdempotentMethod(call.method), nullptr);
}

Result<HttpReply> CurlHttpClient::Send(const HttpCall& call, bool idempotent) {
  return Perform(call, idempotent, nullptr);
}

Result<HttpReply> CurlHttpClient::Stream(const HttpCall& call,
                                         const std::function<bool(std::string_view)>& on_data) {
  return Perform(call, false, &on_data);
}

Result<HttpReply> CurlHttpClient::Perform(const HttpCall& call, bool idempotent,
                                          const std::function<bool(std::string_view)>* on_data) {
  const CurlOptions& o = impl_->options;
  const std::string& host = impl_->host;
  CURL* h = impl_->handle.get();
  const std::string url = o.base_url + call.target;

  std::unique_ptr<curl_slist, SlistFree> headers;
  bool has_content_type = false;
  for (const auto& [name, value] : call.headers) {
    std::string line = name + ": " + value;
    if (value.empty()) line = name + ";";  // curl's way to send an empty header
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return Status::Internal("out of memory building a request");
    headers.release();
    headers.reset(next);
    if (strcasecmp(name.c_str(), "Content-Type") == 0) has_content_type = true;
  }
  const bool with_body = !call.body.empty() || call.method == "POST" || call.method == "PUT" ||
                         call.method == "PATCH";
  if (with_body && !has_content_type) {  // not curl's application/x-www-form-urlencoded
    curl_slist* next = curl_slist_append(headers.get(), "Content-Type:");
    if (next == nullptr) return Status::Internal("out of memory building a request");
    headers.release();
    headers.reset(next);
  }

  for (int attempt = 0;; ++attempt) {
    last_failure_before_send_ = false;
    curl_easy_reset(h);  // keeps the connection, TLS sessions and DNS cache
    Transfer t;
    t.on_data = on_data;
    t.interrupted = o.interrupted ? &o.interrupted : nullptr;
    if (on_data != nullptr && o.timeout_ms > 0) {
      t.header_deadline = Clock::now() + std::chrono::milliseconds(o.timeout_ms);
    }
    impl_->error[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    // The path is built by the backend and names a key: "/get/.." must not
    // become "/" (curl squashes dot segments unless told not to).
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, impl_->error);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kv");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max<int64_t>(o.connect_timeout_ms, 1)));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     on_data != nullptr || call.no_timeout
                         ? 0L
                         : static_cast<long>(std::max<int64_t>(o.timeout_ms, 0)));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    if (!o.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
    if (!o.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, o.cert_file.c_str());
    if (!o.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, o.key_file.c_str());
    if (call.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (!with_body) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      if (call.method != "GET") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
      if (call.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

    const CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) return std::move(t.reply);
    if (t.stopped) return std::move(t.reply);  // the caller ended the stream
    if (t.was_interrupted) return Status::Unavailable("interrupted");
    if (t.header_timeout) {
      return Status::Timeout(host + " did not answer within " + FormatDurationMs(o.timeout_ms));
    }
    const bool streaming = on_data != nullptr && t.headers_done && t.reply.status / 100 == 2;
    if (streaming && (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
                      rc == CURLE_GOT_NOTHING)) {
      return std::move(t.reply);  // the server ended the stream
    }

    long os_errno = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    curl_off_t pretransfer_us = 0;
    curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
    const std::string detail =
        os_errno != 0 ? std::string(std::strerror(static_cast<int>(os_errno)))
                      : std::string(impl_->error[0] != '\0' ? impl_->error : curl_easy_strerror(rc));

    Status status;
    bool before_send = false;
    switch (rc) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        before_send = true;
        status = Status::Unavailable("cannot resolve " + host + ": " +
                                     (impl_->error[0] ? impl_->error : curl_easy_strerror(rc)));
        break;
      case CURLE_COULDNT_CONNECT:
        before_send = true;
        status = Status::Unavailable("cannot connect to " + host + ": " + detail);
        break;
      case CURLE_SSL_CONNECT_ERROR:
        before_send = true;
        status = Status::Unavailable("TLS handshake with " + host + " failed: " +
                                     (impl_->error[0] ? impl_->error : curl_easy_strerror(rc)));
        break;
      case CURLE_PEER_FAILED_VERIFICATION:
        before_send = true;
        status = Status::Unavailable("cannot verify the certificate of " + host + ": " +
                                     (impl_->error[0] ? impl_->error : curl_easy_strerror(rc)));
        break;
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_CRL_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
        return Status::InvalidArgument("TLS files for " + host + " are not usable: " +
                                       (impl_->error[0] ? impl_->error : curl_easy_strerror(rc)));
      case CURLE_OPERATION_TIMEDOUT:
        before_send = pretransfer_us == 0;
        status = before_send ? Status::Timeout("cannot connect to " + host + " within " +
                                               FormatDurationMs(o.connect_timeout_ms))
                             : Status::Timeout(host + " did not answer within " +
                                               FormatDurationMs(o.timeout_ms));
        break;
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:
        status = Status::Unavailable("connection to " + host + " broke: " + detail);
        break;
      case CURLE_UNSUPPORTED_PROTOCOL:
        return Status::Unsupported("this libcurl cannot speak the protocol of " + url);
      case CURLE_URL_MALFORMAT:
        return Status::InvalidArgument("bad URL " + url);
      case CURLE_OUT_OF_MEMORY:
        return Status::Internal("out of memory talking to " + host);
      default:
        status = Status::Unavailable(host + ": " +
                                     (impl_->error[0] ? impl_->error : curl_easy_strerror(rc)));
        break;
    }
    last_failure_before_send_ = before_send;
    // A stream that started is not sent again: the caller resumes it.
    const bool may_retry = before_send || (idempotent && on_data == nullptr);
    if (attempt >= o.retries || !may_retry || status.code() == Status::Code::kTimeout) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    if (o.interrupted && o.interrupted()) return Status::Unavailable("interrupted");
  }
}

}  // namespace kv::client
