// The only translation unit of kvd that sees libcurl.
#include "daemon/webhooks/http_delivery.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace kv::daemon::webhooks {
namespace {

std::once_flag g_curl_once;

struct Transfer {
  const HttpDelivery* delivery = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  bool own_listener = false;
  std::string refused_address;
};

size_t DiscardBody(char*, size_t size, size_t count, void*) noexcept { return size * count; }

// Called once connected, before the request is sent: the last point at which
// a request to kvd itself can be stopped, whatever name led there.
int OnConnected(void* user, char* ip, char* /*local_ip*/, int port, int /*local_port*/) noexcept {
  auto* t = static_cast<Transfer*>(user);
  if (t->delivery->IsOwnListener(ip, port)) {
    t->own_listener = true;
    t->refused_address = std::string(ip) + ":" + std::to_string(port);
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
  auto* t = static_cast<Transfer*>(user);
  return t->cancel->load() ? 1 : 0;
}

// "1.2.3.4:80" / "[::1]:80" / "::1:80" -> ip, port.
bool SplitAddress(const std::string& address, std::string* ip, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  *ip = address.substr(0, colon);
  if (ip->size() >= 2 && ip->front() == '[' && ip->back() == ']') {
    *ip = ip->substr(1, ip->size() - 2);
  }
  try {
    *port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return false;
  }
  return true;
}

bool IsLoopback(const std::string& ip) {
  return ip == "::1" || ip.rfind("127.", 0) == 0 || ip.rfind("::ffff:127.", 0) == 0;
}

// Whether ip is an address of one of this machine's interfaces.
bool IsLocalAddress(const std::string& ip) {
  if (IsLoopback(ip)) return true;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {0};
    if (a->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                  sizeof text);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text,
                  sizeof text);
    }
    found = ip == text;
  }
  ::freeifaddrs(list);
  return found;
}

}  // namespace

HttpDelivery::HttpDelivery(DeliveryOptions options) : options_(std::move(options)) {
  std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpDelivery::~HttpDelivery() = default;

bool HttpDelivery::IsOwnListener(const std::string& ip, int port) const {
  for (const std::string& allowed : options_.allow) {
    std::string aip;
    int aport = 0;
    if (SplitAddress(allowed, &aip, &aport) && aport == port && aip == ip) return false;
  }
  for (const std::string& own : options_.own_listeners) {
    std::string oip;
    int oport = 0;
    if (!SplitAddress(own, &oip, &oport) || oport != port) continue;
    if (oip == ip) return true;
    if ((oip == "0.0.0.0" || oip == "::") && IsLocalAddress(ip)) return true;
    if (IsLoopback(oip) && IsLoopback(ip)) return true;
  }
  return false;
}

DeliveryResult HttpDelivery::Send(const DeliveryRequest& request,
                                  const std::atomic<bool>& cancel) const {
  DeliveryResult result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    result.error = "cannot start an HTTP request (curl_easy_init failed)";
    return result;
  }
  CURL* h = curl.get();
  Transfer transfer{this, &cancel, false, {}};
  std::string method = request.method;
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  // curl would add these on its own; the receiver gets only what was asked.
  headers = curl_slist_append(headers, "Accept:");
  headers = curl_slist_append(headers, "Expect:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          curl_slist_free_all);
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, OnConnected);
  curl_easy_setopt(h, CURLOPT_PREREQDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (method != "GET" || !request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  CURLcode rc = curl_easy_perform(h);
  if (transfer.own_listener) {
    result.refused = true;
    result.error = "refused: " + transfer.refused_address +
                   " is kvd's own listener (see --webhook-allow)";
    return result;
  }
  if (rc != CURLE_OK) {
    result.error = error[0] != '\0' ? error : curl_easy_strerror(rc);
    return result;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  result.status = static_cast<int>(status);
  return result;
}

}  // namespace kv::daemon::webhooks
