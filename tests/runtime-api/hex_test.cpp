// hex_encode and append_hex, ember's one hex encoder.
#include "ember/runtime_api/hex.hpp"

#include <gtest/gtest.h>

#include <array>

namespace ember::runtime_api {
namespace {

TEST(Hex, EncodesEachByteAsTwoLowerCaseDigits) {
  EXPECT_EQ(hex_encode(std::string_view("\x00\x01\x7f\x80\xab\xff", 6)), "00017f80abff");
  const std::array<unsigned char, 3> bytes{0xDE, 0xAD, 0x0F};
  EXPECT_EQ(hex_encode(bytes), "dead0f");
  EXPECT_EQ(hex_encode(std::string_view()), "");
}

TEST(Hex, AppendsTheLowestDigitsOfANumberMostSignificantFirst) {
  std::string out = "x";
  append_hex(out, 0x1F, 2);
  append_hex(out, 0x1F, 4);
  append_hex(out, 0x123456789ULL, 8);  // cut to its lowest 8 digits
  append_hex(out, 0xFFFFFFFFFFFFFFFFULL, 16);
  append_hex(out, 1, 18);  // wider than 64 bits: zeros in front
  EXPECT_EQ(out, "x1f001f23456789ffffffffffffffff000000000000000001");
}

}  // namespace
}  // namespace ember::runtime_api
