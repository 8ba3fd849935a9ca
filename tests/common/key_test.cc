#include "common/key.h"

#include <catch2/catch.hpp>

namespace kv {

TEST_CASE("keys are 1..max bytes of anything but NUL", "[unit]") {
  CHECK(ValidateKey("user:1").ok());
  CHECK(ValidateKey("a/b c\xff").ok());
  CHECK(ValidateKey("").IsInvalidArgument());
  CHECK(ValidateKey(std::string("a\0b", 3)).IsInvalidArgument());
  CHECK(ValidateKey(std::string(1024, 'k')).ok());
  Status s = ValidateKey(std::string(1025, 'k'));
  CHECK(s.IsTooLarge());
  CHECK(s.message() == "key is 1025 bytes, over the limit of 1024");
  CHECK(ValidateKey("abcd", 3).IsTooLarge());
}

TEST_CASE("namespace names are letters, digits, dot, dash, underscore", "[unit]") {
  CHECK(ValidateName("default", "namespace").ok());
  CHECK(ValidateName("my-app_v1.2", "app name").ok());
  CHECK(ValidateName("", "namespace").message() == "namespace is empty");
  CHECK(ValidateName("a/b", "namespace").IsInvalidArgument());
  CHECK(ValidateName(std::string(65, 'a'), "namespace").IsInvalidArgument());
}

TEST_CASE("PrefixSuccessor bounds a prefix range", "[unit]") {
  CHECK(PrefixSuccessor("/app/") == "/app0");
  CHECK(PrefixSuccessor("a\xff\xff") == "b");
  CHECK(PrefixSuccessor("\xff").empty());
  CHECK(PrefixSuccessor("").empty());
}

}  // namespace kv
