// The target wikis and their regions (docs/tables.md, "Target domains, regions and languages").
//
// Contract: the 18 default target domains are the Wikipedia editions
// zh ja ko vi id th (asia_pacific), de fr it es pl nl ru (europe), en pt
// (americas), ar fa he (middle_east), each "<code>.wikipedia.org". Any other
// domain has region "other" and language = the label before its first dot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ws::model {

inline constexpr std::string_view kRegions[] = {"asia_pacific", "europe", "americas", "middle_east", "other"};

const std::vector<std::string>& DefaultTargetDomains();

struct RegionLanguage {
  std::string_view region;  // one of kRegions (static storage)
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
