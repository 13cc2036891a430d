// The target wikis and their regions (docs/tables.md, "Target domains, regions and languages").
//
// Contract: the 18 default target domains are the Wikipedia editions
// zh ja ko vi id th (asia_pacific), de fr it es pl nl ru (europe), en pt
// (americas), ar fa he (middle_east), each "<code>.wikipedia.org". Any other
// domain has region "other" and language = the label before its first dot.
// Region's Name() is the exact silver/gold `region` text; the enumerator
// order is the order of the daily summary's per-region columns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/model/vocabulary.h"

namespace ws::model {

enum class Region : uint8_t { kEurope, kAmericas, kAsiaPacific, kMiddleEast, kOther };

inline constexpr std::array<std::string_view, 5> kRegionNames = {"europe", "americas", "asia_pacific", "middle_east",
                                                                 "other"};
inline constexpr size_t kRegionCount = kRegionNames.size();

constexpr std::string_view Name(Region r) { return NameIn(kRegionNames, r); }
constexpr std::optional<Region> ParseRegion(std::string_view s) { return ParseIn<Region>(kRegionNames, s); }
WS_MODEL_ENUM_TO_JSON(Region)

const std::vector<std::string>& DefaultTargetDomains();

struct RegionLanguage {
  Region region = Region::kOther;
  std::string_view language;  // a view into the domain argument
};
RegionLanguage RegionOf(std::string_view domain);

// Which domains ingest keeps: the defaults, an explicit list, or all.
class DomainFilter {
 public:
  DomainFilter();  // the 18 defaults
  static DomainFilter All();
  // "all" or a comma-separated list of domains ("en.wikipedia.org,de.wikipedia.org").
  static bool Parse(std::string_view spec, DomainFilter* out, std::string* error);
  bool Accepts(std::string_view domain) const;
  bool accepts_all() const { return all_; }

 private:
  bool all_ = false;
  std::vector<std::string> domains_;  // sorted
};

}  // namespace ws::model
