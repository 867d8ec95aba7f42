#include "ember/runtime_api/function_ref.hpp"

#include <gtest/gtest.h>

#include "ember/runtime_api/runtime_api.hpp"

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
  EXPECT_EQ(function_arn("us-east-1", "000000000000", "f", std::string("$LATEST")),
            "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST");
}

TEST(ErrorType, KeepsCategoryReasonAndNormalisesTheRest) {
  EXPECT_EQ(normalise_error_type("Runtime.ImportModuleError"), "Runtime.ImportModuleError");
  EXPECT_EQ(normalise_error_type("Function.MyError"), "Function.MyError");
  EXPECT_EQ(normalise_error_type("Unhandled"), "Runtime.Unknown");
  EXPECT_EQ(normalise_error_type("FunctionBroken"), "Function.Unknown");
  EXPECT_EQ(normalise_error_type(""), "Runtime.Unknown");
  EXPECT_EQ(normalise_error_type("Runtime.lowercase"), "Runtime.Unknown");
}

}  // namespace
}  // namespace ember::runtime_api
