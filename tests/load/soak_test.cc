// Soak: a real kvd under a bounded, mixed load from many connections (TCP
// with a token, and the Unix socket), with TTLs from 100 ms to a few seconds
// so that keys expire all the time, and two watch streams.
//
// Every answer is checked against what is allowed: each worker owns its keys,
// so it knows what a get, list, delete, incr, merge patch or conditional put
// must answer, up to the moment a TTL runs out (while a request is in flight
// around that moment, both answers are allowed). Shared keys are written by
// all workers and checked for well-formed values and exact counts. The watch
// streams (one over the socket, one over TCP resuming every 2 s) must see
// every acknowledged write, as its own type (create or update as the write
// said, delete), in revision order. kvd's memory must stay flat once what
// RocksDB legitimately fills as it warms up is counted out (memtables, block
// cache, table readers; see RssIsFlat). At the end kvd stops cleanly and
// `kvd check` finds the data directory consistent. It prints ops/s and
// p50/p99/max latency per operation; no latency is asserted.
//
// KV_SOAK_SECONDS (default 60), KV_SOAK_TCP_CONNECTIONS (32),
// KV_SOAK_UNIX_CONNECTIONS (8); KV_SOAK_MEMORY_CSV=FILE writes the memory
// samples there; KV_SOAK_KVD_ENV="NAME=VALUE;..." adds to kvd's environment
// (an allocator setting, a profiler's preload). bench/soak.sh runs it for
// 10 minutes.
#include <signal.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/http_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/load/load_support.h"
#include "tests/support/sanitizer_env.h"
#include "tests/support/temp_dir.h"

namespace kv::load {
namespace {

using e2e::Client;
using e2e::HeaderList;
using e2e::Json;
using e2e::Reply;
using kv::testing::kAddressSanitizer;
using kv::testing::KvdProcess;
using kv::testing::RunKvd;
using kv::testing::TempDir;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

enum Op { kGet, kPut, kDel, kIncr, kPatch, kList, kCas, kSharedPut, kSharedGet, kSharedIncr, kOps };
constexpr const char* kOpNames[kOps] = {"get",  "put",  "del",        "incr",       "patch",
                                        "list", "cas",  "shared put", "shared get", "shared incr"};

constexpr int kSlots = 48;       // plain keys per worker
constexpr int kDocs = 4;         // JSON documents per worker (merge patch)
constexpr int kSharedKeys = 8;   // keys every worker writes
constexpr int64_t kSlackMs = 5;  // around a TTL's end, both answers are allowed

// Whether a key is live while a request runs, from what its only writer knows.
enum class Live { kYes, kNo, kEither };

Live LiveDuring(bool exists, int64_t expire_at_ms, int64_t t0, int64_t t1) {
  if (!exists) return Live::kNo;
  if (expire_at_ms == 0 || t1 + kSlackMs < expire_at_ms) return Live::kYes;
  if (t0 - kSlackMs >= expire_at_ms) return Live::kNo;
  return Live::kEither;
}

// A change as a watcher should see it: key and event type, hashed (never 0).
uint32_t EventHash(std::string_view key, std::string_view type) {
  uint32_t h = 2166136261u;
  auto mix = [&](std::string_view s) {
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  };
  mix(key);
  mix(std::string_view("\0", 1));
  mix(type);
  return h | 1;
}

struct Ack {
  uint64_t revision;
  uint32_t hash;
};

struct Slot {
  bool exists = false;
  std::string value;
  uint64_t revision = 0;
  int64_t expire_at_ms = 0;
};

struct Doc {
  bool exists = false;
  Json doc = Json::object();
  int64_t expire_at_ms = 0;
};

uint64_t RevisionOf(const Reply& r) {
  std::string h = r.Header("kv-revision");
  return h.empty() ? 0 : std::strtoull(h.c_str(), nullptr, 10);
}

// A shared key's value: "w<writer>:<seq>:" then one letter, repeated.
std::string SharedValue(int writer, uint64_t seq, size_t fill) {
  char letter = static_cast<char>('a' + (writer + seq) % 26);
  return "w" + std::to_string(writer) + ":" + std::to_string(seq) + ":" + std::string(fill, letter);
}

bool WellFormedShared(const std::string& v) {
  int writer = 0;
  unsigned long long seq = 0;
  int used = 0;
  if (std::sscanf(v.c_str(), "w%d:%llu:%n", &writer, &seq, &used) != 2 || used == 0) return false;
  char letter = static_cast<char>('a' + (writer + seq) % 26);
  return v.size() > static_cast<size_t>(used) &&
         v.find_first_not_of(letter, static_cast<size_t>(used)) == std::string::npos;
}

// One connection's worker: its keys, what it knows of them, what it saw.
class Worker {
 public:
  Worker(int id, Client client, uint64_t seed)
      : id_(id), prefix_("w" + std::to_string(id) + "/"), c_(std::move(client)), rng_(seed) {}

