// Thousands of random operations, with TTLs and a moving clock, run against
// the store and against a plain in-memory model; results and usage are
// compared after every step, including across reopens and full compactions.
#include <map>
#include <random>

#include "daemon/store/check.h"
#include "daemon/store/store.h"
#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using testing::StoreFixture;

struct ModelEntry {
  std::string value;
  int64_t expire_at = 0;
  uint64_t revision = 0;
};

class Model {
 public:
  // Keys by namespace; expired entries linger until Visible() prunes them.
  std::map<std::string, std::map<std::string, ModelEntry>> data;

  const ModelEntry* Find(const std::string& ns, const std::string& key, int64_t now) const {
    auto n = data.find(ns);
    if (n == data.end()) return nullptr;
    auto k = n->second.find(key);
    if (k == n->second.end()) return nullptr;
    if (k->second.expire_at > 0 && k->second.expire_at <= now) return nullptr;
    return &k->second;
  }
  void Prune(int64_t now) {
    for (auto& [ns, keys] : data) {
      std::erase_if(keys, [&](const auto& kv) {
        return kv.second.expire_at > 0 && kv.second.expire_at <= now;
      });
    }
  }
  Usage UsageOf(const std::string& ns) const {
    Usage u;
    auto n = data.find(ns);
    if (n == data.end()) return u;
    for (const auto& [k, e] : n->second) {
      ++u.keys;
      u.bytes += k.size() + e.value.size();
    }
    return u;
  }
};

