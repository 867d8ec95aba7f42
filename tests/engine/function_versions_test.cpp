// What a version and an alias are (engine/src/function_versions.*): Lambda's naming rules,
// the checks of an alias's RoutingConfig, the weighted pick, when publishing repeats the
// newest version, and the JSON they are stored as.
#include "function_versions.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "function_registry.hpp"

namespace ember::engine {
namespace {

StoredFunction function(const std::string& sha) {
  StoredFunction f;
  f.name = "f";
  f.runtime = "python3.11";
  f.handler = "lambda_function.lambda_handler";
  f.code_sha256_hex = sha;
  f.environment = {{"A", "1"}};
  return f;
}

FunctionVersions two_versions() {
  FunctionVersions v;
  v.last_number = 2;
  v.versions.emplace(1, function("aa"));
  v.versions.emplace(2, function("bb"));
  return v;
}

std::string routing_error(const std::string& json, const std::string& version) {
  const auto parsed = parse_routing(boost::json::parse(json), version, two_versions());
  const auto* why = std::get_if<std::string>(&parsed);
  return why == nullptr ? "" : *why;
}

TEST(FunctionVersions, PoolKeysTellVersionsApart) {
  EXPECT_EQ(pool_key("f", "$LATEST"), "f");
  EXPECT_EQ(pool_key("f", "12"), "f:12");
}

TEST(FunctionVersions, VersionNumbersAreDigitsWithoutLeadingZeros) {
  EXPECT_EQ(version_number("1"), 1U);
  EXPECT_EQ(version_number("4294967295"), 4294967295U);
  for (const char* text : {"", "0", "01", "-1", "+1", "1a", "$LATEST", "4294967296"}) {
    EXPECT_FALSE(version_number(text)) << text;
  }
}

TEST(FunctionVersions, AnAliasNameIsNeverANumber) {
  EXPECT_FALSE(alias_name_error("live"));
  EXPECT_FALSE(alias_name_error("2024-01-01"));
  EXPECT_FALSE(alias_name_error("v1_0"));
  for (const std::string& name :
       std::vector<std::string>{"123", "", "a.b", "a:b", std::string(129, 'a')}) {
    const auto why = alias_name_error(name);
    ASSERT_TRUE(why) << name;
    EXPECT_NE(why->find("(?!^[0-9]+$)([a-zA-Z0-9-_]+)"), std::string::npos) << *why;
  }
}

TEST(FunctionVersions, RoutingTakesOneOtherPublishedVersionWithAWeightFrom0To1) {
  const auto ok = parse_routing(boost::json::parse(R"({"AdditionalVersionWeights":{"2":0.1}})"),
                                "1", two_versions());
  ASSERT_TRUE(std::holds_alternative<AliasRouting>(ok));
  EXPECT_EQ(std::get<AliasRouting>(ok).second, 2U);
  EXPECT_DOUBLE_EQ(std::get<AliasRouting>(ok).weight, 0.1);
  EXPECT_EQ(routing_error(R"({"AdditionalVersionWeights":{}})", "1"), "");
  EXPECT_EQ(routing_error(R"({})", "1"), "");
  EXPECT_NE(routing_error(R"({"AdditionalVersionWeights":{"2":1.5}})", "1")
                .find("it must be from 0.0 to 1.0"),
            std::string::npos);
  EXPECT_NE(routing_error(R"({"AdditionalVersionWeights":{"2":-0.1}})", "1")
                .find("it must be from 0.0 to 1.0"),
            std::string::npos);
  EXPECT_NE(routing_error(R"({"AdditionalVersionWeights":{"2":"x"}})", "1").find("a number"),
            std::string::npos);
  EXPECT_NE(routing_error(R"({"AdditionalVersionWeights":{"3":0.5}})", "1").find("does not exist"),
            std::string::npos);
  EXPECT_NE(
      routing_error(R"({"AdditionalVersionWeights":{"1":0.5}})", "1").find("own FunctionVersion"),
      std::string::npos);
  EXPECT_NE(routing_error(R"({"AdditionalVersionWeights":{"2":0.5}})", "$LATEST").find("$LATEST"),
            std::string::npos);
  EXPECT_NE(routing_error(R"({"AdditionalVersionWeights":{"1":0.2,"2":0.5}})", "1")
                .find("at most one version"),
            std::string::npos);
  EXPECT_NE(routing_error(R"({"AdditionalVersionWeights":{"$LATEST":0.5}})", "1")
                .find("not a published version number"),
            std::string::npos);
  EXPECT_NE(routing_error(R"([1])", "1").find("RoutingConfig must be"), std::string::npos);
}

TEST(FunctionVersions, AWeightedAliasPicksTheSecondVersionBelowItsWeight) {
  const AliasRecord alias{.name = "live",
                          .function_version = "1",
                          .second = 2,
                          .second_weight = 0.25,
                          .description = "",
                          .revision_id = ""};
  EXPECT_EQ(FunctionVersions::pick(alias, 0.0), "2");
  EXPECT_EQ(FunctionVersions::pick(alias, 0.2499), "2");
  EXPECT_EQ(FunctionVersions::pick(alias, 0.25), "1");
  EXPECT_EQ(FunctionVersions::pick(alias, 0.99), "1");
  const AliasRecord plain{.name = "p",
                          .function_version = "$LATEST",
                          .second = std::nullopt,
                          .second_weight = 0,
                          .description = "",
                          .revision_id = ""};
  EXPECT_EQ(FunctionVersions::pick(plain, 0.0), "$LATEST");
}

TEST(FunctionVersions, PublishingRepeatsTheNewestVersionOnlyWhenNothingChanged) {
  auto v = two_versions();
  EXPECT_EQ(v.same_as_newest(function("bb")), 2U);
  auto described = function("bb");
  described.description = "a version's description is not its code or settings";
  EXPECT_EQ(v.same_as_newest(described), 2U);
  EXPECT_FALSE(v.same_as_newest(function("aa")));  // the code of an older version
  auto reconfigured = function("bb");
  reconfigured.timeout_s = 9;
  EXPECT_FALSE(v.same_as_newest(reconfigured));
  // The newest was deleted: publishing makes a new one, even with its code.
  v.versions.erase(2);
  EXPECT_FALSE(v.same_as_newest(function("bb")));
}

TEST(FunctionVersions, DeletingAVersionAnAliasRoutesToIsKnown) {
  auto v = two_versions();
  v.aliases.emplace("a", AliasRecord{.name = "a",
                                     .function_version = "1",
                                     .second = 2,
                                     .second_weight = 0.5,
                                     .description = "",
                                     .revision_id = ""});
  EXPECT_EQ(v.aliases_of(1), std::vector<std::string>{"a"});
  EXPECT_EQ(v.aliases_of(2), std::vector<std::string>{"a"});
  EXPECT_TRUE(v.aliases_of(3).empty());
}

TEST(FunctionVersions, StoredAsJsonAndReadBack) {
  auto v = two_versions();
  v.last_number = 5;
  v.aliases.emplace("live", AliasRecord{.name = "live",
                                        .function_version = "2",
                                        .second = 1,
                                        .second_weight = 0.3,
                                        .description = "canary",
                                        .revision_id = "r"});
  const auto back = function_versions_from_json(to_json(v));
  EXPECT_EQ(back.last_number, 5U);
  ASSERT_EQ(back.versions.size(), 2U);
  EXPECT_EQ(back.versions.at(2).code_sha256_hex, "bb");
  EXPECT_EQ(back.versions.at(1).environment, v.versions.at(1).environment);
  const auto& live = back.aliases.at("live");
  EXPECT_EQ(live.function_version, "2");
  EXPECT_EQ(live.second, 1U);
  EXPECT_DOUBLE_EQ(live.second_weight, 0.3);
  EXPECT_EQ(live.description, "canary");
  EXPECT_EQ(boost::json::serialize(alias_configuration(live, "ARN")),
            R"({"AliasArn":"ARN","Name":"live","FunctionVersion":"2","Description":"canary",)"
            R"("RevisionId":"r","RoutingConfig":{"AdditionalVersionWeights":{"1":3E-1}}})");
  EXPECT_THROW(function_versions_from_json(boost::json::parse(R"({"LastVersion":1})").as_object()),
               std::exception);
}

}  // namespace
}  // namespace ember::engine
