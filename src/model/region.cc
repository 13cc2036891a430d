#include "wikistream/model/region.h"

#include <algorithm>

namespace ws::model {
namespace {

struct Edition {
  std::string_view code;
  Region region;
};

constexpr Region kAsia = Region::kAsiaPacific, kEurope = Region::kEurope, kAmericas = Region::kAmericas,
                 kMiddleEast = Region::kMiddleEast;
constexpr Edition kEditions[] = {
    {"zh", kAsia},   {"ja", kAsia},   {"ko", kAsia},     {"vi", kAsia},     {"id", kAsia},       {"th", kAsia},
    {"de", kEurope}, {"fr", kEurope}, {"it", kEurope},   {"es", kEurope},   {"pl", kEurope},     {"nl", kEurope},
    {"ru", kEurope}, {"en", kAmericas}, {"pt", kAmericas}, {"ar", kMiddleEast}, {"fa", kMiddleEast}, {"he", kMiddleEast},
};

constexpr std::string_view kWikipediaSuffix = ".wikipedia.org";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<std::string>& DefaultTargetDomains() {
  static const std::vector<std::string> domains = [] {
    std::vector<std::string> d;
    for (const auto& e : kEditions) d.push_back(std::string(e.code) + std::string(kWikipediaSuffix));
    return d;
  }();
  return domains;
}

RegionLanguage RegionOf(std::string_view domain) {
  size_t dot = domain.find('.');
  std::string_view label = dot == std::string_view::npos ? domain : domain.substr(0, dot);
  if (dot != std::string_view::npos && domain.substr(dot) == kWikipediaSuffix) {
    for (const auto& e : kEditions) {
      if (e.code == label) return RegionLanguage{e.region, label};
    }
  }
  return RegionLanguage{Region::kOther, label};
}

DomainFilter::DomainFilter() : domains_(DefaultTargetDomains()) { std::sort(domains_.begin(), domains_.end()); }

DomainFilter DomainFilter::All() {
  DomainFilter f;
  f.all_ = true;
  f.domains_.clear();
  return f;
}

bool DomainFilter::Parse(std::string_view spec, DomainFilter* out, std::string* error) {
  std::string_view trimmed = Trim(spec);
  if (trimmed == "all") {
    *out = All();
    return true;
  }
  DomainFilter f;
  f.domains_.clear();
  size_t pos = 0;
  while (pos <= trimmed.size()) {
    size_t comma = trimmed.find(',', pos);
    if (comma == std::string_view::npos) comma = trimmed.size();
    std::string_view item = Trim(trimmed.substr(pos, comma - pos));
    if (item.empty()) {
      if (error) *error = "empty domain in list '" + std::string(spec) + "'";
      return false;
    }
    if (item == "all") {
      if (error) *error = "'all' cannot be combined with other domains";
      return false;
    }
    for (char c : item) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      if (!ok) {
        if (error) *error = "invalid domain '" + std::string(item) + "'";
        return false;
      }
    }
    std::string d(item);
    for (char& c : d) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    f.domains_.push_back(std::move(d));
    pos = comma + 1;
  }
  std::sort(f.domains_.begin(), f.domains_.end());
  f.domains_.erase(std::unique(f.domains_.begin(), f.domains_.end()), f.domains_.end());
  *out = std::move(f);
  return true;
}

bool DomainFilter::Accepts(std::string_view domain) const {
  if (all_) return true;
  return std::binary_search(domains_.begin(), domains_.end(), domain,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

}  // namespace ws::model
