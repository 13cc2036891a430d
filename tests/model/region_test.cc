#include "wikistream/model/region.h"

#include <gtest/gtest.h>

namespace ws::model {
namespace {

TEST(Region, DefaultTargetsAreThe18Wikipedias) {
  const auto& d = DefaultTargetDomains();
  ASSERT_EQ(d.size(), 18u);
  for (const char* code : {"zh", "ja", "ko", "vi", "id", "th", "de", "fr", "it", "es", "pl", "nl", "ru", "en", "pt",
                           "ar", "fa", "he"}) {
    EXPECT_NE(std::find(d.begin(), d.end(), std::string(code) + ".wikipedia.org"), d.end()) << code;
  }
}

TEST(Region, RegionOf) {
  EXPECT_EQ(RegionOf("zh.wikipedia.org").region, Region::kAsiaPacific);
  EXPECT_EQ(RegionOf("th.wikipedia.org").region, Region::kAsiaPacific);
  EXPECT_EQ(RegionOf("nl.wikipedia.org").region, Region::kEurope);
  EXPECT_EQ(RegionOf("ru.wikipedia.org").region, Region::kEurope);
  EXPECT_EQ(RegionOf("en.wikipedia.org").region, Region::kAmericas);
  EXPECT_EQ(RegionOf("pt.wikipedia.org").region, Region::kAmericas);
  EXPECT_EQ(RegionOf("he.wikipedia.org").region, Region::kMiddleEast);
  EXPECT_EQ(RegionOf("fa.wikipedia.org").language, "fa");
  auto commons = RegionOf("commons.wikimedia.org");
  EXPECT_EQ(commons.region, Region::kOther);
  EXPECT_EQ(commons.language, "commons");
  EXPECT_EQ(RegionOf("en.wiktionary.org").region, Region::kOther);
  EXPECT_EQ(RegionOf("en.wiktionary.org").language, "en");
  EXPECT_EQ(RegionOf("sv.wikipedia.org").region, Region::kOther);
  EXPECT_EQ(RegionOf("sv.wikipedia.org").language, "sv");
  EXPECT_EQ(RegionOf("localhost").language, "localhost");
  EXPECT_EQ(RegionOf("").region, Region::kOther);
  EXPECT_EQ(RegionOf("en.wikipedia.org.evil").region, Region::kOther);
}

TEST(Region, DefaultFilter) {
  DomainFilter f;
  EXPECT_FALSE(f.accepts_all());
  EXPECT_TRUE(f.Accepts("en.wikipedia.org"));
  EXPECT_TRUE(f.Accepts("he.wikipedia.org"));
  EXPECT_FALSE(f.Accepts("commons.wikimedia.org"));
  EXPECT_FALSE(f.Accepts("www.wikidata.org"));
  EXPECT_FALSE(f.Accepts("sv.wikipedia.org"));
  EXPECT_FALSE(f.Accepts("EN.wikipedia.org"));
  EXPECT_FALSE(f.Accepts(""));
}

TEST(Region, ParseAllAndLists) {
  DomainFilter f;
  std::string err;
  ASSERT_TRUE(DomainFilter::Parse("all", &f, &err));
  EXPECT_TRUE(f.accepts_all());
  EXPECT_TRUE(f.Accepts("anything.example"));
  ASSERT_TRUE(DomainFilter::Parse("en.wikipedia.org, www.wikidata.org", &f, &err)) << err;
  EXPECT_FALSE(f.accepts_all());
  EXPECT_TRUE(f.Accepts("en.wikipedia.org"));
  EXPECT_TRUE(f.Accepts("www.wikidata.org"));
  EXPECT_FALSE(f.Accepts("de.wikipedia.org"));
  ASSERT_TRUE(DomainFilter::Parse("De.Wikipedia.org", &f, &err));
  EXPECT_TRUE(f.Accepts("de.wikipedia.org"));
  EXPECT_FALSE(DomainFilter::Parse("", &f, &err));
  EXPECT_FALSE(DomainFilter::Parse("en.wikipedia.org,,de.wikipedia.org", &f, &err));
  EXPECT_FALSE(DomainFilter::Parse("all,en.wikipedia.org", &f, &err));
  EXPECT_FALSE(DomainFilter::Parse("en wikipedia", &f, &err));
  EXPECT_FALSE(err.empty());
  EXPECT_TRUE(DomainFilter::All().Accepts("x"));
}

}  // namespace
}  // namespace ws::model