  void Run(Steady::time_point until) {
    while (Steady::now() < until) {
      unsigned pick = rng_() % 100;
      if (pick < 24) {
        rng_() % 5 == 0 ? GetDoc() : Get();
      } else if (pick < 42) {
        Put();
      } else if (pick < 50) {
        Del();
      } else if (pick < 58) {
        Incr();
      } else if (pick < 66) {
        Patch();
      } else if (pick < 71) {
        List();
      } else if (pick < 77) {
        Cas();
      } else if (pick < 86) {
        SharedPut();
      } else if (pick < 95) {
        SharedGet();
      } else {
        SharedIncr();
      }
    }
  }

  // After the run: every key read back once more, exactly.
  void Verify() {
    for (int i = 0; i < kSlots; ++i) Get(i);
    for (int i = 0; i < kDocs; ++i) GetDoc(i);
    Reply r = c_.Call("GET", "/v1/kv/" + prefix_ + "n");
    int64_t got = r.status == 404 ? 0 : std::strtoll(r.body.c_str(), nullptr, 10);
    if (got != counter_) {
      Bad(kIncr, "counter is " + std::to_string(got) + " after " + std::to_string(counter_) +
                     " acknowledged incrs");
    }
  }

  int id() const { return id_; }
  Latencies& latencies(int op) { return latencies_[op]; }
  const std::map<std::string, uint64_t>& expected() const { return expected_; }
  const std::map<std::string, uint64_t>& unexpected() const { return unexpected_; }
  const std::vector<std::string>& first_errors() const { return first_errors_; }
  const std::vector<Ack>& acks() const { return acks_; }
  int64_t shared_incrs() const { return shared_incrs_; }

 private:
  Reply Call(Op op, const std::string& method, const std::string& path, const std::string& body,
             const HeaderList& headers = {}) {
    t0_ = UnixMs();
    auto start = Steady::now();
    Reply r = c_.Call(method, path, body, headers);
    latencies_[op].Add(Steady::now() - start);
    t1_ = UnixMs();
    if (r.status == 0) Bad(op, "transport: " + r.error);
    return r;
  }

  void Bad(int op, const std::string& what) {
    std::string kind = what.substr(0, what.find(':'));
    ++unexpected_[std::string(kOpNames[op]) + ": " + kind];
    if (first_errors_.size() < 10) first_errors_.push_back(prefix_ + " " + kOpNames[op] + ": " + what);
  }
  void Expected(const std::string& what) { ++expected_[what]; }
  void Acked(uint64_t revision, const std::string& key, std::string_view type) {
    if (revision == 0) return Bad(kPut, "no revision in the answer for " + key);
    acks_.push_back({revision, EventHash(key, type)});
  }

  std::string Key(int slot) const { return prefix_ + "k" + std::to_string(slot); }
  std::string DocKey(int doc) const { return prefix_ + "d" + std::to_string(doc); }

  int64_t RandomTtlMs() {  // 100 ms to about 3.3 s, short ones more often
    return (100 << (rng_() % 6)) + static_cast<int64_t>(rng_() % 100);
  }

  std::string RandomValue() {
    size_t size = 16 + rng_() % 2033;
    std::string v = prefix_ + std::to_string(++seq_) + ":";
    while (v.size() < size) v.push_back(static_cast<char>('!' + rng_() % 94));
    return v;
  }

  // A write's answer: created or updated as the key's liveness allows.
  bool CheckCreated(int op, const Reply& r, Live before, const std::string& key) {
    if (r.status == 0) return false;  // counted as a transport error
    if (r.status == 201 && before == Live::kYes) {
      Bad(op, "201: created " + key + ", which was live");
      return false;
    }
    if (r.status == 200 && before == Live::kNo) {
      Bad(op, "200: updated " + key + ", which was gone");
      return false;
    }
    if (r.status != 200 && r.status != 201) {
      Bad(op, "status " + std::to_string(r.status) + ": " + r.body.substr(0, 200));
      return false;
    }
    return true;
  }

  void Get(int i = -1) {
    if (i < 0) i = static_cast<int>(rng_() % kSlots);
    Slot& s = slots_[i];
    Reply r = Call(kGet, "GET", "/v1/kv/" + Key(i), "");
    Live live = LiveDuring(s.exists, s.expire_at_ms, t0_, t1_);
    if (r.status == 200) {
      if (live == Live::kNo) return Bad(kGet, "200 for a key that is gone: " + Key(i));
      if (r.body != s.value) return Bad(kGet, "wrong value: " + Key(i));
      if (r.Header("etag") != "\"" + std::to_string(s.revision) + "\"") {
        return Bad(kGet, "wrong etag: " + Key(i) + " " + r.Header("etag"));
      }
    } else if (r.status == 404) {
      if (live == Live::kYes) return Bad(kGet, "404 for a live key: " + Key(i));
      Expected(s.exists ? "get: 404 once the TTL ran out" : "get: 404 for a deleted key");
      s.exists = false;
    } else if (r.status != 0) {
      Bad(kGet, "status " + std::to_string(r.status));
    }
  }

