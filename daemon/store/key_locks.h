// KeyLocks: striped mutexes that serialize read-check-write on one key.
// Two keys may share a stripe (then they wait for each other, harmlessly);
// one key always maps to the same stripe. Lock several stripes only through
// LockMany, which takes them in index order so writers never deadlock.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

namespace kv::store {

class KeyLocks {
 public:
  static constexpr size_t kStripes = 1024;

  static size_t HashOf(std::string_view data_key) { return std::hash<std::string_view>{}(data_key); }
  static size_t StripeOfHash(size_t hash) { return hash % kStripes; }
  size_t StripeOf(std::string_view data_key) const { return StripeOfHash(HashOf(data_key)); }
  std::unique_lock<std::mutex> Lock(std::string_view data_key) {
    return std::unique_lock<std::mutex>(stripes_[StripeOf(data_key)]);
  }
  std::unique_lock<std::mutex> LockStripe(size_t stripe) {
    return std::unique_lock<std::mutex>(stripes_[stripe]);
  }
  std::vector<std::unique_lock<std::mutex>> LockMany(std::vector<size_t> stripes) {
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    std::vector<std::unique_lock<std::mutex>> held;
    held.reserve(stripes.size());
    for (size_t s : stripes) held.emplace_back(stripes_[s]);
    return held;
  }

 private:
  std::array<std::mutex, kStripes> stripes_;
};

}  // namespace kv::store
