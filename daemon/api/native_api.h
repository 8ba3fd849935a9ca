// NativeApi: kvd's own HTTP API, mounted at /v1 and at /api/v1 (the path the
// real keyvalue.dev serves). Its /kv/{key} routes are the keyvalue.dev API;
// the rest are the extensions `kv` needs. kvd(8) and the README are written
// from this comment: keep it exact.
//
// CONVENTIONS
//   Auth        See router.h: Unix socket = tenant "local" + admin; TCP needs
//               `Authorization: Bearer kv_...` (401 + WWW-Authenticate: Bearer).
//               A tenant sees only its own namespaces; another tenant's keys
//               are simply not there (404), never 403.
//   Namespace   `KV-Namespace: NS` and `KV-App-Name: APP` headers, or the
//               query parameters `?ns=NS&app=APP` (the query wins); empty or
//               absent = "default". Names: 1..64 of [A-Za-z0-9._-], else 400.
//   Keys        {key} is the rest of the path, percent-decoded: 1..1024 bytes
//               (--max-key-bytes), any bytes but NUL, '/' allowed. Clients
//               should send '/' in keys as %2F: a raw path ending in
//               /meta (GET) or /incr, /decr, /expire, /persist (POST) names the
//               action route, so key "a/meta" must be read as GET /v1/kv/a%2Fmeta.
//               Too long: 400 KEY_TOO_LONG; empty or NUL or bad %-escape: 400.
//   ETag        Strong and quoted in headers, `ETag: "7"`, where 7 is the
//               key's revision (one counter for the whole store; every write
//               gets the next value). JSON bodies carry it unquoted, "etag":"7",
//               plus "revision":7 as a number.
//   Conditions  On every write (PUT, PATCH, DELETE, incr/decr, expire, persist),
//               at most one of (else 400):
//                 If-Match: "7"     the key exists with ETag "7" (quotes and
//                                   W/ optional); 412 otherwise, also when missing
//                 If-Match: *       the key exists
//                 If-None-Match: *  the key does not exist (create only)
//                 KV-If-Exists: 1   the key exists (update only)
//               Checked atomically with the write: of N concurrent writers
//               with the same If-Match, exactly one wins. Failure: 412
//               PRECONDITION_FAILED, nothing written. (On PUT, an If-None-Match
//               other than * is ignored, as keyvalue.dev does.)
//   TTL         `?ttl=DURATION` or `KV-TTL: DURATION`: 500ms, 30s, 5m, 1h, 7d,
//               1h30m, a bare number = seconds; millisecond precision. Bad
//               or zero: 400. An expired key is gone for every read at once.
//   Values      In JSON listings and events, a value is embedded as JSON when
//               its content type is JSON (application/json, */*+json) and it
//               parses ("encoding":"json"), else as a string when it is valid
//               UTF-8 ("encoding":"text"), else base64 ("encoding":"base64").
//               Embedded JSON is the value's own text, never re-serialized
//               (member order and numbers as stored; a value that spans lines
//               loses only the whitespace between its tokens). values=bytes
//               gives every value as its exact bytes (text or base64).
//               A key that is not valid UTF-8 is given in base64 with
//               "key_encoding":"base64".
//   Errors      Every error is JSON: {"error":"...","code":"WORD","status":N}
//               (codes in errors.h), except HEAD, which never has a body.
//               Bad input changes nothing.
//
// KEYVALUE.DEV API
//   PUT /v1/kv/{key}            body = the value (<= 10 MiB, --max-value-bytes)
//     Headers in: Content-Type (stored; default application/octet-stream),
//       conditions, KV-TTL / ?ttl=, `KV-Keep-TTL: 1` / ?keep_ttl=1 (keep the
//       key's current TTL; with a TTL: 400). Without either, a PUT removes a TTL.
//     201 when the key was created (missing or expired before), 200 when
//       updated. Body {"success":true,"etag":"7","revision":7,"created":true,
//       "expire_at_ms":1700000030000|null}; headers ETag, KV-Revision,
//       KV-Expires-At (when a TTL is set).
//     400 KEY_TOO_LONG / BAD_REQUEST, 412 PRECONDITION_FAILED,
//     413 OBJECT_TOO_LARGE, 413 QUOTA_EXCEEDED, 507 INSUFFICIENT_STORAGE.
//     (The real keyvalue.dev answers 200 to every PUT without If-None-Match;
//     kvd answers 201 for a creation, as its README documents.)
//   GET /v1/kv/{key}
//     200, body = the value; headers Content-Type (stored), ETag,
//       Last-Modified (HTTP date of the last write), X-Created-At (ISO 8601,
//       creation), KV-Revision, KV-Created-Revision, and when the key has a
//       TTL: KV-Expires-At (Unix ms) and KV-TTL-Ms (remaining ms).
//     304 (no body) when If-None-Match lists the current ETag (or is *).
//     404 NOT_FOUND {"error":"Key not found",...}.
//   HEAD /v1/kv/{key}
//     As GET without the body; Content-Length is the value's size.
//     404 with no body when missing.
//   DELETE /v1/kv/{key}
//     204 (empty; KV-Revision = the revision of the delete). 404 NOT_FOUND
//     when missing (as keyvalue.dev). Conditions apply.
//
// EXTENSIONS
//   PATCH /v1/kv/{key}   JSON merge patch (RFC 7396), atomic
//     Content-Type: application/merge-patch+json (application/json accepted;
//     else 415 UNSUPPORTED_MEDIA_TYPE). Body: the patch; not JSON: 400.
//     A missing key counts as {}. Keeps the TTL. 201 (created) / 200, body =
//     the merged document (application/json), ETag, KV-Revision.
//     409 TYPE_MISMATCH: the stored value is not a JSON object.
//   POST /v1/kv/{key}/incr   POST /v1/kv/{key}/decr      atomic
//     The amount: ?by=N, or the body: N or {"by":N}; default 1. A missing key
//     counts as 0. Keeps the TTL. 201 (created) / 200, body = the new value
//     as decimal text (a JSON number), ETag, KV-Revision.
//     400: bad amount. 409 TYPE_MISMATCH: the value is not a 64-bit integer,
//     or the result would overflow.
//   POST /v1/kv/{key}/expire
//     The TTL: ?ttl=DURATION, KV-TTL: DURATION, or body {"ttl_ms":N} or
//     {"ttl":"30s"}; exactly one. 200, body = the key's metadata (below).
//     404 when missing.
//   POST /v1/kv/{key}/persist
//     Removes the TTL. 200, body = metadata. 404 when missing.
//   GET /v1/kv/{key}/meta
//     200 {"key":"k","namespace":"default","app":"default","etag":"7",
//          "revision":7,"create_revision":3,"size":12,
//          "content_type":"application/json","created_ms":...,"updated_ms":...,
//          "expire_at_ms":N|null,"ttl_ms":N|null}      (ms are Unix ms)
//     404 when missing.
//   GET /v1/keys?prefix=P&contains=S&limit=N&cursor=C&values=1|bytes&where=PATH=VALUE
//     Keys of the namespace starting with P (and holding S anywhere, ASCII
//     letters matching either case), in byte order, a page at a time:
//     limit 1..10000 (default 1000); cursor = a previous next_cursor.
//     200 {"keys":[{"key":"k","etag":"7","revision":7,"size":12,
//                   "content_type":"...","updated_ms":...,"expire_at_ms":N|null,
//                   "value":...,"encoding":"json|text|base64"   (values=1|bytes)
//                  }],
//          "next_cursor":"..."|null}
//     A page may be short, even empty, with a cursor: go on while
//     next_cursor is not null. With values, a page ends once it holds
//     store::kListPageValueBytes (4 MiB) of them. where (repeatable, all must hold): PATH is a
//     dotted path into the JSON value (array elements by index: items.0.id;
//     empty PATH = the whole value); VALUE is compared as JSON when it
//     parses (42, true, "x", {"a":1}), else as a string (active). Keys whose
//     value is not JSON never match. 400: bad limit, cursor, values, where.
//   DELETE /v1/keys?confirm=1        (or header KV-Confirm: 1)
//     Deletes every key of the namespace. 200 {"deleted":N}.
//     Without confirm: 400 CONFIRMATION_REQUIRED.
//   DELETE /v1/keys?prefix=P         (P not empty: no confirmation)
//     Deletes the keys starting with P, each with its event, a batch at a
//     time (not atomic). 200 {"deleted":N}.
//   POST /v1/batch      several PUTs in one write (bulk import)
//     Body: NDJSON (application/x-ndjson), one item per line, at most 10000:
//       {"key":"k","value":"...","encoding":"text|base64","content_type":"...",
//        "ttl_ms":N,"if_absent":true|"if_exists":true|"if_match":"7"}
//     ("key_encoding":"base64" for a key that is not UTF-8; encoding defaults
//     to text; content_type to application/octet-stream). Items are checked
//     one by one (key, condition); those that pass are written together in
//     one atomic batch, in order. 200 {"written":N,"failed":M,
//     "errors":[{"index":i,"key":"k","status":412,"code":"PRECONDITION_FAILED",
//     "error":"..."}]}. 400: a line that is not such an object (nothing
//     written); 413 QUOTA_EXCEEDED: the passing items together exceed the
//     quota (nothing written). Body limit: --max-value-bytes.
//   GET /v1/stats
//     200 {"namespace":"default","app":"default","keys":N,"bytes":N,
//          "quota_bytes":N,"revision":N}   bytes = keys plus values;
//     revision = the store's latest committed revision.
//   GET /v1/namespaces      (?all=1 on the Unix socket: every tenant's)
//     200 {"namespaces":[{"tenant":"local","namespace":"default",
//          "app":"default","keys":N,"bytes":N,"quota_bytes":N}]}
//   GET /v1/watch?prefix=P&since=REV&follow=0&values=1|0|bytes
//     200, Content-Type: application/x-ndjson, streamed: one JSON object per
//     line per change in the namespace whose key starts with P:
//       {"revision":12,"type":"create|update|delete|expire","key":"k",
//        "namespace":"default","app":"default","time_ms":...,"size":N,
//        "content_type":"...","expire_at_ms":N|null,
//        "value":...,"encoding":"json|text|base64"}
//     (value: the new value for create/update, the last value for
//     delete/expire; absent when larger than the event value limit, or with
//     values=0; values=bytes as in listings.)
//     since: replay the changes after revision REV first (default: the
//     current revision, i.e. only new changes); the response header
//     KV-Revision is where the stream starts. follow=0 ends the stream after
//     the replay. 410 REVISION_GONE when events after REV were trimmed from
//     the event log already; if that happens while streaming, the last line
//     is a JSON error object. The stream ends when the client goes away.
//
// TOKEN ADMINISTRATION (Unix socket only; over TCP 403 FORBIDDEN)
//   POST /v1/admin/tokens  {"tenant":"acme"}
//     201 {"id":"3f9a0c1d2b4e5f60","tenant":"acme","created_ms":...,
//          "token":"kv_..."}   the only time the token is shown.
//     400: bad JSON or tenant name.
//   GET /v1/admin/tokens
//     200 {"tokens":[{"id":"...","tenant":"acme","created_ms":...}]}
//   DELETE /v1/admin/tokens/{id}
//     204; 404 when no such token. The token stops working at once.
//
// BACKUP (Unix socket only; over TCP 403 FORBIDDEN)
//   POST /v1/admin/backup  {"dir":"/absolute/new/dir"}
//     kvd creates DIR (mode 0700; its parent must exist) and writes into it
//     a data directory another kvd can be started on (--data-dir DIR): a
//     consistent copy of the database as of one moment (every tenant's
//     namespaces, TTLs, the event log, webhooks and their progress) in
//     DIR/db, and the tokens in DIR/tokens.json. It runs on the I/O thread
//     (about a memtable flush on the same filesystem; a full copy elsewhere).
//     201 {"dir":"..."}. 400: a relative or existing DIR, or a missing
//     parent; 507/500 when it could not be written (nothing is left).
//
// Any other path under /v1: 404 NOT_FOUND; a known path with another method:
// 405 METHOD_NOT_ALLOWED with an Allow header.
//
// Ownership: holds references to the store and the token store (see router.h).
// Thread-safety: Handle() may be called concurrently from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/api/namespace.h"
#include "daemon/api/router.h"
#include "daemon/auth/token_store.h"
#include "daemon/http/message.h"
#include "daemon/store/store.h"

