// Dispatcher: delivers the event log to webhooks (DESIGN.md, "The event log,
// watch and webhooks").
//
// Each webhook has a worker thread of its own, so a receiver that hangs,
// fails or answers slowly delays nobody but itself, and writes never wait
// for any of them (they only append to the event log). A worker reads the
// log from the webhook's durable cursor, in revision order, and for each
// event the webhook matches sends one request and waits for the answer:
//   - 2xx: delivered; the cursor moves past the event (saved in the store);
//   - no answer (connection refused or reset, timeout), 5xx, 408 or 429:
//     retried after a backoff that doubles from retry_min_ms to retry_max_ms,
//     for as long as it takes; later events wait behind it (order);
//   - any other status: given up on (counted as failed), the cursor moves on.
// A crash between an answer and the saved cursor sends that event again:
// delivery is at least once. Events the webhook does not match move the
// cursor too, saved at most once a second. Attempts, the last status and
// error are saved with the cursor, so `kv webhook ls` can show them.
//
// The store tells the dispatcher when webhooks are added, changed or
// deleted (Store::SetWebhooksListener), and it checks every poll_ms as well:
// new ones get a worker, changed ones are picked up by theirs at the next
// attempt, deleted ones lose their worker. An idle kvd does not poll.
//
// Thread-safety: Start and Stop from one thread. Ownership: the store must
// outlive the Dispatcher.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/store/store.h"
#include "daemon/webhooks/http_delivery.h"

namespace kv::daemon::webhooks {

struct DispatcherOptions {
  DeliveryOptions delivery;
  // Backoff between attempts at one event. Default: 1 s doubling up to 5 min.
  int64_t retry_min_ms = 1000;
  int64_t retry_max_ms = 5 * 60 * 1000;
  // How often the store is checked for new, changed and deleted webhooks
  // besides its notices. Default: 60 s.
  int64_t poll_ms = 60'000;
};

class Dispatcher {
 public:
  Dispatcher(store::Store& store, DispatcherOptions options);
  // Stops.
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start();
  // Stops every worker, abandoning requests in flight (they are sent again
  // after a restart). Idempotent.
  void Stop();

 private:
  struct Worker;

  void WatchLoop();
  // Starts workers for new webhooks, stops those of deleted ones.
  void Reconcile();
  void RunWorker(Worker& w);
  // Delivers one event until it is answered for good; false when stopped
  // or the webhook is gone.
  bool Deliver(Worker& w, const store::Event& event, store::WebhookProgress* progress);
  // Waits up to ms, or until the worker is stopped; false once stopped.
  bool Sleep(Worker& w, int64_t ms);

  store::Store& store_;
  const DispatcherOptions options_;
  HttpDelivery http_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool changed_ = false;  // the store said webhooks changed since the last Reconcile
  std::thread watcher_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;  // store ns '\0' id -> worker
};

}  // namespace kv::daemon::webhooks
