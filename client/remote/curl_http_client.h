// CurlHttpClient: an HttpClient over libcurl, for the remote backends
// (keyvalue.dev, etcd's v3 JSON gateway, Invoke, a kvd behind HTTPS). It
// lives in libkv_remote.so only: kv's own path to a kvd (FdHttpClient) never
// loads libcurl (DESIGN.md, "Binaries and folders").
//
// One curl easy handle per client, kept across requests so that its
// connection (and TLS session) is reused, as the REPL sends many requests.
// libcurl's CURLcode and the transport's failures become a kv::Status here
// and nowhere else:
//   Unavailable  cannot resolve or connect to the host, TLS handshake or
//                certificate verification failed, the connection broke,
//                interrupted (Ctrl-C in kv's shell)
//   Timeout      no complete answer within timeout_ms (Send), or no
//                response headers within timeout_ms (Stream)
//   InvalidArgument  a CA, certificate or key file curl cannot use
// Every message names the host ("cannot connect to 10.0.0.5:2379: ...").
// HTTP statuses are not errors here: the reply carries them to the backend.
//
// Retries: a request that could not connect is sent again (it cannot have
// reached the server); one whose connection broke afterwards is sent again
// only when idempotent (GET, HEAD, PUT, DELETE, or as the caller says),
// `retries` times at most, with a short backoff.
//
// Ownership: the client owns its curl handle. Thread-safety: one thread at a
// time; different clients may be used from different threads at once
// (curl_global_init runs once per process, under std::call_once).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "client/http_client.h"
#include "common/status.h"

namespace kv::client {

struct CurlOptions {
  // Scheme, host and port, optionally a base path: "https://api.keyvalue.dev",
  // "http://127.0.0.1:2379", "https://host/invoke/fn". Each call's target is
  // appended to it. REQUIRES: http:// or https://.
  std::string base_url;
  // Bounds connecting (TCP and TLS). Default: 5 s, and never more than
  // timeout_ms.
  int64_t connect_timeout_ms = 5'000;
  // Bounds a whole Send (connect, request, the whole reply). For Stream it
  // bounds connecting and the response headers only. Default: 10 s.
  int64_t timeout_ms = 10'000;
  // PEM files. ca_file: the CAs that verify the server (empty: the system's
  // store). cert_file + key_file: a client certificate (empty: none).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // How many more times a failed request may be sent (see above). Default: 2.
  int retries = 2;
  // Polled while a request waits; returning true aborts it with
  // Unavailable("interrupted"). Empty: nothing interrupts.
  std::function<bool()> interrupted;
};

class CurlHttpClient final : public HttpClient {
 public:
  // Unavailable when libcurl cannot make a handle.
  static Result<std::unique_ptr<CurlHttpClient>> Create(CurlOptions options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // Idempotent by method (GET, HEAD, PUT, DELETE).
  Result<HttpReply> Send(const HttpCall& call) override;
  // `idempotent` says whether a request that may have reached the server can
  // be sent again (etcd's POST /v3/kv/range can; a POST /v3/kv/txn cannot).
  Result<HttpReply> Send(const HttpCall& call, bool idempotent);
  // Never retried once connected. No total timeout: a watch may be quiet for
  // hours. Returning false from on_data ends the transfer; that is not an
  // error. The server closing a 2xx stream is not an error either.
  Result<HttpReply> Stream(const HttpCall& call,
                           const std::function<bool(std::string_view)>& on_data) override;
  // "host:port".
  std::string Describe() const override;

  // After a failed Send or Stream: true when the request cannot have reached
  // the server (no connection could be made), so another server may be asked.
  bool last_failure_before_send() const { return last_failure_before_send_; }

 private:
  struct Impl;
  explicit CurlHttpClient(std::unique_ptr<Impl> impl);
  Result<HttpReply> Perform(const HttpCall& call, bool idempotent,
                            const std::function<bool(std::string_view)>* on_data);

  std::unique_ptr<Impl> impl_;
  bool last_failure_before_send_ = false;
};

}  // namespace kv::client
