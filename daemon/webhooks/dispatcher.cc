#include "daemon/webhooks/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "daemon/log.h"
#include "daemon/webhooks/webhook.h"

namespace kv::daemon::webhooks {
namespace {

constexpr size_t kEventBatch = 256;
// How long a worker with nothing to do waits for a new revision (Stop and
// a deleted webhook wake it sooner): an idle kvd does not poll.
constexpr int64_t kIdleWaitMs = 30'000;
// Progress over events a webhook does not match is saved at most this often.
constexpr int64_t kSkipSaveMs = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Retryable(const DeliveryResult& r) {
  if (r.refused) return false;
  return r.status == 0 || r.status >= 500 || r.status == 408 || r.status == 429;
}

std::string WorkerKey(std::string_view ns, std::string_view id) {
  std::string k(ns);
  k.push_back('\0');
  k.append(id);
  return k;
}

DeliveryRequest RequestFor(const Webhook& w, const store::Event& e) {
  DeliveryRequest r;
  r.method = w.method;
  r.url = w.endpoint;
  r.headers = {{"Content-Type", "application/json"},
               {"User-Agent", "github.com/mrofi/simple-golang-kv"}};
  for (const auto& [name, value] : w.headers.items()) {
    if (value.is_string()) r.headers.emplace_back(name, value.get<std::string>());
  }
  r.body = DeliveryBody(w, e);
  return r;
}

}  // namespace

struct Dispatcher::Worker {
  std::string ns;  // the store's namespace
  std::string id;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  std::thread thread;
};

Dispatcher::Dispatcher(store::Store& store, DispatcherOptions options)
    : store_(store), options_(std::move(options)), http_(options_.delivery) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  store_.SetWebhooksListener([this] {
    {
      std::lock_guard<std::mutex> l(mu_);
      changed_ = true;
    }
    cv_.notify_all();
  });
  watcher_ = std::thread([this] { WatchLoop(); });
}

void Dispatcher::Stop() {
  store_.SetWebhooksListener(nullptr);
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  for (auto& [key, w] : workers_) {
    w->stop = true;
    std::lock_guard<std::mutex> l(w->mu);
    w->cv.notify_all();
  }
  store_.WakeRevisionWaiters();  // the idle ones wait for events
  for (auto& [key, w] : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  workers_.clear();
}

void Dispatcher::WatchLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    changed_ = false;  // a change from here on brings another Reconcile
    l.unlock();
    Reconcile();
    l.lock();
    cv_.wait_for(l, std::chrono::milliseconds(options_.poll_ms),
                 [&] { return stopping_ || changed_; });
  }
}

void Dispatcher::Reconcile() {
  Result<std::vector<store::StoredWebhook>> all = store_.ListWebhooks("");
  if (!all.ok()) {
    logging::Warn("webhooks: cannot list webhooks: " + all.status().message());
    return;
  }
  std::map<std::string, const store::StoredWebhook*> present;
  for (const auto& w : *all) present.emplace(WorkerKey(w.ns, w.id), &w);

  std::vector<std::unique_ptr<Worker>> gone;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (present.count(it->first) == 0) {
      gone.push_back(std::move(it->second));
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& w : gone) {
    w->stop = true;
    {
      std::lock_guard<std::mutex> l(w->mu);
      w->cv.notify_all();
    }
    store_.WakeRevisionWaiters();
    if (w->thread.joinable()) w->thread.join();
  }
  for (const auto& [key, stored] : present) {
    if (workers_.count(key) != 0) continue;
    auto w = std::make_unique<Worker>();
    w->ns = stored->ns;
    w->id = stored->id;
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { RunWorker(*raw); });
    workers_.emplace(key, std::move(w));
  }
}

bool Dispatcher::Sleep(Worker& w, int64_t ms) {
  std::unique_lock<std::mutex> l(w.mu);
  w.cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return w.stop.load(); });
  return !w.stop;
}

