#include "wikistream/model/user.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace ws::model {
namespace {

TEST(UserTest, NormalizeUserRemovesControlsAndTrimsSpaces) {
  EXPECT_EQ(NormalizeUser(std::nullopt), std::nullopt);
  EXPECT_EQ(NormalizeUser(std::string_view("")), std::nullopt);
  EXPECT_EQ(NormalizeUser(std::string_view("   ")), std::nullopt);
  EXPECT_EQ(NormalizeUser(std::string_view("\x01\x1f\x7f")), std::nullopt);
  EXPECT_EQ(NormalizeUser(std::string_view("  Alice  ")), "Alice");
  EXPECT_EQ(NormalizeUser(std::string_view("Al\tice\n")), "Alice");
  EXPECT_EQ(NormalizeUser(std::string_view(" \x01 Bob\x7f ")), "Bob");
  EXPECT_EQ(NormalizeUser(std::string_view("A\0B", 3)), "AB");
  // Inner spaces and non-ASCII are kept; only ASCII spaces are trimmed.
  EXPECT_EQ(NormalizeUser(std::string_view(" Jean Dupont ")), "Jean Dupont");
  EXPECT_EQ(NormalizeUser(std::string_view("\xe5\xbc\xa0\xe4\xb8\x89")), "\xe5\xbc\xa0\xe4\xb8\x89");
  EXPECT_EQ(NormalizeUser(std::string_view("\xc2\xa0x\xc2\xa0")), "\xc2\xa0x\xc2\xa0");
}

TEST(UserTest, TemporaryAccountNames) {
  EXPECT_TRUE(IsTemporaryAccountName("~2026-12345-67"));
  EXPECT_TRUE(IsTemporaryAccountName("~2025-1"));
  EXPECT_TRUE(IsTemporaryAccountName("~2025-1-2-3"));
  EXPECT_FALSE(IsTemporaryAccountName("~2025-"));
  EXPECT_FALSE(IsTemporaryAccountName("~2025-1-"));
  EXPECT_FALSE(IsTemporaryAccountName("~2025--1"));
  EXPECT_FALSE(IsTemporaryAccountName("~202-12"));
  EXPECT_FALSE(IsTemporaryAccountName("~20251-12"));
  EXPECT_FALSE(IsTemporaryAccountName("2025-12"));
  EXPECT_FALSE(IsTemporaryAccountName("~2025-12a"));
  EXPECT_FALSE(IsTemporaryAccountName(" ~2025-12"));
  EXPECT_FALSE(IsTemporaryAccountName("~2025-12 "));
  EXPECT_FALSE(IsTemporaryAccountName("~abcd-12"));
  EXPECT_FALSE(IsTemporaryAccountName("~"));
  EXPECT_FALSE(IsTemporaryAccountName(""));
}

TEST(UserTest, Ipv4) {
  EXPECT_TRUE(IsIpv4("0.0.0.0"));
  EXPECT_TRUE(IsIpv4("255.255.255.255"));
  EXPECT_TRUE(IsIpv4("192.168.1.10"));
  EXPECT_TRUE(IsIpv4("10.0.0.01"));  // MediaWiki's pattern allows a leading zero
  EXPECT_FALSE(IsIpv4("256.1.1.1"));
  EXPECT_FALSE(IsIpv4("1.2.3"));
  EXPECT_FALSE(IsIpv4("1.2.3.4.5"));
  EXPECT_FALSE(IsIpv4("1.2.3."));
  EXPECT_FALSE(IsIpv4(".1.2.3"));
  EXPECT_FALSE(IsIpv4("1..2.3"));
  EXPECT_FALSE(IsIpv4("1.2.3.4 "));
  EXPECT_FALSE(IsIpv4("1.2.3.a"));
  EXPECT_FALSE(IsIpv4("1.2.3.1000"));
  EXPECT_FALSE(IsIpv4("-1.2.3.4"));
  EXPECT_FALSE(IsIpv4("+1.2.3.4"));
  EXPECT_FALSE(IsIpv4(""));
}

TEST(UserTest, Ipv6) {
  for (const char* ok : {"::", "::1", "1::", "2001:db8::1", "2001:0db8:0000:0000:0000:ff00:0042:8329",
                         "2001:DB8:0:0:8:800:200C:417A", "fe80::1:2:3:4:5:6", "1:2:3:4:5:6:7::",
                         "::2:3:4:5:6:7:8", "::ffff:192.0.2.128", "::192.0.2.128",
                         "1:2:3:4:5:6:1.2.3.4", "64:ff9b::10.0.0.1", "1::2:3:4:5:6:7"}) {
    EXPECT_TRUE(IsIpv6(ok)) << ok;
  }
  for (const char* bad : {"", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
                          "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::1", "fe80::1%eth0",
                          "fe80::1%1", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "1.2.3.4::",
                          "1.2.3.4::1", "::1.2.3.4:1", "::256.1.1.1", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
                          " ::1", "::1 ", "[::1]", "1.2.3.4"}) {
    EXPECT_FALSE(IsIpv6(bad)) << bad;
  }
}

TEST(UserTest, ClassifyUserAndName) {
  using O = std::optional<std::string>;
  EXPECT_EQ(ClassifyUser(true, O("~2026-12345-67")), UserType::kBot);
  EXPECT_EQ(ClassifyUser(true, std::nullopt), UserType::kBot);
  EXPECT_EQ(ClassifyUser(false, O("~2026-12345-67")), UserType::kTemporary);
  EXPECT_EQ(ClassifyUser(false, O("1.2.3.4")), UserType::kIp);
  EXPECT_EQ(ClassifyUser(false, O("2001:db8::7")), UserType::kIp);
  EXPECT_EQ(ClassifyUser(false, O("Alice")), UserType::kRegistered);
  EXPECT_EQ(ClassifyUser(false, O("999.1.1.1")), UserType::kRegistered);
  EXPECT_EQ(ClassifyUser(false, std::nullopt), UserType::kUnknown);
  EXPECT_EQ(ClassifyName(O("~2026-1")), UserType::kTemporary);
  EXPECT_EQ(ClassifyName(O("::1")), UserType::kIp);
  EXPECT_EQ(ClassifyName(O("CleanupBot")), UserType::kRegistered);
  EXPECT_EQ(ClassifyName(std::nullopt), UserType::kUnknown);
  // A name with control characters classifies after normalization.
  EXPECT_EQ(ClassifyUser(false, NormalizeUser(std::string_view(" 1.2.3.4\x01"))), UserType::kIp);
  EXPECT_EQ(Name(UserType::kBot), "bot");
  EXPECT_EQ(Name(UserType::kTemporary), "temporary");
  EXPECT_EQ(Name(UserType::kIp), "ip");
  EXPECT_EQ(Name(UserType::kRegistered), "registered");
  EXPECT_EQ(Name(UserType::kUnknown), "unknown");
}

}  // namespace
}  // namespace ws::model
