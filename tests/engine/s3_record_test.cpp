// S3's event record as ember makes it, against the S3 user guide's notification-content-structure
// (eventVersion 2.1) and its key encoding.
#include "s3_record.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace ember::engine {
namespace {

namespace json = boost::json;
using Kind = ObjectEvent::Kind;

TEST(S3Record, EncodesKeysAsS3DoesSpacesAsPlusSlashesKept) {
  EXPECT_EQ(s3_key_encoding("red flower.jpg"), "red+flower.jpg");
  EXPECT_EQ(s3_key_encoding("a/b/c-d_e.f*g"), "a/b/c-d_e.f*g");
  EXPECT_EQ(s3_key_encoding("x=1&y+z~"), "x%3D1%26y%2Bz%7E");
  EXPECT_EQ(s3_key_encoding("ü"), "%C3%BC");
}

TEST(S3Record, SequencersAreFixedWidthUppercaseHexSoStringsCompareAsNumbers) {
  EXPECT_EQ(s3_sequencer(0), "000000000000000000");
  EXPECT_EQ(s3_sequencer(0xABCULL), "000000000000000ABC");
  EXPECT_EQ(s3_sequencer(~0ULL), "00FFFFFFFFFFFFFFFF");
  EXPECT_EQ(s3_sequencer(~0ULL).size(), 18U);
  EXPECT_LT(s3_sequencer(0xFFF), s3_sequencer(0x1000));
}

TEST(S3Record, EventTimeIsIso8601WithMillisecondsInUtc) {
  using namespace std::chrono;
  const sys_days day = year{2019} / 9 / 3;
  EXPECT_EQ(iso8601_milliseconds(day + 19h + 37min + 27s + 192ms), "2019-09-03T19:37:27.192Z");
  EXPECT_EQ(iso8601_milliseconds(day + 5ms + 999us), "2019-09-03T00:00:00.005Z");
}

TEST(S3Record, EventTypesMatchTheirKindAndCopyNeverMatches) {
  EXPECT_TRUE(s3_event_matches("s3:ObjectCreated:*", Kind::kCreated));
  EXPECT_TRUE(s3_event_matches("s3:ObjectCreated:Put", Kind::kCreated));
  EXPECT_FALSE(s3_event_matches("s3:ObjectCreated:Copy", Kind::kCreated));
  EXPECT_FALSE(s3_event_matches("s3:ObjectCreated:*", Kind::kRemoved));
  EXPECT_TRUE(s3_event_matches("s3:ObjectRemoved:*", Kind::kRemoved));
  EXPECT_TRUE(s3_event_matches("s3:ObjectRemoved:Delete", Kind::kRemoved));
  EXPECT_FALSE(s3_event_matches("s3:ObjectRemoved:Delete", Kind::kCreated));
}

TEST(S3Record, HoldsEveryFieldOfS3sRecordAndNoSizeOrETagForADelete) {
  config::NodeConfig node;
  node.region = "eu-west-3";
  node.account_id = "123456789012";
  ObjectEvent event;
  event.bucket = "images";
  event.key = "a b.png";
  event.time = std::chrono::sys_days(std::chrono::year{2026} / 1 / 2);
  event.size = 7;
  event.etag = "0123456789abcdef0123456789abcdef";
  event.sequencer = s3_sequencer(42);
  const auto payload = json::parse(s3_event_payload(event, node, "f.s3_events[0]")).as_object();
  ASSERT_EQ(payload.size(), 1U);
  const auto& records = payload.at("Records").as_array();
  ASSERT_EQ(records.size(), 1U);
  const auto& r = records[0].as_object();
  EXPECT_EQ(r.at("eventVersion"), "2.1");
  EXPECT_EQ(r.at("eventSource"), "aws:s3");
  EXPECT_EQ(r.at("awsRegion"), "eu-west-3");
  EXPECT_EQ(r.at("eventTime"), "2026-01-02T00:00:00.000Z");
  EXPECT_EQ(r.at("eventName"), "ObjectCreated:Put");
  EXPECT_EQ(r.at("userIdentity").at("principalId"), "AWS:123456789012");
  EXPECT_EQ(r.at("requestParameters").at("sourceIPAddress"), "127.0.0.1");
  EXPECT_EQ(r.at("responseElements").as_object().size(), 2U);
  const auto& s3 = r.at("s3").as_object();
  EXPECT_EQ(s3.at("s3SchemaVersion"), "1.0");
  EXPECT_EQ(s3.at("configurationId"), "f.s3_events[0]");
  EXPECT_EQ(s3.at("bucket").at("name"), "images");
  EXPECT_EQ(s3.at("bucket").at("ownerIdentity").at("principalId"), "123456789012");
  EXPECT_EQ(s3.at("bucket").at("arn"), "arn:aws:s3:::images");
  EXPECT_EQ(s3.at("object").at("key"), "a+b.png");
  EXPECT_EQ(s3.at("object").at("size"), 7);
  EXPECT_EQ(s3.at("object").at("eTag"), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(s3.at("object").at("sequencer"), "00000000000000002A");

  event.kind = Kind::kRemoved;
  const auto removed = json::parse(s3_event_payload(event, node, "f.s3_events[0]"));
  const auto& object = removed.at("Records").at(0).at("s3").at("object").as_object();
  EXPECT_EQ(removed.at("Records").at(0).at("eventName"), "ObjectRemoved:Delete");
  EXPECT_EQ(object.if_contains("size"), nullptr);
  EXPECT_EQ(object.if_contains("eTag"), nullptr);
  EXPECT_EQ(object.at("key"), "a+b.png");
}

}  // namespace
}  // namespace ember::engine
