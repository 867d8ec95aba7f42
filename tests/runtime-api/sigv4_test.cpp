// SigV4 pieces against AWS's published test suite (aws4_testsuite: key AKIDEXAMPLE, time
// 20150830T123600Z, region us-east-1, service `service`) and a Lambda-shaped request signed
// by botocore 1.43.11's SigV4Auth (docs/configuration.md#nodeauth).
#include "ember/runtime_api/sigv4.hpp"

#include <gtest/gtest.h>

#include "ember/runtime_api/hex.hpp"

namespace ember::runtime_api::sigv4 {
namespace {

constexpr std::string_view kKeyId = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kDate = "20150830T123600Z";
constexpr std::string_view kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string signature_of(const SignedRequest& request, std::string_view signed_headers,
                         std::string_view service) {
  auto canonical = canonical_request(request, signed_headers);
  EXPECT_TRUE(std::holds_alternative<std::string>(canonical));
  const std::string scope = "20150830/us-east-1/" + std::string(service) + "/aws4_request";
  return signature(signing_key(kSecret, "20150830", "us-east-1", service),
                   string_to_sign(kDate, scope, std::get<std::string>(canonical)));
}

TEST(SigV4TestSuite, GetVanilla) {
  const SignedRequest request{.method = "GET",
                              .target = "/",
                              .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}},
                              .payload_hash = kEmptyHash};
  const auto canonical = canonical_request(request, "host;x-amz-date");
  ASSERT_TRUE(std::holds_alternative<std::string>(canonical));
  EXPECT_EQ(std::get<std::string>(canonical),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(std::get<std::string>(canonical)),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(signature_of(request, "host;x-amz-date", "service"),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4TestSuite, PostXWwwFormUrlencodedSignsTheBodysHash) {
  const std::string body_hash = sha256_hex("Param1=value1");
  const SignedRequest request{.method = "POST",
                              .target = "/",
                              .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                                          {"Host", "example.amazonaws.com"},
                                          {"X-Amz-Date", kDate}},
                              .payload_hash = body_hash};
  EXPECT_EQ(request.payload_hash,
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(signature_of(request, "content-type;host;x-amz-date", "service"),
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4TestSuite, GetRelativeRelativeRemovesDotSegments) {
  EXPECT_EQ(canonical_uri("/example1/example2/../.."), "/");
  const SignedRequest request{.method = "GET",
                              .target = "/example1/example2/../..",
                              .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}},
                              .payload_hash = kEmptyHash};
  EXPECT_EQ(signature_of(request, "host;x-amz-date", "service"),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4TestSuite, GetVanillaQueryOrderSortsParameters) {
  EXPECT_EQ(canonical_query("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2");
  const SignedRequest request{.method = "GET",
                              .target = "/?Param2=value2&Param1=value1",
                              .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}},
                              .payload_hash = kEmptyHash};
  EXPECT_EQ(signature_of(request, "host;x-amz-date", "service"),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4TestSuite, GetHeaderValueTrimCollapsesBlanks) {
  const SignedRequest request{.method = "GET",
                              .target = "/",
                              .headers = {{"Host", "example.amazonaws.com"},
                                          {"My-Header1", " value1"},
                                          {"My-Header2", " \"a   b   c\""},
                                          {"X-Amz-Date", kDate}},
                              .payload_hash = kEmptyHash};
  const auto headers = canonical_headers(request.headers, "host;my-header1;my-header2;x-amz-date");
  ASSERT_TRUE(std::holds_alternative<std::string>(headers));
  EXPECT_EQ(std::get<std::string>(headers),
            "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
            "x-amz-date:20150830T123600Z\n");
  EXPECT_EQ(signature_of(request, "host;my-header1;my-header2;x-amz-date", "service"),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

// botocore encodes the FunctionName segment (':' -> %3A) and then, signing, encodes the
// path once more: `%3A` is signed as `%253A`.
TEST(SigV4Botocore, InvokeOfAQualifiedNameSignsThePathEncodedTwice) {
  EXPECT_EQ(canonical_uri("/2015-03-31/functions/my-function%3Aprod/invocations"),
            "/2015-03-31/functions/my-function%253Aprod/invocations");
  const std::string body_hash = sha256_hex(R"({"k":"v"})");
  const SignedRequest request{.method = "POST",
                              .target = "/2015-03-31/functions/my-function%3Aprod/invocations",
                              .headers = {{"Content-Type", "application/json"},
                                          {"Host", "lambda.us-east-1.amazonaws.com"},
                                          {"X-Amz-Date", kDate},
                                          {"X-Amz-Invocation-Type", "RequestResponse"}},
                              .payload_hash = body_hash};
  const std::string signed_headers = "content-type;host;x-amz-date;x-amz-invocation-type";
  const auto canonical = canonical_request(request, signed_headers);
  ASSERT_TRUE(std::holds_alternative<std::string>(canonical));
  EXPECT_EQ(sha256_hex(std::get<std::string>(canonical)),
            "2e34d0951bdf4d2bae6c48a062deae3c7911b0ffb2902962c6c4b78dae41db76");
  const Key key = signing_key(kSecret, "20150830", "us-east-1", "lambda");
  EXPECT_EQ(hex_encode(key), "3106a83fe4d44212160af579a59cf1055851bea14b6ce0713413fb777d6ff7ed");
  EXPECT_EQ(signature_of(request, signed_headers, "lambda"),
            "7ecef464150249866dd880973f5cb84fc9ebed839c4660736925bacc9ab7dfcf");
  EXPECT_EQ(authorization_header({.access_key_id = kKeyId,
                                  .secret_access_key = kSecret,
                                  .region = "us-east-1",
                                  .service = "lambda"},
                                 request, kDate, signed_headers),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "
            "Signature=7ecef464150249866dd880973f5cb84fc9ebed839c4660736925bacc9ab7dfcf");
}

// A client's side: the same request given as ember's clients hold it (any order and case, a
// header without a value that is not sent) signs to what botocore sent, X-Amz-Date included.
TEST(SigV4Botocore, SignAddsTheDateAndSignsEveryHeaderSentInLowerCaseOrder) {
  const std::vector<Header> headers = {{"X-Amz-Invocation-Type", "RequestResponse"},
                                       {"Expect", ""},
                                       {"host", "lambda.us-east-1.amazonaws.com"},
                                       {"Content-Type", "application/json"}};
  const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
  const auto signed_request = sign({.access_key_id = kKeyId,
                                    .secret_access_key = kSecret,
                                    .region = "us-east-1",
                                    .service = "lambda"},
                                   "POST", "/2015-03-31/functions/my-function%3Aprod/invocations",
                                   headers, R"({"k":"v"})", at);
  EXPECT_EQ(signed_request.amz_date, kDate);
  EXPECT_EQ(signed_request.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "
            "Signature=7ecef464150249866dd880973f5cb84fc9ebed839c4660736925bacc9ab7dfcf");
}

TEST(SigV4Botocore, HeaderLinesSplitAtTheFirstColonWithoutLeadingBlanks) {
  const std::vector<std::string> lines = {"Host: 127.0.0.1:9000", "Expect:", "X-Odd:   v: w",
                                          "no colon"};
  const std::vector<Header> expected = {
      {"Host", "127.0.0.1:9000"}, {"Expect", ""}, {"X-Odd", "v: w"}, {"no colon", ""}};
  EXPECT_EQ(header_views(lines), expected);
}

// ?Qualifier=$LATEST arrives as %24LATEST and is signed that way.
TEST(SigV4Botocore, QualifierQueryIsSignedEncoded) {
  EXPECT_EQ(canonical_query("Qualifier=%24LATEST"), "Qualifier=%24LATEST");
  EXPECT_EQ(canonical_query("Qualifier=$LATEST"), "Qualifier=%24LATEST");
  const std::string body_hash = sha256_hex("{}");
  const SignedRequest request{
      .method = "POST",
      .target = "/2015-03-31/functions/hello/invocations?Qualifier=%24LATEST",
      .headers = {{"Host", "127.0.0.1:9000"}, {"X-Amz-Date", kDate}},
      .payload_hash = body_hash};
  EXPECT_EQ(signature_of(request, "host;x-amz-date", "lambda"),
            "da7c593470958c53cb00b737826b3c59c92dd2f2f2c18ca1af633d88cf002345");
}

TEST(SigV4Canonical, QueryDecodesThenEncodesAndSortsRepeatedNamesByValue) {
  EXPECT_EQ(canonical_query("b=2&a=z&a=y&flag"), "a=y&a=z&b=2&flag=");
  EXPECT_EQ(canonical_query("k=a%20b&k2=%7e~"), "k=a%20b&k2=~~");
  EXPECT_EQ(canonical_query(""), "");
}

TEST(SigV4Canonical, UriKeepsATrailingSlashAndEncodesEveryReservedByte) {
  EXPECT_EQ(canonical_uri(""), "/");
  EXPECT_EQ(canonical_uri("//a//b/"), "/a/b/");
  EXPECT_EQ(canonical_uri("/a b/$"), "/a%20b/%24");
}

TEST(SigV4Canonical, RepeatedHeadersJoinWithCommasAndAMissingSignedHeaderIsNamed) {
  const std::vector<Header> headers{{"X-A", "1"}, {"x-a", " 2 "}, {"Host", "h"}};
  const auto joined = canonical_headers(headers, "host;x-a");
  ASSERT_TRUE(std::holds_alternative<std::string>(joined));
  EXPECT_EQ(std::get<std::string>(joined), "host:h\nx-a:1,2\n");
  const auto missing = canonical_headers(headers, "host;x-b");
  ASSERT_TRUE(std::holds_alternative<MissingHeader>(missing));
  EXPECT_EQ(std::get<MissingHeader>(missing).name, "x-b");
}

TEST(SigV4Authorization, ParsesTheHeaderBotocoreSendsInAnyParameterOrder) {
  const auto parsed = parse_authorization(
      "AWS4-HMAC-SHA256 Signature=abc,SignedHeaders=host;x-amz-date,  "
      "Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request");
  ASSERT_TRUE(std::holds_alternative<Authorization>(parsed));
  const auto& auth = std::get<Authorization>(parsed);
  EXPECT_EQ(auth.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(auth.scope(), "20150830/us-east-1/lambda/aws4_request");
  EXPECT_EQ(auth.signed_headers, "host;x-amz-date");
  EXPECT_EQ(auth.signature, "abc");
}

TEST(SigV4Authorization, NamesWhatIsMissingOrWrong) {
  const auto v2 = parse_authorization("AWS AKIDEXAMPLE:sig");
  ASSERT_TRUE(std::holds_alternative<std::string>(v2));
  EXPECT_EQ(std::get<std::string>(v2),
            "Unsupported AWS 'algorithm': 'AWS'; expected AWS4-HMAC-SHA256");
  const auto incomplete = parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c/d/e");
  ASSERT_TRUE(std::holds_alternative<std::string>(incomplete));
  EXPECT_EQ(std::get<std::string>(incomplete),
            "Authorization header requires 'SignedHeaders' parameter. Authorization header "
            "requires 'Signature' parameter.");
  const auto short_scope =
      parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=x");
  ASSERT_TRUE(std::holds_alternative<std::string>(short_scope));
  EXPECT_NE(std::get<std::string>(short_scope).find("ACCESS_KEY_ID/YYYYMMDD/REGION"),
            std::string::npos);
}

TEST(SigV4Compare, EqualOnlyForTheSameBytesAndLength) {
  EXPECT_TRUE(equal_in_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_in_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_in_constant_time("abc", "abcd"));
  EXPECT_FALSE(equal_in_constant_time("", "a"));
}

}  // namespace
}  // namespace ember::runtime_api::sigv4