  void GetDoc(int i = -1) {
    if (i < 0) i = static_cast<int>(rng_() % kDocs);
    Doc& d = docs_[i];
    Reply r = Call(kGet, "GET", "/v1/kv/" + DocKey(i), "");
    Live live = LiveDuring(d.exists, d.expire_at_ms, t0_, t1_);
    if (r.status == 200) {
      if (live == Live::kNo) return Bad(kGet, "200 for a document that is gone: " + DocKey(i));
      Json got = Json::parse(r.body, nullptr, false);
      if (got != d.doc) return Bad(kGet, "wrong document: " + DocKey(i) + " " + r.body);
    } else if (r.status == 404) {
      if (live == Live::kYes) return Bad(kGet, "404 for a live document: " + DocKey(i));
      Expected(d.exists ? "get: 404 once the TTL ran out" : "get: 404 for a deleted key");
      d.exists = false;
    } else if (r.status != 0) {
      Bad(kGet, "status " + std::to_string(r.status));
    }
  }

  void Put() {
    int i = static_cast<int>(rng_() % kSlots);
    Slot& s = slots_[i];
    const std::string key = Key(i);
    int64_t ttl = rng_() % 2 == 0 ? RandomTtlMs() : 0;
    std::string value = RandomValue();
    std::string path = "/v1/kv/" + key + (ttl > 0 ? "?ttl=" + std::to_string(ttl) + "ms" : "");
    Reply r = Call(kPut, "PUT", path, value, {{"Content-Type", "text/plain"}});
    Live before = LiveDuring(s.exists, s.expire_at_ms, t0_, t1_);
    if (!CheckCreated(kPut, r, before, key)) return;
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("revision")) return Bad(kPut, "bad answer: " + r.body);
    uint64_t rev = j["revision"].get<uint64_t>();
    int64_t expire = j["expire_at_ms"].is_number() ? j["expire_at_ms"].get<int64_t>() : 0;
    if (ttl > 0 && (expire < t0_ + ttl - kSlackMs || expire > t1_ + ttl + kSlackMs)) {
      Bad(kPut, "expire_at_ms off: " + std::to_string(expire - t0_) + " ms for a TTL of " +
                    std::to_string(ttl));
    }
    if (ttl == 0 && expire != 0) Bad(kPut, "expire_at_ms set: without a TTL");
    s = {true, std::move(value), rev, expire};
    Acked(rev, key, r.status == 201 ? "create" : "update");
  }

  void Del() {
    int i = static_cast<int>(rng_() % kSlots);
    Slot& s = slots_[i];
    Reply r = Call(kDel, "DELETE", "/v1/kv/" + Key(i), "");
    if (r.status == 0) return;
    Live live = LiveDuring(s.exists, s.expire_at_ms, t0_, t1_);
    if (r.status == 204) {
      if (live == Live::kNo) return Bad(kDel, "204: deleted a key that was gone: " + Key(i));
      Acked(RevisionOf(r), Key(i), "delete");
    } else if (r.status == 404) {
      if (live == Live::kYes) return Bad(kDel, "404 for a live key: " + Key(i));
      Expected("del: 404 for a key already gone");
    } else {
      return Bad(kDel, "status " + std::to_string(r.status));
    }
    s.exists = false;
  }

  void Incr() {
    const std::string key = prefix_ + "n";
    Reply r = Call(kIncr, "POST", "/v1/kv/" + key + "/incr", "");
    if (!CheckCreated(kIncr, r, counter_ > 0 ? Live::kYes : Live::kNo, key)) return;
    if (std::strtoll(r.body.c_str(), nullptr, 10) != counter_ + 1) {
      return Bad(kIncr, "wrong count: " + r.body + " after " + std::to_string(counter_));
    }
    ++counter_;
    Acked(RevisionOf(r), key, r.status == 201 ? "create" : "update");
  }

