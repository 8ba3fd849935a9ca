// The store's webhook records: definitions and delivery progress in their
// own column family, and the event log kept for webhooks that are behind.
#include <catch2/catch.hpp>

#include "tests/daemon/store/store_fixture.h"

namespace kv::store::testing {
namespace {

TEST_CASE("webhooks: created, read, listed, updated and deleted with their progress",
          "[rocksdb]") {
  StoreFixture f;
  f.Set("a", "1");
  f.Set("b", "2");
  const uint64_t before = f.store->CommittedRevision();

  REQUIRE(f.store->PutWebhook("t/ns/app", "id1", R"({"v":1})", true).ok());
  REQUIRE(f.store->PutWebhook("t/ns/app", "id2", R"({"v":2})", true).ok());
  REQUIRE(f.store->PutWebhook("t/other/app", "id3", R"({"v":3})", true).ok());
  CHECK(f.store->PutWebhook("t/ns/app", "id1", "{}", true).IsPreconditionFailed());
  CHECK(f.store->PutWebhook("t/ns/app", "nope", "{}", false).IsNotFound());

  auto w = f.store->GetWebhook("t/ns/app", "id1");
  REQUIRE(w.ok());
  CHECK(w->definition == R"({"v":1})");
  CHECK(w->progress.cursor == before);  // it sees only what comes after it
  CHECK(w->progress.delivered == 0);

  auto ns = f.store->ListWebhooks("t/ns/app");
  REQUIRE(ns.ok());
  REQUIRE(ns->size() == 2);
  CHECK((*ns)[0].id == "id1");
  CHECK((*ns)[1].id == "id2");
  auto all = f.store->ListWebhooks("");
  REQUIRE(all.ok());
  CHECK(all->size() == 3);

  WebhookProgress p;
  p.cursor = before + 5;
  p.delivered = 3;
  p.attempts = 2;
  p.last_status = 503;
  p.last_error = "HTTP 503";
  REQUIRE(f.store->SaveWebhookProgress("t/ns/app", "id1", p).ok());
  REQUIRE(f.store->PutWebhook("t/ns/app", "id1", R"({"v":10})", false).ok());  // keeps progress

  f.Reopen();
  w = f.store->GetWebhook("t/ns/app", "id1");
  REQUIRE(w.ok());
  CHECK(w->definition == R"({"v":10})");
  CHECK(w->progress.cursor == before + 5);
  CHECK(w->progress.delivered == 3);
  CHECK(w->progress.attempts == 2);
  CHECK(w->progress.last_status == 503);
  CHECK(w->progress.last_error == "HTTP 503");

  REQUIRE(f.store->DeleteWebhook("t/ns/app", "id1").ok());
  CHECK(f.store->GetWebhook("t/ns/app", "id1").status().IsNotFound());
  CHECK(f.store->DeleteWebhook("t/ns/app", "id1").IsNotFound());
  // A dispatcher that saves after the delete does not bring it back.
  CHECK(f.store->SaveWebhookProgress("t/ns/app", "id1", p).IsNotFound());
  CHECK(f.store->ListWebhooks("t/ns/app")->size() == 1);
}

TEST_CASE("webhooks: the event log keeps what a webhook has not dealt with, up to the backlog limit",
          "[rocksdb]") {
  StoreFixture f;
  StoreOptions o = f.Options();
  o.event_retention_ms = 1000;
  o.webhook_backlog_ms = 60000;
  f.Reopen(o);
  REQUIRE(f.store->PutWebhook("t/ns/app", "w", "{}", true).ok());
  const uint64_t cursor = f.store->CommittedRevision();
  for (int i = 0; i < 5; ++i) f.Set("k" + std::to_string(i), "v");

  f.clock->Advance(5000);  // past the retention window, within the backlog limit
  REQUIRE(f.store->ExpireDue().ok());
  auto events = f.store->ReadEvents(cursor, 100);
  REQUIRE(events.ok());
  CHECK(events->size() == 5);

  // Once the webhook has dealt with three, those may go.
  WebhookProgress p;
  p.cursor = cursor + 3;
  REQUIRE(f.store->SaveWebhookProgress("t/ns/app", "w", p).ok());
  f.clock->Advance(2000);
  REQUIRE(f.store->ExpireDue().ok());
  CHECK(f.store->ReadEvents(cursor, 100).status().IsOutOfRange());
  events = f.store->ReadEvents(cursor + 3, 100);
  REQUIRE(events.ok());
  CHECK(events->size() == 2);

  // Past the backlog limit they are trimmed anyway, and reading says so.
  f.clock->Advance(120000);
  f.Set("later", "v");  // the newest event always stays
  REQUIRE(f.store->ExpireDue().ok());
  CHECK(f.store->ReadEvents(cursor + 3, 100).status().IsOutOfRange());
}

}  // namespace
}  // namespace kv::store::testing