void Dispatcher::RunWorker(Worker& w) {
  Result<store::StoredWebhook> start = store_.GetWebhook(w.ns, w.id);
  if (!start.ok()) return;  // deleted already; Reconcile will notice
  store::WebhookProgress progress = start->progress;
  int64_t saved_ms = NowMs();
  bool unsaved = false;
  auto save = [&]() {
    Status s = store_.SaveWebhookProgress(w.ns, w.id, progress);
    if (s.IsNotFound()) return false;
    if (!s.ok()) logging::Warn("webhook " + w.id + ": cannot save progress: " + s.message());
    saved_ms = NowMs();
    unsaved = false;
    return true;
  };

  while (!w.stop) {
    const uint64_t committed = store_.CommittedRevision();
    Result<std::vector<store::Event>> events = store_.ReadEvents(progress.cursor, kEventBatch);
    if (events.status().IsOutOfRange()) {
      // Only when the receiver stayed unreachable past the backlog limit
      // (StoreOptions::webhook_backlog_ms): say so where users look.
      const uint64_t floor = store_.EventFloor();
      progress.last_error = "events after revision " + std::to_string(progress.cursor) +
                            " up to " + std::to_string(floor) +
                            " were trimmed from the event log before they could be delivered";
      logging::Warn("webhook " + w.id + ": " + progress.last_error);
      progress.cursor = floor;
      progress.attempts = 0;
      if (!save()) return;
      continue;
    }
    if (!events.ok()) {
      logging::Warn("webhook " + w.id + ": cannot read the event log: " + events.status().message());
      if (!Sleep(w, 1000)) break;
      continue;
    }
    if (events->empty()) {
      // Revisions of failed writes have no event: step over them.
      if (committed > progress.cursor) {
        progress.cursor = committed;
        unsaved = true;
      }
      if (unsaved && NowMs() - saved_ms >= kSkipSaveMs && !save()) return;
      // Progress not saved yet is saved within kSkipSaveMs (kv webhook ls
      // shows the lag).
      store_.WaitForRevision(progress.cursor, unsaved ? kSkipSaveMs : kIdleWaitMs,
                             [&w] { return w.stop.load(); });
      continue;
    }
    Result<store::StoredWebhook> stored = store_.GetWebhook(w.ns, w.id);
    if (stored.status().IsNotFound()) return;  // deleted
    if (!stored.ok()) {
      if (!Sleep(w, 1000)) break;
      continue;
    }
    Result<Webhook> webhook = FromJson(stored->definition);
    if (!webhook.ok()) {
      logging::Error("webhook " + w.id + ": " + webhook.status().message());
      if (!Sleep(w, 5000)) break;
      continue;
    }
    for (const store::Event& e : *events) {
      if (w.stop) break;
      if (e.ns == w.ns && Matches(*webhook, e)) {
        if (!Deliver(w, e, &progress)) return;
        // The definition may have changed while it retried.
        stored = store_.GetWebhook(w.ns, w.id);
        if (stored.status().IsNotFound()) return;
        if (!stored.ok()) break;
        if (Result<Webhook> now = FromJson(stored->definition); now.ok()) webhook = std::move(now);
      } else {
        progress.cursor = e.revision;
        unsaved = true;
      }
    }
    if (unsaved && NowMs() - saved_ms >= kSkipSaveMs && !save()) return;
  }
  if (unsaved) (void)save();
}

bool Dispatcher::Deliver(Worker& w, const store::Event& e, store::WebhookProgress* progress) {
  int64_t backoff = options_.retry_min_ms;
  while (!w.stop) {
    // Each attempt uses the definition as it is now (an endpoint may be fixed).
    Result<store::StoredWebhook> stored = store_.GetWebhook(w.ns, w.id);
    if (stored.status().IsNotFound()) return false;
    Result<Webhook> webhook =
        stored.ok() ? FromJson(stored->definition) : Result<Webhook>(stored.status());
    if (!webhook.ok()) {
      if (!Sleep(w, 1000)) return false;
      continue;
    }
    DeliveryResult r = http_.Send(RequestFor(*webhook, e), w.stop);
    if (w.stop) return false;  // abandoned, not answered: sent again after a restart
    progress->attempts += 1;
    progress->last_attempt_ms = NowMs();
    progress->last_status = r.status;
    const bool ok = r.status >= 200 && r.status < 300;
    if (ok) {
      progress->last_error.clear();
      progress->last_success_ms = progress->last_attempt_ms;
      progress->delivered += 1;
    } else {
      progress->last_error = !r.error.empty() ? r.error : "HTTP " + std::to_string(r.status);
    }
    if (ok || !Retryable(r)) {
      if (!ok) {
        progress->failed += 1;
        progress->last_error += " (revision " + std::to_string(e.revision) + " given up)";
        logging::Warn("webhook " + w.id + ": " + progress->last_error);
      }
      progress->attempts = 0;
      progress->cursor = e.revision;
      Status saved = store_.SaveWebhookProgress(w.ns, w.id, *progress);
      if (!saved.ok() && !saved.IsNotFound()) {
        logging::Warn("webhook " + w.id + ": cannot save progress: " + saved.message());
      }
      return !saved.IsNotFound();
    }
    if (progress->attempts == 1) {
      logging::Info("webhook " + w.id + ": " + progress->last_error + "; retrying");
    }
    if (store_.SaveWebhookProgress(w.ns, w.id, *progress).IsNotFound()) return false;
    if (!Sleep(w, backoff)) return false;
    backoff = std::min(backoff * 2, options_.retry_max_ms);
  }
  return false;
}

}  // namespace kv::daemon::webhooks
