// EtcdBackend: an etcd v3 cluster through its JSON gateway (POST /v3/...,
// base64 keys and values), over libcurl; no gRPC. Keys are laid out exactly
// as simple-golang-kv lays them out, so kv and a simple-golang-kv deployment
// read and write the same data:
//
//   /{prefix}/kv/{namespace}/{app}/{key}  ->  the value's raw bytes
//
// with prefix "kvstore" by default (simple-golang-kv's BASE_KEY_PREFIX). No
// envelope: etcd keeps no content type (one is inferred on reading: JSON
// when the value parses as JSON, else application/octet-stream) and no
// timestamps.
//
// How each operation maps to etcd:
//   get, meta, has   range on the key; a key with a lease reads its remaining
//                    TTL from /v3/lease/timetolive (whole seconds)
//   set              put; with a TTL: grant a lease (whole seconds, rounded
//                    up, at least etcd's minimum) and put with it; --keep-ttl
//                    puts with ignore_lease. ETag = the key's mod_revision;
//                    If-Match is a txn comparing MOD, --if-absent compares
//                    CREATE = 0, --if-exists CREATE > 0.
//   import (SetMany) txns of up to 128 puts; keys with the same TTL (in
//                    seconds) share one lease; conditional writes go alone
//   del              deleterange, or a txn when there is a condition
//   ls               range [prefix, prefix successor) with limit; the cursor
//                    is the last key of the page; values are always fetched
//                    (etcd has no size without them)
//   incr, patch      txn retry loops comparing the mod_revision read
//   expire, persist  put with ignore_value and a new lease / no lease, in a
//                    txn comparing the mod_revision read
//   clear            deleterange over the scope's prefix
//   stats            count_only range (bytes are not counted)
//   watch            /v3/watch stream over the prefix; --since N starts at
//                    revision N+1; PUT with version 1 is "create", other PUTs
//                    "update", DELETE "delete" (lease expiry included: etcd
//                    does not tell them apart). --no-follow watches the
//                    whole keyspace up to the revision current when the
//                    watch started, so it knows where the replay ends.
// Not supported (Unsupported, "etcd does not support ..."): ls --where and
// token administration.
//
// Endpoints: etcd://h1:2379,h2:2379 tries them in order and stays on the one
// that answers. A request that could not connect goes to the next endpoint;
// reads (range, timetolive) and unconditional puts also move on when the
// connection broke or the member is without a leader or timed out waiting
// for one (the same put twice leaves the same value; a watcher may see it
// twice); other writes (txns with a compare, deletes) whose request may have
// arrived are not sent twice, except after "no leader", which etcd answers
// before proposing anything. Those retries go on for up to the timeout. A watch whose stream breaks resumes on the next endpoint from the
// revision after the last event it delivered.
//
// Auth: with a user name, POST /v3/auth/authenticate once, then the token in
// the Authorization header; an expired token is renewed once per request.
//
// Ownership: the backend owns its HTTP clients (one per endpoint, made on
// first use). Thread-safety: one thread at a time (Backend's contract).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/backend.h"
#include "common/status.h"

namespace kv::client {

struct EtcdOptions {
  // "host:port" each, tried in this order. REQUIRES: not empty.
  std::vector<std::string> endpoints;
  // https (etcds://) instead of http.
  bool tls = false;
  // PEM files for TLS (see CurlOptions). Empty: the system's CAs, no client
  // certificate.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // etcd user and password; empty user: no authentication.
  std::string username;
  std::string password;
  // The first path segment of every key. Default: "kvstore".
  std::string prefix = "kvstore";
  // Per request (see CurlOptions::timeout_ms). Default: 10 s.
  int64_t timeout_ms = 10'000;
  Scope scope;
  // Polled while waiting (Ctrl-C in kv's shell). Empty: nothing interrupts.
  std::function<bool()> interrupted;
};

// Parses "etcd://h1[:port],h2[:port][/][?prefix=P]" (and etcds://) into
// endpoints (default port 2379), tls and prefix. InvalidArgument otherwise.
Status ParseEtcdUrl(std::string_view url, EtcdOptions* options);

std::unique_ptr<Backend> NewEtcdBackend(EtcdOptions options);

}  // namespace kv::client
