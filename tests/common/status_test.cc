#include "common/status.h"

#include <catch2/catch.hpp>

namespace kv {

TEST_CASE("Status carries a code and a one-line message", "[unit]") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "OK");
  Status nf = Status::NotFound("key not found");
  CHECK_FALSE(nf.ok());
  CHECK(nf.IsNotFound());
  CHECK(nf.message() == "key not found");
  CHECK(nf.ToString() == "not found: key not found");
  CHECK(Status::NoSpace("disk full").ToString() == "insufficient storage: disk full");
}

TEST_CASE("Result holds a value or the status saying why not", "[unit]") {
  Result<int> r = 42;
  REQUIRE(r.ok());
  CHECK(*r == 42);
  Result<int> e = Status::InvalidArgument("bad");
  CHECK_FALSE(e.ok());
  CHECK(e.status().IsInvalidArgument());
}

}  // namespace kv
