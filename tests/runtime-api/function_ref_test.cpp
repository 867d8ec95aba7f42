#include "ember/runtime_api/function_ref.hpp"

#include <gtest/gtest.h>

namespace ember::runtime_api {
namespace {

FunctionRef parse_ok(std::string_view text) {
  auto result = parse_function_ref(text);
  if (auto* why = std::get_if<std::string>(&result)) ADD_FAILURE() << text << ": " << *why;
  return std::get<FunctionRef>(result);
}

std::string parse_error(std::string_view text) {
  auto result = parse_function_ref(text);
  if (std::holds_alternative<FunctionRef>(result)) ADD_FAILURE() << text << " parsed";
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
}

TEST(FunctionRef, BareName) {
  const auto ref = parse_ok("hello-world_1");
  EXPECT_EQ(ref.name, "hello-world_1");
  EXPECT_FALSE(ref.qualifier);
  EXPECT_FALSE(ref.region);
}

TEST(FunctionRef, NameWithQualifier) {
  const auto ref = parse_ok("hello:$LATEST");
  EXPECT_EQ(ref.name, "hello");
  EXPECT_EQ(ref.qualifier, "$LATEST");
}

TEST(FunctionRef, FullArnWithAndWithoutQualifier) {
  auto ref = parse_ok("arn:aws:lambda:eu-west-1:123456789012:function:hello");
  EXPECT_EQ(ref.name, "hello");
  EXPECT_EQ(ref.region, "eu-west-1");
  EXPECT_EQ(ref.account_id, "123456789012");
  EXPECT_FALSE(ref.qualifier);
  ref = parse_ok("arn:aws:lambda:eu-west-1:123456789012:function:hello:prod");
  EXPECT_EQ(ref.qualifier, "prod");
}

TEST(FunctionRef, PartialArn) {
  const auto ref = parse_ok("123456789012:function:hello");
  EXPECT_EQ(ref.name, "hello");
  EXPECT_EQ(ref.account_id, "123456789012");
}

TEST(FunctionRef, RejectsWhatIsNotAName) {
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("hello world").find("letters, digits"), std::string::npos);
  EXPECT_NE(parse_error(std::string(65, 'a')).find("1-64"), std::string::npos);
  EXPECT_NE(parse_error("arn:aws:s3:::bucket").find("not a function ARN"), std::string::npos);
  EXPECT_NE(parse_error("a:b:c").find("too many"), std::string::npos);
  EXPECT_NE(parse_error("hello:bad qualifier").find("qualifier"), std::string::npos);
}

TEST(FunctionRef, ArnRoundTrip) {
  EXPECT_EQ(function_arn("us-east-1", "000000000000", "f"),
            "arn:aws:lambda:us-east-1:000000000000:function:f");
  const auto arn = function_arn("us-east-1", "000000000000", "f", std::string("$LATEST"));
  EXPECT_EQ(arn, "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST");
  // What function_arn builds parses back into the same parts.
  const auto ref = parse_ok(arn);
  EXPECT_EQ(ref.region, "us-east-1");
  EXPECT_EQ(ref.account_id, "000000000000");
  EXPECT_EQ(ref.name, "f");
  EXPECT_EQ(ref.qualifier, "$LATEST");
}

TEST(FunctionRef, QualifierErrorNamesTheQualifier) {
  EXPECT_FALSE(qualifier_error("$LATEST"));
  EXPECT_FALSE(qualifier_error("12"));
  EXPECT_FALSE(qualifier_error("prod-2_b"));
  EXPECT_EQ(qualifier_error("bad q"), "qualifier 'bad q' is not a version or alias name");
  EXPECT_TRUE(qualifier_error(""));
  EXPECT_TRUE(qualifier_error(std::string(129, 'q')));
}

}  // namespace
}  // namespace ember::runtime_api