  // A merge patch of a document, or now and then a fresh document with a
  // TTL, so that patches also meet documents that expired.
  void Patch() {
    int i = static_cast<int>(rng_() % kDocs);
    Doc& d = docs_[i];
    const std::string key = DocKey(i);
    if (rng_() % 5 == 0) {
      int64_t ttl = RandomTtlMs();
      Json fresh = {{"reset", ++seq_}};
      Reply r = Call(kPut, "PUT", "/v1/kv/" + key + "?ttl=" + std::to_string(ttl) + "ms",
                     fresh.dump(), {{"Content-Type", "application/json"}});
      Live before = LiveDuring(d.exists, d.expire_at_ms, t0_, t1_);
      if (!CheckCreated(kPut, r, before, key)) return;
      Json j = Json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j["expire_at_ms"].is_number() || !j.contains("revision")) {
        return Bad(kPut, "bad answer: " + r.body);
      }
      d = {true, fresh, j["expire_at_ms"].get<int64_t>()};
      Acked(j["revision"].get<uint64_t>(), key, r.status == 201 ? "create" : "update");
      return;
    }
    Json patch = {{"f" + std::to_string(rng_() % 8), ++seq_}};
    if (rng_() % 8 == 0) patch = {{"f" + std::to_string(rng_() % 8), nullptr}};  // removes a field
    Reply r = Call(kPatch, "PATCH", "/v1/kv/" + key, patch.dump(),
                   {{"Content-Type", "application/merge-patch+json"}});
    Live before = LiveDuring(d.exists, d.expire_at_ms, t0_, t1_);
    if (!CheckCreated(kPatch, r, before, key)) return;
    if (r.status == 201) d = {true, Json::object(), 0};  // a missing document counts as {}
    d.doc.merge_patch(patch);
    Json got = Json::parse(r.body, nullptr, false);
    if (got != d.doc) return Bad(kPatch, "wrong document: " + r.body + " wanted " + d.doc.dump());
    Acked(RevisionOf(r), key, r.status == 201 ? "create" : "update");
  }

  // The worker's plain keys by prefix, page by page: every live key with
  // its revision, no key that is gone.
  void List() {
    std::map<std::string, uint64_t> listed;
    std::string cursor;
    int64_t first_t0 = 0;
    for (int page = 0; page < 20; ++page) {
      std::string path = "/v1/keys?limit=" + std::to_string(8 + rng_() % 64) + "&prefix=" + prefix_ + "k";
      if (!cursor.empty()) path += "&cursor=" + cursor;
      Reply r = Call(kList, "GET", path, "");
      if (page == 0) first_t0 = t0_;
      if (r.status == 0) return;
      if (r.status != 200) return Bad(kList, "status " + std::to_string(r.status));
      Json j = Json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j["keys"].is_array()) return Bad(kList, "bad answer: " + r.body);
      for (const Json& k : j["keys"]) listed[k["key"].get<std::string>()] = k["revision"].get<uint64_t>();
      if (!j["next_cursor"].is_string()) break;
      cursor = j["next_cursor"].get<std::string>();
    }
    for (int i = 0; i < kSlots; ++i) {
      const Slot& s = slots_[i];
      Live live = LiveDuring(s.exists, s.expire_at_ms, first_t0, t1_);
      auto it = listed.find(Key(i));
      if (it == listed.end()) {
        if (live == Live::kYes) Bad(kList, "missing: live key " + Key(i) + " not listed");
      } else if (live == Live::kNo) {
        Bad(kList, "extra: " + Key(i) + " listed after it was gone");
      } else if (it->second != s.revision) {
        Bad(kList, "wrong revision: " + Key(i));
      }
      if (it != listed.end()) listed.erase(it);
    }
    if (!listed.empty()) Bad(kList, "extra: a key this worker never wrote: " + listed.begin()->first);
  }

  // Conditional puts: If-Match with the current ETag (or If-None-Match: *
  // for a key that is gone) wins; a stale ETag gets 412 and changes nothing.
  void Cas() {
    int i = static_cast<int>(rng_() % kSlots);
    Slot& s = slots_[i];
    const std::string key = Key(i);
    const bool stale = rng_() % 2 == 0;
    HeaderList headers = {{"Content-Type", "text/plain"}};
    if (stale) {
      headers.push_back({"If-Match", "\"" + std::to_string(s.revision + 1'000'000'000) + "\""});
    } else if (s.exists) {
      headers.push_back({"If-Match", "\"" + std::to_string(s.revision) + "\""});
    } else {
      headers.push_back({"If-None-Match", "*"});
    }
    std::string value = RandomValue();
    Reply r = Call(kCas, "PUT", "/v1/kv/" + key, value, headers);
    if (r.status == 0) return;
    Live live = LiveDuring(s.exists, s.expire_at_ms, t0_, t1_);
    if (r.status == 412) {
      if (stale) return Expected("cas: 412 for a stale ETag");
      if (live == Live::kYes) return Bad(kCas, "412 for the current ETag: " + key);
      if (!s.exists) return Bad(kCas, "412: If-None-Match: * on a key that is gone: " + key);
      Expected("cas: 412 once the TTL ran out");
      s.exists = false;
      return;
    }
    if (stale) return Bad(kCas, "status " + std::to_string(r.status) + " for a stale ETag: " + key);
    if (!s.exists && r.status == 201) {
      // If-None-Match: * on a key that is gone creates it.
    } else if (s.exists && r.status == 200) {
      if (live == Live::kNo) return Bad(kCas, "200: If-Match matched a key that was gone: " + key);
    } else {
      return Bad(kCas, "status " + std::to_string(r.status) + ": " + r.body.substr(0, 200));
    }
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("revision")) return Bad(kCas, "bad answer: " + r.body);
    s = {true, std::move(value), j["revision"].get<uint64_t>(), 0};  // a PUT drops the TTL
    Acked(s.revision, key, r.status == 201 ? "create" : "update");
  }

  void SharedPut() {
    const std::string key = "shared/s" + std::to_string(rng_() % kSharedKeys);
    int64_t ttl = 100 + static_cast<int64_t>(rng_() % 1900);
    Reply r = Call(kSharedPut, "PUT", "/v1/kv/" + key + "?ttl=" + std::to_string(ttl) + "ms",
                   SharedValue(id_, ++seq_, 8 + rng_() % 500));
    if (r.status == 0) return;
    if (r.status != 200 && r.status != 201) {
      return Bad(kSharedPut, "status " + std::to_string(r.status));
    }
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("revision")) return Bad(kSharedPut, "bad answer: " + r.body);
    Acked(j["revision"].get<uint64_t>(), key, r.status == 201 ? "create" : "update");
  }

  void SharedGet() {
    const std::string key = "shared/s" + std::to_string(rng_() % kSharedKeys);
    Reply r = Call(kSharedGet, "GET", "/v1/kv/" + key, "");
    if (r.status == 0) return;
    if (r.status == 404) return Expected("shared get: 404 (expired or not written yet)");
    if (r.status != 200) return Bad(kSharedGet, "status " + std::to_string(r.status));
    if (!WellFormedShared(r.body)) Bad(kSharedGet, "torn or foreign value: " + r.body.substr(0, 80));
  }

  void SharedIncr() {
    Reply r = Call(kSharedIncr, "POST", "/v1/kv/shared/n/incr", "");
    if (r.status == 0) return;
    if (r.status != 200 && r.status != 201) {
      return Bad(kSharedIncr, "status " + std::to_string(r.status));
    }
    if (std::strtoll(r.body.c_str(), nullptr, 10) <= 0) return Bad(kSharedIncr, "count " + r.body);
    ++shared_incrs_;
    Acked(RevisionOf(r), "shared/n", r.status == 201 ? "create" : "update");
  }

  const int id_;
  const std::string prefix_;
  Client c_;
  std::mt19937_64 rng_;
  uint64_t seq_ = 0;
  int64_t t0_ = 0, t1_ = 0;  // Unix ms around the last request
  std::array<Slot, kSlots> slots_;
  std::array<Doc, kDocs> docs_;
  int64_t counter_ = 0;
  int64_t shared_incrs_ = 0;
  std::array<Latencies, kOps> latencies_;
  std::map<std::string, uint64_t> expected_;
  std::map<std::string, uint64_t> unexpected_;
  std::vector<std::string> first_errors_;
  std::vector<Ack> acks_;
};

