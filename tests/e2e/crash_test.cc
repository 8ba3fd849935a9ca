// Crash consistency: kvd under concurrent writes from several clients is
// killed with SIGKILL at a random moment, again and again, and restarted.
// After every kill, `kvd check` finds the data directory consistent (records,
// expiry index, usage counters and event log agree), and every write that
// was acknowledged is there with its exact value: puts, deletes and incrs.
// A write in flight at the kill may or may not have happened, never half.
//
// KV_CRASH_ROUNDS sets the number of kills (default 20; bench/ runs more).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/http_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/support/temp_dir.h"

namespace kv::e2e {
namespace {

using kv::testing::KvdProcess;
using kv::testing::RunKvd;
using kv::testing::TempDir;
using namespace std::chrono_literals;

constexpr int kWriters = 4;

int Rounds() {
  const char* v = std::getenv("KV_CRASH_ROUNDS");
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : 20;
}

// What one writer knows for certain: what kvd acknowledged, and the one
// request it had in flight when kvd died (which may or may not have landed).
struct Ledger {
  std::map<std::string, std::string> present;  // key -> exact value
  std::set<std::string> deleted;
  std::map<std::string, std::string> expiring;  // short TTL: absent or exact
  int64_t counter = 0;                           // acknowledged incrs
  std::string in_flight;                         // key of the unanswered request
  bool incr_in_flight = false;
};

// Writes until kvd stops answering: puts of values of varied sizes (some
// with a TTL long enough to outlive the test, some short enough to expire
// between kills), deletes of its own earlier keys, and incrs of its counter.
void Write(const std::string& socket, int writer, int round, Ledger* ledger) {
  Client c = Client::Unix(socket);
  std::mt19937 rng(static_cast<unsigned>(writer * 7919 + round));
  const std::string counter = "counter-" + std::to_string(writer);
  for (int i = 0; i < 100000; ++i) {  // bounded; kvd dies long before
    const int op = static_cast<int>(rng() % 10);
    std::string key = "w" + std::to_string(writer) + "-r" + std::to_string(round) + "-" +
                      std::to_string(i);
    if (op < 6) {
      std::string value(1 + rng() % 3000, static_cast<char>('a' + rng() % 26));
      value += "#" + key;
      std::string path = "/v1/kv/" + key;
      bool short_ttl = op == 5;
      if (op == 4) path += "?ttl=1h";
      if (short_ttl) path += "?ttl=" + std::to_string(50 + rng() % 400) + "ms";
      ledger->in_flight = key;
      Reply r = c.Call("PUT", path, value);
      if (r.status != 200 && r.status != 201) return;
      (short_ttl ? ledger->expiring : ledger->present)[key] = value;
    } else if (op < 8 && !ledger->present.empty()) {
      auto victim = ledger->present.begin();
      std::advance(victim, static_cast<long>(rng() % ledger->present.size()));
      std::string k = victim->first;
      ledger->in_flight = k;
      Reply r = c.Call("DELETE", "/v1/kv/" + k);
      if (r.status != 204 && r.status != 200) return;
      ledger->present.erase(k);
      ledger->deleted.insert(k);
    } else {
      ledger->incr_in_flight = true;
      Reply r = c.Call("POST", "/v1/kv/" + counter + "/incr");
      if (r.status != 200 && r.status != 201) return;
      ++ledger->counter;
      ledger->incr_in_flight = false;
    }
    ledger->in_flight.clear();
  }
}

TEST_CASE("kvd killed with SIGKILL under concurrent writes loses no acknowledged write",
          "[e2e][crash]") {
  TempDir dir("kv-crash");
  const std::string data = dir.Sub("data");
  const std::string socket = dir.Sub("kvd.sock");
  std::vector<Ledger> ledgers(kWriters);
  std::mt19937 rng(std::random_device{}());
  const int rounds = Rounds();
  int64_t checked = 0;

  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    KvdProcess kvd;
    REQUIRE(kvd.Start({"--data-dir", data, "--socket", socket}));

    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      ledgers[w].in_flight.clear();
      ledgers[w].incr_in_flight = false;
      writers.emplace_back(Write, socket, w, round, &ledgers[w]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 500));
    REQUIRE(kvd.Signal(SIGKILL));
    REQUIRE(kvd.Wait(20s) == 128 + SIGKILL);
    for (auto& t : writers) t.join();

