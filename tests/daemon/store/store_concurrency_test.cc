// Per-key atomicity under real threads: incr and CAS lose no update.
#include <atomic>
#include <thread>

#include "daemon/store/store.h"
#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using testing::StoreFixture;

TEST_CASE_METHOD(StoreFixture, "8 threads x 1000 incr on one key end at exactly 8000",
                 "[rocksdb]") {
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (!store->Incr("ns", "counter", 1).ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(store->Get("ns", "counter")->value == "8000");
  CHECK(StatsOf().keys == 1);
}

TEST_CASE_METHOD(StoreFixture, "8 threads of read / CAS-retry loops lose no update",
                 "[rocksdb]") {
  Set("n", "0");
  std::atomic<int> conflicts{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        for (;;) {
          auto cur = store->Get("ns", "n");
          if (!cur.ok()) continue;
          PutOptions o;
          o.condition = Condition::IfMatch(cur->revision);
          auto w = store->Put("ns", "n", std::to_string(std::stoll(cur->value) + 1), o);
          if (w.ok()) break;
          if (!w.status().IsPreconditionFailed()) {
            ++errors;
            break;
          }
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(store->Get("ns", "n")->value == "1600");
  // The loops really raced (otherwise this test proves nothing).
  WARN("CAS conflicts: " << conflicts.load());
}

TEST_CASE_METHOD(StoreFixture, "concurrent writers keep usage and the event log exact",
                 "[rocksdb]") {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string key = "k" + std::to_string((t * 7 + i) % 50);
        if (i % 3 == 0) {
          (void)store->Delete("ns", key);
        } else {
          (void)store->Put("ns", key, std::string(static_cast<size_t>(i % 17), 'v'), {});
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  uint64_t keys = 0, bytes = 0;
  ListOptions o;
  o.values = true;
  auto page = store->List("ns", o);
  REQUIRE(page.ok());
  for (const auto& e : page->entries) {
    ++keys;
    bytes += e.key.size() + e.value.size();
  }
  CHECK(StatsOf().keys == keys);
  CHECK(StatsOf().bytes == bytes);
  // Every committed revision has exactly one event, in order.
  auto events = store->ReadEvents(0, 100000);
  REQUIRE(events.ok());
  for (size_t i = 0; i < events->size(); ++i) CHECK((*events)[i].revision == i + 1);
  CHECK(events->size() == store->CommittedRevision());
}

}  // namespace
}  // namespace kv::store