// A watch stream from `since`, reconnecting from the last revision it saw
// (every `resume_every`, and whenever the connection ends), until it has
// seen `target` (set once the workers are done).
class Watcher {
 public:
  Watcher(std::string name, Client client, uint64_t since, Steady::duration resume_every)
      : name_(std::move(name)), c_(std::move(client)), base_(since), last_(since),
        resume_every_(resume_every) {}

  void Run(const std::atomic<uint64_t>& target, Steady::time_point give_up) {
    while (!done_ && Steady::now() < give_up) {
      auto start = Steady::now();
      Reply r = c_.Stream("/v1/watch?since=" + std::to_string(last_), [&](const Json& e) {
        return OnEvent(e, target, start);
      });
      if (r.status != 200 && r.status != 0) Error("watch answered " + std::to_string(r.status) + " " + r.body);
      ++connections_;
      if (!done_) {
        uint64_t t = target.load();
        done_ = t != 0 && last_ >= t;
      }
    }
    if (!done_) Error("did not reach the end of the load before the deadline");
    finished_ = true;
  }

  bool finished() const { return finished_.load(); }

  // Whether the watcher saw this change, as this change.
  bool Saw(const Ack& a) const {
    if (a.revision <= base_) return true;  // before it started
    size_t i = a.revision - base_;
    return i < seen_.size() && seen_[i] == a.hash;
  }

  const std::string& name() const { return name_; }
  uint64_t events() const { return events_; }
  const std::map<std::string, uint64_t>& by_type() const { return by_type_; }
  int connections() const { return connections_; }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  bool OnEvent(const Json& e, const std::atomic<uint64_t>& target, Steady::time_point start) {
    if (!e.is_object() || !e.contains("revision") || !e.contains("key")) {
      Error("not an event: " + e.dump());
      return false;
    }
    uint64_t rev = e["revision"].get<uint64_t>();
    if (rev <= last_) {
      Error("revision " + std::to_string(rev) + " after " + std::to_string(last_));
      return false;
    }
    last_ = rev;
    ++events_;
    std::string type = e.value("type", "");
    ++by_type_[type];
    size_t i = rev - base_;
    if (seen_.size() <= i) seen_.resize(std::max(i + 1, seen_.size() * 2));
    seen_[i] = EventHash(e["key"].get<std::string>(), type);
    uint64_t t = target.load();
    if (t != 0 && last_ >= t) {
      done_ = true;
      return false;
    }
    return Steady::now() - start < resume_every_;
  }