TEST_CASE_METHOD(StoreFixture, "random operations match an in-memory model", "[rocksdb]") {
  const uint32_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const std::vector<std::string> namespaces = {"a", "b"};
  Model model;
  const int kSteps = 10000;

  for (int step = 0; step < kSteps; ++step) {
    INFO("step " << step);
    const std::string ns = namespaces[pick(2)];
    const std::string key = "k" + std::to_string(pick(40));
    if (pick(4) == 0) clock->Advance(pick(400));
    const int64_t now = clock->NowMs();
    const ModelEntry* cur = model.Find(ns, key, now);
    int op = pick(100);

    if (op < 35) {  // put, sometimes conditional, sometimes with a TTL
      PutOptions o;
      std::string value(static_cast<size_t>(pick(50)), static_cast<char>('a' + pick(26)));
      if (pick(3) == 0) o.ttl_ms = 1 + pick(2000);
      int c = pick(8);
      bool expect_ok = true;
      if (c == 0) {
        o.condition = Condition::IfAbsent();
        expect_ok = cur == nullptr;
      } else if (c == 1) {
        o.condition = Condition::IfExists();
        expect_ok = cur != nullptr;
      } else if (c == 2) {
        uint64_t etag = cur ? cur->revision : 1;
        if (pick(2) == 0) etag += 1000000;
        o.condition = Condition::IfMatch(etag);
        expect_ok = cur != nullptr && etag == cur->revision;
      }
      auto r = store->Put(ns, key, value, o);
      REQUIRE(r.ok() == expect_ok);
      if (r.ok()) {
        CHECK(r->created == (cur == nullptr));
        model.data[ns][key] = {value, o.ttl_ms ? now + o.ttl_ms : 0, r->entry.revision};
      } else {
        CHECK(r.status().IsPreconditionFailed());
      }
    } else if (op < 60) {  // get
      auto r = store->Get(ns, key);
      REQUIRE(r.ok() == (cur != nullptr));
      if (cur) {
        CHECK(r->value == cur->value);
        CHECK(r->revision == cur->revision);
        CHECK(r->expire_at_ms == cur->expire_at);
      } else {
        CHECK(r.status().IsNotFound());
      }
    } else if (op < 70) {  // delete
      auto r = store->Delete(ns, key);
      REQUIRE(r.ok() == (cur != nullptr));
      if (cur) model.data[ns].erase(key);
    } else if (op < 78) {  // incr on its own key space
      const std::string ckey = "n" + std::to_string(pick(5));
      const ModelEntry* c = model.Find(ns, ckey, now);
      int64_t by = pick(21) - 10;
      auto r = store->Incr(ns, ckey, by);
      REQUIRE(r.ok());
      int64_t expect = (c ? std::stoll(c->value) : 0) + by;
      CHECK(r->entry.value == std::to_string(expect));
      model.data[ns][ckey] = {std::to_string(expect), c ? c->expire_at : 0, r->entry.revision};
    } else if (op < 84) {  // expire / persist
      bool persist = pick(2) == 0;
      int64_t ttl = 1 + pick(1500);
      auto r = persist ? store->Persist(ns, key) : store->Expire(ns, key, ttl);
      REQUIRE(r.ok() == (cur != nullptr));
      if (cur) {
        ModelEntry e = *cur;
        e.expire_at = persist ? 0 : now + ttl;
        e.revision = r->entry.revision;
        model.data[ns][key] = e;
      }
    } else if (op < 92) {  // list a prefix, a page at a time
      ListOptions o;
      o.prefix = "k" + std::to_string(pick(4));
      o.limit = 1 + static_cast<size_t>(pick(7));
      o.values = true;
      std::vector<std::pair<std::string, std::string>> got;
      for (int pages = 0; pages < 100; ++pages) {
        auto page = store->List(ns, o);
        REQUIRE(page.ok());
        for (auto& e : page->entries) got.emplace_back(e.key, e.value);
        if (page->next_cursor.empty()) break;
        o.cursor = page->next_cursor;
      }
      std::vector<std::pair<std::string, std::string>> want;
      for (const auto& [k, e] : model.data[ns]) {
        if (k.starts_with(o.prefix) && model.Find(ns, k, now)) want.emplace_back(k, e.value);
      }
      CHECK(got == want);
    } else if (op < 93 && pick(2) == 0) {  // a batch of puts, some create-only
      std::vector<BatchPut> items;
      int n = 1 + pick(5);
      for (int i = 0; i < n; ++i) {
        BatchPut b;
        b.key = "k" + std::to_string(pick(40));
        b.value = std::string(static_cast<size_t>(pick(30)), 'b');
        if (pick(3) == 0) b.options.ttl_ms = 1 + pick(2000);
        if (pick(4) == 0) b.options.condition = Condition::IfAbsent();
        items.push_back(b);
      }
      auto r = store->PutMany(ns, items);
      REQUIRE(r.ok());
      uint64_t rev = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        const ModelEntry* c = model.Find(ns, items[i].key, now);
        bool expect_ok = items[i].options.condition.kind != Condition::Kind::kIfAbsent || !c;
        REQUIRE((*r)[i].ok() == expect_ok);
        if (!expect_ok) continue;
        // Revisions of a batch are consecutive; read the real one back below.
        model.data[ns][items[i].key] = {items[i].value,
                                        items[i].options.ttl_ms ? now + items[i].options.ttl_ms : 0,
                                        0};
      }
      for (const auto& item : items) {
        auto g = store->Get(ns, item.key);
        if (g.ok()) {
          rev = g->revision;
          model.data[ns][item.key].revision = rev;
        }
      }
    } else if (op < 93 && pick(2) == 0) {  // clear under a prefix: k1 is k1, k10..k19
      const std::string prefix = "k" + std::to_string(pick(4));
      auto r = store->Clear(ns, prefix);
      REQUIRE(r.ok());
      auto& keys = model.data[ns];
      for (auto it = keys.lower_bound(prefix); it != keys.end() && it->first.starts_with(prefix);) {
        it = keys.erase(it);
      }
    } else if (op < 93) {  // clear
      auto r = store->Clear(ns);
      REQUIRE(r.ok());
      model.data[ns].clear();
    } else if (op < 95) {  // reopen, checking the disk's invariants in between
      store.reset();
      auto report = CheckStore(Options().data_dir);
      REQUIRE(report.ok());
      INFO((report->problems.empty() ? "" : report->problems.front()));
      REQUIRE(report->ok());
      Reopen();
    } else if (op < 97) {  // full compaction: the filter drops expired records
      REQUIRE(store->CompactAll().ok());
    } else {  // nothing but time
      clock->Advance(pick(3000));
    }

    // The worker settles whatever is due; then usage must be exact.
    REQUIRE(store->ExpireDue().ok());
    model.Prune(clock->NowMs());
    for (const auto& n : namespaces) {
      Usage want = model.UsageOf(n);
      Usage got = StatsOf(n);
      INFO("namespace " << n);
      REQUIRE(got.keys == want.keys);
      REQUIRE(got.bytes == want.bytes);
    }
  }
  // And once more from the disk alone.
  Reopen();
  for (const auto& n : namespaces) {
    CHECK(StatsOf(n).keys == model.UsageOf(n).keys);
    CHECK(StatsOf(n).bytes == model.UsageOf(n).bytes);
  }
}

}  // namespace
}  // namespace kv::store
