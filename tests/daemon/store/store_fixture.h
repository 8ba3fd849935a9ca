// A store in a temporary directory with a manual clock and no background
// worker, so each test decides when time moves and when expiry runs.
#pragma once

#include <memory>

#include <catch2/catch.hpp>

#include "daemon/store/store.h"
#include "tests/support/temp_dir.h"

namespace kv::store::testing {

struct StoreFixture {
  kv::testing::TempDir dir{"kv-store"};
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<Store> store;

  StoreFixture() { Reopen(); }

  StoreOptions Options() const {
    StoreOptions o;
    o.data_dir = dir.Sub("data");
    o.clock = clock;
    o.expiry_worker = false;
    return o;
  }
  void Reopen(StoreOptions o) {
    store.reset();
    auto s = Store::Open(std::move(o));
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    store = std::move(*s);
  }
  void Reopen() { Reopen(Options()); }

  // Put with a TTL, failing the test on error.
  WriteResult Set(std::string_view key, std::string_view value, int64_t ttl_ms = 0,
                  std::string_view ns = "ns") {
    PutOptions o;
    o.ttl_ms = ttl_ms;
    auto r = store->Put(ns, key, value, o);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }
  Usage StatsOf(std::string_view ns = "ns") {
    auto u = store->Stats(ns);
    REQUIRE(u.ok());
    return *u;
  }
};

}  // namespace kv::store::testing
