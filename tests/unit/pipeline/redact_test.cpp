// The one redactor: every form a target may echo a secret in is removed.
#include "pipeline/config.hpp"
#include "pipeline/redact.hpp"

#include <catch2/catch.hpp>

using namespace stampede;

namespace {
// A private redactor per test (the global one is shared by the process).
struct fresh {
  redactor r;
};
}  // namespace

TEST_CASE("redactor: raw, percent-encoded, form-encoded and JSON-escaped forms", "[redact]") {
  fresh f;
  f.r.add("s3cr3t/Value+x y\"z");
  const std::string in =
      "raw s3cr3t/Value+x y\"z | pct s3cr3t%2FValue%2Bx%20y%22z | lower s3cr3t%2fValue%2bx%20y%22z"
      " | form s3cr3t%2FValue%2Bx+y%22z | json s3cr3t/Value+x y\\\"z | json2 s3cr3t\\/Value+x y\\\"z";
  const std::string out = f.r.apply(in);
  INFO(out);
  CHECK(out ==
        "raw *** | pct *** | lower *** | form *** | json *** | json2 ***");
}

TEST_CASE("redactor: the bare key of a static header value, client id and secret", "[redact]") {
  fresh f;
  auth_config a;
  a.value = "Bearer K3y-abcdef";
  a.client_id = "portal-client";
  a.client_secret = "Cl13nt&S3cret";
  f.r.add(a);
  CHECK(f.r.apply("Authorization: Bearer K3y-abcdef") == "Authorization: ***");
  CHECK(f.r.apply("key K3y-abcdef rejected") == "key *** rejected");
  CHECK(f.r.apply("client_id=portal-client&client_secret=Cl13nt%26S3cret") ==
        "client_id=***&client_secret=***");
  std::string s = "nothing secret here";
  CHECK_FALSE(f.r.apply_in_place(s));
  CHECK(s == "nothing secret here");
}

TEST_CASE("redactor: tokens are kept up to max_tokens, newest first", "[redact]") {
  fresh f;
  for (int i = 0; i < 20; ++i) f.r.add_token("tok-" + std::to_string(1000 + i));
  CHECK(f.r.apply("tok-1019") == "***");
  CHECK(f.r.apply("tok-1004") == "***");  // the 16 newest: 1004..1019
  CHECK(f.r.apply("tok-1003") == "tok-1003");
}

TEST_CASE("redactor: short secrets are not matched alone, longest forms first", "[redact]") {
  fresh f;
  f.r.add("abc");
  CHECK(f.r.apply("abc abcd") == "abc abcd");
  f.r.add("abcd");
  f.r.add("abcdefgh");
  CHECK(f.r.apply("abcdefgh abcd") == "*** ***");
  f.r.clear();
  CHECK(f.r.apply("abcdefgh") == "abcdefgh");
}

TEST_CASE("redactor: the global one is shared", "[redact]") {
  redactor::global().add("gl0bal-secret-1");
  CHECK(redactor::global().apply("x gl0bal-secret-1 y") == "x *** y");
}
