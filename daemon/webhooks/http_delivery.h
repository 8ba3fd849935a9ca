// HttpDelivery: sends one webhook request with libcurl and reports what came
// back. The dispatcher's only view of HTTP; it knows nothing of webhooks.
//
// Requests to kvd's own TCP listeners are refused before anything is sent
// (a webhook pointing at kvd would write, fire, write... forever), unless
// the address the name resolved to is on the allow list.
//
// Thread-safety: Send() may be called from many threads at once; each call
// uses its own curl handle.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kv::daemon::webhooks {

struct DeliveryOptions {
  // Time allowed for one request, connection included. Default: 10 s
  // (simple-golang-kv's client timeout).
  int64_t timeout_ms = 10000;
  // kvd's own TCP listeners, "IP:PORT" (an IP of 0.0.0.0 or :: means every
  // address of this machine on that port).
  std::vector<std::string> own_listeners;
  // "IP:PORT" addresses a webhook may reach even when they are kvd's own.
  std::vector<std::string> allow;
};

struct DeliveryRequest {
  std::string method;  // sent upper-cased
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct DeliveryResult {
  int status = 0;     // the receiver's HTTP status; 0 when there was no answer
  std::string error;  // why there was no answer (connection refused, timeout, refused loop...)
  bool refused = false;  // kvd refused to send it (its own listener): retrying will not help
};

class HttpDelivery {
 public:
  explicit HttpDelivery(DeliveryOptions options);
  ~HttpDelivery();
  HttpDelivery(const HttpDelivery&) = delete;
  HttpDelivery& operator=(const HttpDelivery&) = delete;

  // Sends the request and reads the answer (its body is discarded). Gives up
  // early, with an error, once *cancel becomes true.
  DeliveryResult Send(const DeliveryRequest& request, const std::atomic<bool>& cancel) const;

  // Whether a connection to ip:port would reach kvd itself (and is not allowed).
  bool IsOwnListener(const std::string& ip, int port) const;

 private:
  DeliveryOptions options_;
};

}  // namespace kv::daemon::webhooks