namespace kv::daemon {

class NativeApi : public RouteTable {
 public:
  NativeApi(store::Store& store, auth::TokenStore& tokens, const ApiOptions& options);

  HttpResponse Handle(const HttpRequest& request, std::string_view rest,
                      const Caller& caller) override;

 private:
  HttpResponse HandleKey(const HttpRequest& request, std::string_view raw_key,
                         const Caller& caller);
  HttpResponse Put(const HttpRequest& request, const NamespaceRef& ns, const std::string& key);
  HttpResponse Get(const HttpRequest& request, const NamespaceRef& ns, const std::string& key,
                   bool head);
  HttpResponse Delete(const HttpRequest& request, const NamespaceRef& ns,
                      const std::string& key);
  HttpResponse Patch(const HttpRequest& request, const NamespaceRef& ns, const std::string& key);
  HttpResponse Incr(const HttpRequest& request, const NamespaceRef& ns, const std::string& key,
                    bool decrement);
  HttpResponse Expire(const HttpRequest& request, const NamespaceRef& ns,
                      const std::string& key);
  HttpResponse Persist(const HttpRequest& request, const NamespaceRef& ns,
                       const std::string& key);
  HttpResponse Meta(const NamespaceRef& ns, const std::string& key);

  HttpResponse ListKeys(const HttpRequest& request, const NamespaceRef& ns);
  HttpResponse Batch(const HttpRequest& request, const NamespaceRef& ns);  // batch_route.cc
  HttpResponse Clear(const HttpRequest& request, const NamespaceRef& ns);
  HttpResponse Stats(const NamespaceRef& ns);
  HttpResponse Namespaces(const HttpRequest& request, const Caller& caller);
  HttpResponse Watch(const HttpRequest& request, const NamespaceRef& ns);

  HttpResponse Tokens(const HttpRequest& request, std::string_view rest, const Caller& caller);
  HttpResponse Backup(const HttpRequest& request, const Caller& caller);

  store::Store& store_;
  auth::TokenStore& tokens_;
  const ApiOptions options_;
};

}  // namespace kv::daemon