    auto check = RunKvd({"check", "--data-dir", data}, {}, 120s);
    INFO("kvd check: " << check.out << check.err);
    REQUIRE(check.exit_code == 0);
    CHECK(check.err.find("consistent") != std::string::npos);

    REQUIRE(kvd.Start({"--data-dir", data, "--socket", socket}));
    Client c = Client::Unix(socket);
    // Each round checks what its writers were told, and the last round
    // everything of every round (keys name their round).
    const bool last = round == rounds - 1;
    const std::string this_round = "-r" + std::to_string(round) + "-";
    for (int w = 0; w < kWriters; ++w) {
      Ledger& l = ledgers[w];
      INFO("writer " << w << ", in flight: " << l.in_flight);
      // The request in flight may have landed: learn which way it went.
      if (!l.in_flight.empty()) {
        Reply r = c.Call("GET", "/v1/kv/" + l.in_flight);
        if (l.present.count(l.in_flight) && r.status == 404) {
          l.present.erase(l.in_flight);  // its delete landed
          l.deleted.insert(l.in_flight);
        }
        l.expiring.erase(l.in_flight);
      }
      for (const auto& [key, value] : l.present) {
        if (!last && key.find(this_round) == std::string::npos) continue;
        Reply r = c.Call("GET", "/v1/kv/" + key);
        INFO(key);
        REQUIRE(r.status == 200);
        REQUIRE(r.body == value);
        ++checked;
      }
      for (const std::string& key : l.deleted) {
        if (!last && key.find(this_round) == std::string::npos) continue;
        REQUIRE(c.Call("GET", "/v1/kv/" + key).status == 404);
      }
      for (const auto& [key, value] : l.expiring) {
        Reply r = c.Call("GET", "/v1/kv/" + key);
        INFO(key);
        REQUIRE((r.status == 404 || (r.status == 200 && r.body == value)));
      }
      l.expiring.clear();
      Reply n = c.Call("GET", "/v1/kv/counter-" + std::to_string(w));
      int64_t got = n.status == 404 ? 0 : std::stoll(n.body);
      CHECK(got >= l.counter);
      CHECK(got <= l.counter + (l.incr_in_flight ? 1 : 0));
      l.counter = got;  // an unanswered incr that landed counts from now on
    }
    // Verified: a clean stop, and on to the next round.
    kvd.Signal(SIGTERM);
    REQUIRE(kvd.Wait(20s) == 0);
  }
  auto final_check = RunKvd({"check", "--data-dir", data}, {}, 120s);
  INFO(final_check.out << final_check.err);
  CHECK(final_check.exit_code == 0);
  CHECK(checked > 0);
  std::printf("crash test: %d kills, %lld acknowledged values checked, lost: 0\n", rounds,
              static_cast<long long>(checked));
}

TEST_CASE("kvd check refuses a data directory that a running kvd holds", "[e2e]") {
  TempDir dir("kv-check");
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock")}));
  auto busy = RunKvd({"check", "--data-dir", dir.Sub("data")});
  CHECK(busy.exit_code == 1);
  CHECK(busy.err.find("in use") != std::string::npos);
  kvd.Signal(SIGTERM);
  REQUIRE(kvd.Wait(20s) == 0);
  auto idle = RunKvd({"check", "--data-dir", dir.Sub("data")});
  CHECK(idle.exit_code == 0);
  auto none = RunKvd({"check", "--data-dir", dir.Sub("nothing")});
  CHECK(none.exit_code == 1);
  CHECK(none.err.find("no kv database") != std::string::npos);
}

}  // namespace
}  // namespace kv::e2e
