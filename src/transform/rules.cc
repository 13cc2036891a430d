#include "wikistream/transform/rules.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace ws::transform {

RiskAssessment AssessRisk(const RiskInputs& in) {
  RiskAssessment a;
  if (in.peak_hour_edits > 50) {
    a.velocity_points = 40;
  } else if (in.peak_hour_edits > 25) {
    a.velocity_points = 25;
  } else if (in.peak_hour_edits > 10) {
    a.velocity_points = 10;
  }
  if (in.large_deletions > 3) {
    a.deletion_points = 30;
  } else if (in.large_deletions >= 2) {
    a.deletion_points = 15;
  }
  // anonymous_edits > 0.5 * total_edits, in integers: 2a > t.
  if (2 * in.anonymous_edits > in.total_edits) a.anonymous_points = 20;
  if (in.domains_edited > 5 && in.peak_hour_edits > 20) a.cross_domain_points = 10;
  int sum = a.velocity_points + a.deletion_points + a.anonymous_points + a.cross_domain_points;
  a.score = sum > 100 ? 100 : sum;
  a.level = model::RiskLevelFor(a.score);
  a.alert = a.level == model::RiskLevel::kHigh;
  if (a.velocity_points) a.factors.push_back("velocity");
  if (a.deletion_points) a.factors.push_back("deletions");
  if (a.anonymous_points) a.factors.push_back("anonymous");
  if (a.cross_domain_points) a.factors.push_back("cross_domain");
  return a;
}

std::string RiskEvidenceJson(const RiskInputs& in, const RiskAssessment& a) {
  std::string out;
  out.reserve(160);
  out += "{\"peak_hour_edits\":" + std::to_string(in.peak_hour_edits);
  out += ",\"large_deletions\":" + std::to_string(in.large_deletions);
  out += ",\"domains_edited\":" + std::to_string(in.domains_edited);
  out += ",\"total_edits\":" + std::to_string(in.total_edits);
  out += ",\"anonymous_edits\":" + std::to_string(in.anonymous_edits);
  out += ",\"factors\":[";
  for (size_t i = 0; i < a.factors.size(); ++i) {
    if (i) out += ',';
    out += '"';
    out += a.factors[i];
    out += '"';
  }
  out += "]}";
  return out;
}

double RoundTo(double x, int digits) {
  if (!std::isfinite(x) || x == 0.0) return x;
  // Rounds the shortest decimal text that reads back as x, so values such as
  // 1.005 (stored as 1.00499999999999989...) round as written: 1.01. This is
  // what a reader of the decimal numbers expects and what SQL engines
  // computing on decimals produce.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  std::string_view text(buf, res.ptr - buf);
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  size_t e_pos = text.find('e');
  std::string_view mantissa = text.substr(0, e_pos);
  int exponent = 0;
  std::string_view exp_text = text.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  std::string d;  // all significant digits; d[i] has place value 10^(exponent - i)
  for (char c : mantissa) {
    if (c != '.') d.push_back(c);
  }
  long keep = static_cast<long>(exponent) + digits + 1;  // digits at places >= 10^-digits
  if (keep >= static_cast<long>(d.size())) return x;      // already exact at that precision
  if (keep < 0) return 0.0;                                 // below half a unit
  bool round_up = d[keep] >= '5';  // first dropped digit; ties (5 then zeros) go away from zero
  std::string kept = d.substr(0, keep);
  int last_place = -digits;  // place value of kept's last digit (or of a virtual digit when keep == 0)
  if (round_up) {
    int i = static_cast<int>(kept.size()) - 1;
    while (i >= 0 && kept[i] == '9') {
      kept[i] = '0';
      --i;
    }
    if (i >= 0) {
      ++kept[i];
    } else {
      kept.insert(kept.begin(), '1');
    }
  }
  if (kept.empty()) return 0.0;
  std::string literal = (negative ? "-" : "") + kept + "e" + std::to_string(last_place);
  double out = 0.0;
  std::from_chars(literal.data(), literal.data() + literal.size(), out);
  if (out == 0.0) return 0.0;  // never -0
  return out;
}

double Round2(double x) { return RoundTo(x, 2); }

}  // namespace ws::transform
