#include "ember/runtime_api/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ember::runtime_api {
namespace {

TEST(Base64, RoundTripsEveryLengthAndEveryByte) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  for (std::string s : {"", "a", "ab", "abc", "abcd", "{\"custom\":{\"k\":\"v\"}}"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_decode(base64_encode(all_bytes)), all_bytes);
}

TEST(Base64, EncodesAsRfc4648) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_encode("\xff\xfe"), "//4=");
}

TEST(Base64, DecodesEmptyInputToEmptyOutput) { EXPECT_EQ(base64_decode(""), std::string()); }

TEST(Base64, DropsTheBytesOfItsPadding) {
  // OpenSSL's block decoder turns each '=' into a zero byte; none of them may come through.
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vZg=="), "foof");
}

TEST(Base64, RejectsALengthThatIsNotAMultipleOfFour) {
  EXPECT_FALSE(base64_decode("aGVsbG8"));
  EXPECT_FALSE(base64_decode("Zg="));
  EXPECT_FALSE(base64_decode("Z"));
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_FALSE(base64_decode("aGV$bG8="));
  EXPECT_FALSE(base64_decode("aGVs-G8="));  // base64url, not base64
  EXPECT_FALSE(base64_decode(std::string("Zm9v\0Zm9v", 9).substr(0, 8)));
}

TEST(Base64, RejectsWhitespaceThatOpenSslWouldSkip) {
  EXPECT_FALSE(base64_decode(" Zm9v"));
  EXPECT_FALSE(base64_decode("Zm9v "));
  EXPECT_FALSE(base64_decode("Zm9v\nZm9v"));
  EXPECT_FALSE(base64_decode("Zm\t9v"));
}

TEST(Base64, RejectsPaddingAnywhereButTheLastTwoPlaces) {
  EXPECT_FALSE(base64_decode("a==="));
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("Zg==Zm9v"));
  EXPECT_FALSE(base64_decode("Z=g="));
  EXPECT_FALSE(base64_decode("Zm=v"));
}

// Each byte string has one canonical encoding: the bits of the last character that fall
// past the last byte must be zero, or "QR==" and "QQ==" would both decode to "A" (found by
// tests/fuzz/base64_fuzz; its input is tests/fuzz/corpus/base64/crash-non-canonical).
TEST(Base64, RejectsNonZeroBitsPastTheLastByte) {
  EXPECT_EQ(base64_decode("QQ=="), "A");
  EXPECT_EQ(base64_decode("QR=="), std::nullopt);
  EXPECT_EQ(base64_decode("QV=="), std::nullopt);
  EXPECT_EQ(base64_decode("QUI="), "AB");
  EXPECT_EQ(base64_decode("QUJ="), std::nullopt);
  EXPECT_EQ(base64_decode("QUL="), std::nullopt);
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    const std::string two = one + "z";
    EXPECT_EQ(base64_decode(base64_encode(one)), one);
    EXPECT_EQ(base64_decode(base64_encode(two)), two);
  }
}

TEST(Base64, HandlesInputsLargerThanOneChunk) {
  // Longer than the codec's 3 MiB and 4 MiB chunks, and not a multiple of them.
  std::string big(7 * 1024 * 1024 + 5, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  const auto encoded = base64_encode(big);
  EXPECT_EQ(encoded.size(), (big.size() + 2) / 3 * 4);
  EXPECT_EQ(base64_decode(encoded), big);
}

}  // namespace
}  // namespace ember::runtime_api