  void Error(const std::string& what) {
    if (errors_.size() < 10) errors_.push_back(name_ + ": " + what);
  }

  const std::string name_;
  Client c_;
  const uint64_t base_;
  uint64_t last_;
  const Steady::duration resume_every_;
  bool done_ = false;
  std::atomic<bool> finished_{false};
  std::vector<uint32_t> seen_;  // by revision - base_
  uint64_t events_ = 0;
  std::map<std::string, uint64_t> by_type_;
  int connections_ = 0;
  std::vector<std::string> errors_;
};

struct MemorySample {
  double seconds;
  uint64_t rss;
  uint64_t memtables;
  uint64_t block_cache;
  uint64_t table_readers;
};

// kvd's memory, flat once what is expected to grow is counted out: at every
// sample, kvd's RSS stays within its RSS before the load (the first sample)
// plus the high-water marks so far of what RocksDB fills as it warms up
// (memtables: 64 MiB per column family before a flush, and memory a flush
// frees is not always given back to the system, hence high-water marks; the
// block cache, at most 64 MiB; table readers, the indexes and filters of the
// files on disk, which grow with the event log) plus kAllowanceMiB for the
// rest (the allocator's slack, connection buffers, threads). In runs of 1 to
// 10 minutes that rest peaked at 20-35 MiB; a leak, or a spike malloc keeps
// (the usage merges' flush once made one of ~170 MiB), goes past it. The
// rest's maxima by thirds of the run are reported, not asserted: in a
// 1-minute run the first memtable flushes (after ~20 s) still move them.
constexpr double kAllowanceMiB = 64;

struct Flatness {
  bool flat = false;
  double baseline_mib = 0;  // RSS before the load
  double rest_max_mib = 0;  // RSS beyond baseline and RocksDB's high-water marks
  double middle_max_mib = 0, last_max_mib = 0;  // the same in the middle and last thirds
};

Flatness RssIsFlat(const std::vector<MemorySample>& samples) {
  Flatness f;
  const size_t n = samples.size();
  if (n < 3) return f;
  f.baseline_mib = MiB(samples.front().rss);
  std::vector<double> rest(n);
  uint64_t mem = 0, cache = 0, readers = 0;
  for (size_t i = 0; i < n; ++i) {
    mem = std::max(mem, samples[i].memtables);
    cache = std::max(cache, samples[i].block_cache);
    readers = std::max(readers, samples[i].table_readers);
    rest[i] = MiB(samples[i].rss) - MiB(mem + cache + readers) - f.baseline_mib;
  }
  f.rest_max_mib = *std::max_element(rest.begin(), rest.end());
  f.middle_max_mib = *std::max_element(rest.begin() + static_cast<long>(n / 3),
                                       rest.begin() + static_cast<long>(2 * n / 3));
  f.last_max_mib = *std::max_element(rest.begin() + static_cast<long>(2 * n / 3), rest.end());
  f.flat = f.rest_max_mib <= kAllowanceMiB;
  return f;
}

