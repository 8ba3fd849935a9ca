// RevisionSequencer: hands out revisions and tracks which are committed.
//
// Writers to different keys run concurrently, so a later revision can reach
// the database before an earlier one. Readers of the event log must not skip
// the earlier one, so they read only up to Committed(): the highest revision
// below which no write is still in flight. A writer calls Begin(n) before
// its batch and End(first) after it, whether the batch succeeded or not (a
// failed batch leaves a gap in the revisions, which is allowed: revisions are
// monotonic, not dense).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace kv::store {

class RevisionSequencer {
 public:
  // REQUIRES: no writer has begun yet.
  void Reset(uint64_t last) {
    std::lock_guard<std::mutex> l(mu_);
    next_ = last + 1;
    committed_ = last;
  }
  // Reserves n consecutive revisions; returns the first.
  uint64_t Begin(uint64_t n) {
    std::lock_guard<std::mutex> l(mu_);
    uint64_t first = next_;
    next_ += n;
    in_flight_.push_back(first);  // firsts grow, so the vector stays sorted
    return first;
  }
  void End(uint64_t first) {
    bool wake;
    {
      std::lock_guard<std::mutex> l(mu_);
      in_flight_.erase(std::find(in_flight_.begin(), in_flight_.end(), first));
      committed_ = in_flight_.empty() ? next_ - 1 : in_flight_.front() - 1;
      wake = waiters_ > 0;
    }
    if (wake) cv_.notify_all();
  }
  uint64_t Committed() const {
    std::lock_guard<std::mutex> l(mu_);
    return committed_;
  }
  // The highest revision handed out so far.
  uint64_t Last() const {
    std::lock_guard<std::mutex> l(mu_);
    return next_ - 1;
  }
  // Waits up to timeout_ms for Committed() > after, or for `cancel` (when
  // given) to return true after a WakeWaiters(); returns Committed().
  uint64_t WaitAbove(uint64_t after, int64_t timeout_ms,
                     const std::function<bool()>& cancel = nullptr) const {
    std::unique_lock<std::mutex> l(mu_);
    ++waiters_;
    cv_.wait_for(l, std::chrono::milliseconds(timeout_ms),
                 [&] { return committed_ > after || (cancel && cancel()); });
    --waiters_;
    return committed_;
  }
  // Has every waiter check its cancel condition: call it after making one
  // true (a watch's client left, a webhook worker must stop).
  void WakeWaiters() const {
    { std::lock_guard<std::mutex> l(mu_); }  // a waiter between its check and its wait
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t next_ = 1;
  uint64_t committed_ = 0;
  // The first revision of each batch in flight, in order: a handful (one
  // per writing thread), and no allocation per write once grown.
  std::vector<uint64_t> in_flight_;
  mutable int waiters_ = 0;
};

}  // namespace kv::store
