#include "ember/runtime_api/base64.hpp"

#include <gtest/gtest.h>

namespace ember::runtime_api {
namespace {

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "{\"custom\":{\"k\":\"v\"}}"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(base64_decode("aGVsbG8"));   // length not a multiple of 4
  EXPECT_FALSE(base64_decode("aGV$bG8="));  // outside the alphabet
  EXPECT_FALSE(base64_decode("a==="));      // too much padding
}

}  // namespace
}  // namespace ember::runtime_api