TEST_CASE("soak: mixed load from many connections, TTLs expiring throughout", "[load][soak]") {
  const long seconds = EnvInt("KV_SOAK_SECONDS", 60);
  const int tcp_connections = static_cast<int>(EnvInt("KV_SOAK_TCP_CONNECTIONS", 32));
  const int unix_connections = static_cast<int>(EnvInt("KV_SOAK_UNIX_CONNECTIONS", 8));
  TempDir dir("kv-soak");
  const std::string data = dir.Sub("data");
  // KV_SOAK_KVD_ENV="NAME=VALUE;...": more environment for kvd (an allocator
  // setting, a profiler's preload).
  std::vector<std::string> kvd_env;
  if (const char* extra = std::getenv("KV_SOAK_KVD_ENV")) {
    std::string all = extra;
    for (size_t start = 0, end; start < all.size(); start = end + 1) {
      end = all.find(';', start);
      if (end == std::string::npos) end = all.size();
      if (end > start) kvd_env.push_back(all.substr(start, end - start));
    }
  }
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", data, "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0"},
                    kvd_env));
  const std::string base = "http://127.0.0.1:" + std::to_string(kvd.tcp_port());

  // TCP clients act as the socket's tenant, so one namespace sees all changes.
  Client admin = Client::Unix(kvd.unix_socket());
  Reply token = admin.Call("POST", "/v1/admin/tokens", R"({"tenant":"local"})",
                           {{"Content-Type", "application/json"}});
  REQUIRE(token.status == 201);
  const std::string secret = token.JsonBody()["token"].get<std::string>();
  Reply stats = admin.Call("GET", "/v1/stats");
  REQUIRE(stats.status == 200);
  const uint64_t start_revision = stats.JsonBody()["revision"].get<uint64_t>();

  const uint64_t seed = std::random_device{}();
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < tcp_connections + unix_connections; ++i) {
    Client c = i < tcp_connections ? Client::Tcp(base, secret) : Client::Unix(kvd.unix_socket());
    workers.push_back(std::make_unique<Worker>(i, std::move(c), seed + static_cast<uint64_t>(i)));
  }
  std::vector<std::unique_ptr<Watcher>> watchers;
  watchers.push_back(std::make_unique<Watcher>("watch (socket)", Client::Unix(kvd.unix_socket()),
                                               start_revision, std::chrono::hours(1)));
  watchers.push_back(std::make_unique<Watcher>("watch (tcp, resuming every 2 s)",
                                               Client::Tcp(base, secret), start_revision, 2s));

  const auto start = Steady::now();
  const auto until = start + std::chrono::seconds(seconds);
  const auto give_up = until + 120s;
  std::atomic<uint64_t> target{0};
  std::atomic<bool> sampling{true};
  std::vector<MemorySample> memory;
  std::thread sampler([&] {
    Client m = Client::Unix(kvd.unix_socket());
    while (sampling.load()) {
      MemorySample s{};
      s.seconds = std::chrono::duration<double>(Steady::now() - start).count();
      s.rss = RssBytes(kvd.pid());
      Reply r = m.Call("GET", "/metrics");
      s.memtables = MetricValue(r.body, "kvd_rocksdb_memory_bytes{part=\"memtables\"}");
      s.block_cache = MetricValue(r.body, "kvd_rocksdb_memory_bytes{part=\"block_cache\"}");
      s.table_readers = MetricValue(r.body, "kvd_rocksdb_memory_bytes{part=\"table_readers\"}");
      memory.push_back(s);
      for (int i = 0; i < 10 && sampling.load(); ++i) std::this_thread::sleep_for(100ms);
    }
  });
  std::vector<std::thread> threads;
  for (auto& w : watchers) threads.emplace_back([&, w = w.get()] { w->Run(target, give_up); });
  const size_t watcher_threads = threads.size();
  for (auto& w : workers) threads.emplace_back([&, w = w.get()] { w->Run(until); });
  for (size_t i = watcher_threads; i < threads.size(); ++i) threads[i].join();
  const double load_seconds = std::chrono::duration<double>(Steady::now() - start).count();

  for (auto& w : workers) w->Verify();
  // Writes past every acknowledged one, until both watchers have seen them.
  int sentinels = 0;
  auto watching = [&] {
    for (auto& w : watchers) {
      if (!w->finished()) return true;
    }
    return false;
  };
  bool sentinel_failed = false;
  while (watching() && Steady::now() < give_up) {
    Reply r = admin.Call("PUT", "/v1/kv/soak-end", std::to_string(++sentinels));
    uint64_t none = 0;
    if (r.status != 200 && r.status != 201) {
      sentinel_failed = true;  // the watchers stop at their next event
      target.compare_exchange_strong(none, 1);
      break;
    }
    target.compare_exchange_strong(none, RevisionOf(r));
    std::this_thread::sleep_for(200ms);
  }
  for (size_t i = 0; i < watcher_threads; ++i) threads[i].join();
  sampling = false;
  sampler.join();

  Reply shared = admin.Call("GET", "/v1/kv/shared/n");
  int64_t shared_incrs = 0;
  for (auto& w : workers) shared_incrs += w->shared_incrs();
  const int64_t shared_count = shared.status == 404 ? 0 : std::strtoll(shared.body.c_str(), nullptr, 10);

  // Every acknowledged write, seen by every watcher as that write.
  uint64_t acks = 0;
  std::vector<uint64_t> missing(watchers.size());
  std::string first_missing;
  for (auto& w : workers) {
    for (const Ack& a : w->acks()) {
      ++acks;
      for (size_t i = 0; i < watchers.size(); ++i) {
        if (!watchers[i]->Saw(a)) {
          ++missing[i];
          if (first_missing.empty()) first_missing = "revision " + std::to_string(a.revision);
        }
      }
    }
  }

  std::array<Latencies, kOps> by_op;
  Latencies all;
  std::map<std::string, uint64_t> expected, unexpected;
  std::vector<std::string> errors;
  for (auto& w : workers) {
    for (int op = 0; op < kOps; ++op) {
      by_op[op].Merge(w->latencies(op));
      all.Merge(w->latencies(op));
    }
    for (const auto& [k, v] : w->expected()) expected[k] += v;
    for (const auto& [k, v] : w->unexpected()) unexpected[k] += v;
    for (const auto& e : w->first_errors()) {
      if (errors.size() < 20) errors.push_back(e);
    }
  }
  for (auto& w : watchers) {
    for (const auto& e : w->errors()) errors.push_back(e);
  }
  uint64_t unexpected_total = 0;
  for (const auto& [k, v] : unexpected) unexpected_total += v;

  Flatness flat = RssIsFlat(memory);
  uint64_t rss_max = 0, mem_max = 0, cache_max = 0, readers_max = 0;
  for (const auto& s : memory) {
    rss_max = std::max(rss_max, s.rss);
    mem_max = std::max(mem_max, s.memtables);
    cache_max = std::max(cache_max, s.block_cache);
    readers_max = std::max(readers_max, s.table_readers);
  }

  if (const char* csv = std::getenv("KV_SOAK_MEMORY_CSV")) {
    if (FILE* f = std::fopen(csv, "w")) {
      std::fprintf(f, "seconds,rss,memtables,block_cache,table_readers\n");
      for (const auto& m : memory) {
        std::fprintf(f, "%.1f,%llu,%llu,%llu,%llu\n", m.seconds,
                     static_cast<unsigned long long>(m.rss), static_cast<unsigned long long>(m.memtables),
                     static_cast<unsigned long long>(m.block_cache),
                     static_cast<unsigned long long>(m.table_readers));
      }
      std::fclose(f);
    }
  }

  kvd.Signal(SIGTERM);
  const auto exit_code = kvd.Wait(60s);
  auto check = RunKvd({"check", "--data-dir", data}, {}, 300s);

  std::printf("\nsoak: %.0f s, %d TCP + %d Unix socket connections, 2 watch streams (seed %llu)\n",
              load_seconds, tcp_connections, unix_connections,
              static_cast<unsigned long long>(seed));
  PrintLatencyHeader();
  for (int op = 0; op < kOps; ++op) PrintLatencyRow(kOpNames[op], by_op[op], load_seconds);
  PrintLatencyRow("all", all, load_seconds);
  std::printf("  expected answers:\n");
  for (const auto& [k, v] : expected) std::printf("    %-48s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  std::printf("  unexpected answers: %llu\n", static_cast<unsigned long long>(unexpected_total));
  for (const auto& [k, v] : unexpected) std::printf("    %-48s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  for (const auto& e : errors) std::printf("    %s\n", e.c_str());
  for (size_t i = 0; i < watchers.size(); ++i) {
    std::string types;
    for (const auto& [t, n] : watchers[i]->by_type()) types += " " + t + " " + std::to_string(n);
    std::printf("  %s: %llu events (%s ), %d connections, missed %llu of %llu acknowledged writes\n",
                watchers[i]->name().c_str(), static_cast<unsigned long long>(watchers[i]->events()),
                types.c_str(), watchers[i]->connections(), static_cast<unsigned long long>(missing[i]),
                static_cast<unsigned long long>(acks));
  }
  std::printf("  shared counter: %lld after %lld acknowledged incrs\n",
              static_cast<long long>(shared_count), static_cast<long long>(shared_incrs));
  std::printf("  kvd RSS: %.0f MiB at start, %.0f MiB max, %.0f MiB at the end; RocksDB max: "
              "memtables %.0f MiB, block cache %.0f MiB, table readers %.1f MiB\n",
              memory.empty() ? 0.0 : MiB(memory.front().rss), MiB(rss_max),
              memory.empty() ? 0.0 : MiB(memory.back().rss), MiB(mem_max), MiB(cache_max),
              MiB(readers_max));
  std::printf("  RSS beyond its %.0f MiB at start and RocksDB's high-water marks: at most "
              "%.1f MiB (allowed %.0f): %s; middle third %.1f, last third %.1f\n",
              flat.baseline_mib, flat.rest_max_mib, kAllowanceMiB,
              flat.flat ? "flat" : "GROWING", flat.middle_max_mib, flat.last_max_mib);
  std::printf("  RSS every 10 s (MiB):");
  for (size_t i = 0; i < memory.size(); i += 10) std::printf(" %.0f", MiB(memory[i].rss));
  std::printf("\n  kvd check: %s", check.err.c_str());
  std::fflush(stdout);

  INFO("first errors:\n" << [&] {
    std::string s;
    for (const auto& e : errors) s += e + "\n";
    return s;
  }());
  CHECK_FALSE(sentinel_failed);
  CHECK(all.count() > 0);
  CHECK(unexpected_total == 0);
  for (size_t i = 0; i < watchers.size(); ++i) {
    INFO(watchers[i]->name() << " first missing: " << first_missing);
    CHECK(watchers[i]->errors().empty());
    CHECK(missing[i] == 0);
  }
  CHECK(watchers[0]->by_type().count("expire") == 1);  // keys expired during the run
  CHECK(shared_count == shared_incrs);
  CHECK(mem_max > 0);  // /metrics reports RocksDB's memory
  if (!kAddressSanitizer) CHECK(flat.flat);  // LeakSanitizer's check at exit instead
  CHECK(exit_code == 0);
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.err.find("consistent") != std::string::npos);
}

}  // namespace
}  // namespace kv::load
