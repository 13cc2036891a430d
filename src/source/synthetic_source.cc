#include "wikistream/source/synthetic_source.h"

#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "wikistream/common/time.h"
#include "wikistream/model/event_type.h"

namespace ws::source {

using model::EventType;

namespace {

// xoshiro256** seeded by splitmix64: fixed algorithms, so output is identical everywhere
// (std::*_distribution is implementation-defined and would not be).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Uniform() * static_cast<double>(n)); }
  int64_t Range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  bool Chance(double p) { return Uniform() < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_;
};

struct Wiki {
  const char* domain;
  const char* dbname;
  double weight;
  int script;  // index into kTitleWords
};

// Scripts: 0 Latin, 1 Chinese/Japanese, 2 Korean, 3 Arabic/Persian, 4 Hebrew, 5 Cyrillic, 6 Thai, 7 Wikidata.
constexpr Wiki kWikis[] = {
    {"en.wikipedia.org", "enwiki", 16, 0},      {"de.wikipedia.org", "dewiki", 5, 0},
    {"fr.wikipedia.org", "frwiki", 5, 0},       {"es.wikipedia.org", "eswiki", 4, 0},
    {"it.wikipedia.org", "itwiki", 3, 0},       {"ru.wikipedia.org", "ruwiki", 4, 5},
    {"ja.wikipedia.org", "jawiki", 3.5, 1},     {"zh.wikipedia.org", "zhwiki", 3, 1},
    {"pt.wikipedia.org", "ptwiki", 2.5, 0},     {"pl.wikipedia.org", "plwiki", 2, 0},
    {"nl.wikipedia.org", "nlwiki", 2, 0},       {"ko.wikipedia.org", "kowiki", 1.5, 2},
    {"vi.wikipedia.org", "viwiki", 1.5, 0},     {"id.wikipedia.org", "idwiki", 1.5, 0},
    {"ar.wikipedia.org", "arwiki", 1.5, 3},     {"fa.wikipedia.org", "fawiki", 1.5, 3},
    {"he.wikipedia.org", "hewiki", 1.5, 4},     {"th.wikipedia.org", "thwiki", 1, 6},
    {"commons.wikimedia.org", "commonswiki", 12, 0}, {"www.wikidata.org", "wikidatawiki", 17, 7},
    {"en.wiktionary.org", "enwiktionary", 2, 0},  {"sv.wikipedia.org", "svwiki", 1.5, 0},
    {"uk.wikipedia.org", "ukwiki", 1.5, 5},     {"meta.wikimedia.org", "metawiki", 0.5, 0},
    {"species.wikimedia.org", "specieswiki", 0.5, 0}, {"fr.wiktionary.org", "frwiktionary", 1, 0},
    {"ceb.wikipedia.org", "cebwiki", 1, 0},
};
constexpr size_t kWikiCount = sizeof(kWikis) / sizeof(kWikis[0]);
constexpr size_t kTargetWikiCount = 18;  // the first 18 entries

const std::vector<std::string_view> kTitleWords[] = {
    {"History", "River", "Station", "Football", "Club", "Album", "Battle", "Church", "University", "Railway",
     "Mountain", "Island", "Election", "Castle", "Bridge", "Festival", "Museum", "Party", "Lake", "Novel",
     "Symphony", "Airport", "Cathedral", "Valley", "Empire", "Treaty", "Dynasty", "Opera", "Village", "Harbour"},
    {"東京", "北京", "大学", "鉄道", "歴史", "株式会社", "電影", "音楽", "上海", "駅", "戦争", "県立", "日本", "中国"},
    {"서울", "대학교", "역사", "철도", "음악", "영화", "한국", "부산"},
    {"تاريخ", "جامعة", "مدينة", "نهر", "كرة القدم", "ایران", "تهران", "دانشگاه"},
    {"ירושלים", "היסטוריה", "אוניברסיטה", "תל אביב", "נהר"},
    {"Москва", "История", "Река", "Университет", "Киев", "Станция", "Война"},
    {"กรุงเทพ", "ประวัติศาสตร์", "มหาวิทยาลัย", "แม่น้ำ"},
    {"Q"},
};

constexpr std::string_view kFirstNames[] = {
    "Alex", "Maria", "John", "Yuki", "Chen", "Fatima", "David", "Olga", "Pierre", "Lucia", "Ahmed", "Sven",
    "Priya", "Mateo", "Hana", "Ivan", "Noa", "Kofi", "Elena", "Tomas"};
constexpr std::string_view kBotNames[] = {
    "InternetArchiveBot", "Cewbot", "ClueBot NG", "KrBot", "MatSuBot", "Citation bot", "AnomieBOT", "QuickStatementsBot",
    "SuccuBot", "Pi bot", "Edoderoobot", "Reinheitsgebot", "BotMultichillT", "DeltaBot", "Emijrpbot", "JarBot"};
constexpr std::string_view kComments[] = {
    "/* History */ fixed typo", "Reverted edits by [[Special:Contributions/Example|Example]] to last version",
    "Adding structured data: depicts", "/* wbsetclaim-create:2||1 */ [[Property:P31]]: [[Q5]]",
    "[[:Category:Living people]] added to category", "copyedit", "Updated population figures (2025 census)",
    "/* References */ +ref", "Removing link(s) to deleted pages", "Bot: Fixing redirects",
    "Undid revision 1234567 by Somebody (talk)", "Created page with 'A new article about a village'",
    "/* Career */ expanded section with sources", "rv vandalism", "Protected page [Edit=Allow only autoconfirmed users]"};

struct HeavyUser {
  const char* name;
  double weight;
  bool deletes;  // makes many large deletions
  int home;      // index into kWikis, or -1: roams the target wikis
};
// Non-bot heavy editors, each > 50 edits in a clock hour once ~20k events
// (100 s of event time) were generated. Scores (docs/tables.md, gold.risk_scores): the four
// deleting roamers are HIGH (velocity 40 + deletion 30 [+ anonymous, cross-domain]);
// the others are MEDIUM (40, +20 anonymous, +10 cross-domain for the roamer).
constexpr HeavyUser kHeavy[] = {
    {"203.0.113.77", 0.22, true, -1},   {"~2026-48213-7", 0.18, true, -1}, {"Mass Blanker", 0.15, true, -1},
    {"2001:db8:85a3::8a2e:370:7334", 0.12, true, -1}, {"Speedy Editor", 0.12, false, -1},
    {"~2026-10077-2", 0.09, false, 0}, {"198.51.100.23", 0.07, false, 1}, {"Tireless Gnome", 0.05, false, 2}};
constexpr double kHeavyShare = 0.015;

// Appends without bounds checks beyond std::string growth; every text piece
// comes from the tables above or digits, none needs JSON escaping.
class Out {
 public:
  explicit Out(std::string* s) : s_(s) {}
  Out& operator<<(std::string_view v) {
    s_->append(v);
    return *this;
  }
  Out& operator<<(char c) {
    s_->push_back(c);
    return *this;
  }
  Out& Int(int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    s_->append(buf, r.ptr);
    return *this;
  }
  Out& Pad(int64_t v, int width) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    for (int i = static_cast<int>(r.ptr - buf); i < width; ++i) s_->push_back('0');
    s_->append(buf, r.ptr);
    return *this;
  }
  Out& Hex(uint64_t v, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) s_->push_back(kHex[(v >> (4 * i)) & 0xF]);
    return *this;
  }
  Out& Uuid(Rng& rng) {
    uint64_t hi = (rng.Next() & 0xffffffffffff0fffULL) | 0x4000;
    uint64_t lo = (rng.Next() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    Hex(hi >> 32, 8) << '-';
    Hex((hi >> 16) & 0xffff, 4) << '-';
    Hex(hi & 0xffff, 4) << '-';
    Hex(lo >> 48, 4) << '-';
    return Hex(lo & 0xffffffffffffULL, 12);
  }
  Out& IsoMillis(int64_t micros) {
    int64_t days = micros >= 0 ? micros / kMicrosPerDay : -((-micros + kMicrosPerDay - 1) / kMicrosPerDay);
    int64_t rem = micros - days * kMicrosPerDay;
    int y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    int64_t secs = rem / 1000000;
    Pad(y, 4) << '-';
    Pad(m, 2) << '-';
    Pad(d, 2) << 'T';
    Pad(secs / 3600, 2) << ':';
    Pad(secs / 60 % 60, 2) << ':';
    Pad(secs % 60, 2) << '.';
    return Pad(rem / 1000 % 1000, 3) << 'Z';
  }

 private:
  std::string* s_;
};

}  // namespace

struct SyntheticGenerator::Impl {
  Rng rng;
  int64_t start_us;
  double step_us;
  double malformed_share;
  int64_t index = 0;
  int64_t last_time_us = 0;
  int64_t rc_id = 1900000000;
  int64_t offset = 5600000000;
  SyntheticCounts counts;
  std::array<double, kWikiCount> cumulative{};
  std::array<double, std::size(kHeavy)> heavy_cumulative{};
  // Recent valid lines and their times, for exact duplicates.
  static constexpr size_t kRing = 256;
  std::array<std::string, kRing> ring;
  std::array<int64_t, kRing> ring_time{};
  size_t ring_filled = 0, ring_next = 0;
  bool last_heavy = false;
  std::string title_, title_url_;

  Impl(uint64_t seed, int64_t start, double eps, double bad)
      : rng(seed), start_us(start), step_us(1e6 / (eps > 0 ? eps : 200)), malformed_share(bad) {
    double total = 0;
    for (size_t i = 0; i < kWikiCount; ++i) cumulative[i] = (total += kWikis[i].weight);
    for (auto& c : cumulative) c /= total;
    total = 0;
    for (size_t i = 0; i < std::size(kHeavy); ++i) heavy_cumulative[i] = (total += kHeavy[i].weight);
    for (auto& c : heavy_cumulative) c /= total;
  }

  template <size_t N>
  static size_t Pick(const std::array<double, N>& cum, double u) {
    for (size_t i = 0; i < N; ++i) {
      if (u < cum[i]) return i;
    }
    return N - 1;
  }

  void Title(Out& o, const Wiki& w, int ns) {
    if (w.script == 7) {
      if (ns == 120) {
        o << "Property:P";
        o.Int(rng.Range(1, 12000));
      } else {
        o << 'Q';
        o.Int(static_cast<int64_t>(std::pow(10.0, 2 + rng.Uniform() * 6.2)));
      }
      return;
    }
    if (ns == 14) o << "Category:";
    if (ns == 6) o << "File:";
    if (ns == 2) o << "User:";
    if (ns == 4) o << "Wikipedia:";
    const auto& words = kTitleWords[w.script];
    // Zipf-like page choice so some pages trend: low indexes are much more frequent.
    double u = rng.Uniform();
    size_t a = static_cast<size_t>(u * u * u * static_cast<double>(words.size()));
    size_t b = rng.Below(words.size());
    o << words[a] << ' ' << words[b];
    if (rng.Chance(0.7)) {
      o << ' ';
      o.Int(static_cast<int64_t>(u * u * 300));
    }
    if (ns == 6) o << ".jpg";
  }

  // The user of a non-heavy event; sets *bot.
  void User(Out& o, bool* bot) {
    double u = rng.Uniform();
    if (u < 0.25) {
      *bot = true;
      o << kBotNames[rng.Below(std::size(kBotNames))];
      return;
    }
    *bot = false;
    if (u < 0.31) {  // IPv4
      o.Int(rng.Range(1, 223)) << '.';
      o.Int(rng.Range(0, 255)) << '.';
      o.Int(rng.Range(0, 255)) << '.';
      o.Int(rng.Range(1, 254));
    } else if (u < 0.335) {  // IPv6
      o << "2a02:";
      o.Hex(rng.Below(0x10000), 4) << ':';
      o.Hex(rng.Below(0x10000), 4) << "::";
      o.Hex(rng.Below(0x10000), 4);
    } else if (u < 0.40) {  // temporary account
      o << "~2026-";
      o.Int(rng.Range(1000, 99999)) << '-';
      o.Int(rng.Range(1, 9));
    } else {
      // Registered: a Zipf-ish pool of ~8000 names.
      double z = rng.Uniform();
      int64_t id = static_cast<int64_t>(z * z * z * 8000);
      o << kFirstNames[static_cast<size_t>(id) % std::size(kFirstNames)];
      if (id >= static_cast<int64_t>(std::size(kFirstNames))) o.Int(id);
    }
  }

  // Heavy-tailed size change: |delta| = 20 * U^-1 (Pareto, alpha 1).
  int64_t Delta() {
    double mag = 20.0 / std::max(rng.Uniform(), 1e-7);
    if (mag > 400000) mag = 400000;
    int64_t d = static_cast<int64_t>(mag);
    return rng.Chance(0.62) ? d : -d;
  }

  // One valid event into *line (time `t`); canary when `canary`.
  void Event(std::string* line, int64_t t, bool canary) {
    line->clear();
    Out o(line);
    bool heavy = !canary && rng.Chance(kHeavyShare);
    last_heavy = heavy;
    size_t heavy_idx = heavy ? Pick(heavy_cumulative, rng.Uniform()) : 0;
    size_t wi = Pick(cumulative, rng.Uniform());
    if (heavy) {
      wi = kHeavy[heavy_idx].home >= 0 ? static_cast<size_t>(kHeavy[heavy_idx].home) : rng.Below(kTargetWikiCount);
    }
    const Wiki& w = kWikis[wi];
    std::string_view domain = canary ? std::string_view("canary") : std::string_view(w.domain);

    double tu = rng.Uniform();
    // A type outside the vocabulary ("142") now and then, as the feed has.
    std::optional<EventType> kind = tu < 0.58    ? EventType::kEdit
                                    : tu < 0.84  ? EventType::kCategorize
                                    : tu < 0.92  ? EventType::kLog
                                    : tu < 0.99  ? EventType::kNew
                                    : tu < 0.998 ? std::optional(EventType::kExternal)
                                                 : std::nullopt;
    if (heavy) kind = rng.Chance(0.9) ? EventType::kEdit : EventType::kNew;
    const std::string_view type = kind ? Name(*kind) : std::string_view("142");
    int ns = 0;
    if (kind == EventType::kCategorize) {
      ns = 14;
    } else if (w.script == 7) {
      ns = rng.Chance(0.95) ? 0 : 120;
    } else if (wi == 18) {
      ns = 6;
    } else {
      double nu = rng.Uniform();
      ns = nu < 0.75 ? 0 : nu < 0.85 ? 1 : nu < 0.92 ? 2 : nu < 0.96 ? 3 : 4;
    }
    if (heavy) ns = 0;

    size_t title_start;
    o << R"({"$schema":"/mediawiki/recentchange/1.0.0","meta":{"uri":"https://)" << domain << "/wiki/";
    title_start = line->size();
    Title(o, w, ns);
    size_t title_len = line->size() - title_start;
    for (size_t i = title_start; i < line->size(); ++i) {
      if ((*line)[i] == ' ') (*line)[i] = '_';
    }
    // Copies of the (underscored) title: the line buffer may reallocate while we append.
    title_url_.assign(*line, title_start, title_len);
    title_.assign(title_url_);
    for (char& c : title_) {
      if (c == '_') c = ' ';
    }
    const std::string& title = title_;
    const std::string& title_url = title_url_;
    o << R"(","request_id":")";
    o.Uuid(rng) << R"(","id":")";
    o.Uuid(rng) << R"(","dt":")";
    o.IsoMillis(t) << R"(","domain":")" << domain << R"(","stream":"mediawiki.recentchange","topic":"eqiad.mediawiki.recentchange","partition":0,"offset":)";
    o.Int(offset++) << R"(},"id":)";
    rc_id += 1 + static_cast<int64_t>(rng.Below(3));
    o.Int(rc_id) << R"(,"type":")" << type << R"(","namespace":)";
    o.Int(ns) << R"(,"title":")" << title << R"(","title_url":"https://)" << domain << "/wiki/" << title_url;
    std::string_view comment = kComments[rng.Below(std::size(kComments))];
    o << R"(","comment":")" << comment << R"(","timestamp":)";
    o.Int(t / 1000000) << R"(,"user":")";
    bool bot = false;
    if (heavy) {
      o << kHeavy[heavy_idx].name;
    } else {
      User(o, &bot);
    }
    o << R"(","bot":)" << (bot ? "true" : "false");
    int64_t rev_new = 1200000000 + rc_id / 3;
    int64_t rev_old = rev_new - 1 - static_cast<int64_t>(rng.Below(500000));
    if (kind == EventType::kEdit || kind == EventType::kNew) {
      o << R"(,"notify_url":"https://)" << domain << "/w/index.php?diff=";
      o.Int(rev_new) << "&oldid=";
      o.Int(kind == EventType::kNew ? 0 : rev_old) << '"';
      o << R"(,"minor":)" << (rng.Chance(0.3) ? "true" : "false");
      o << R"(,"patrolled":)" << (bot || rng.Chance(0.6) ? "true" : "false");
      int64_t delta = Delta();
      if (heavy && kHeavy[heavy_idx].deletes && rng.Chance(0.12)) delta = -rng.Range(5001, 60000);
      if (kind == EventType::kNew) {
        int64_t len = std::abs(delta) + rng.Range(50, 3000);
        o << R"(,"length":{"new":)";
        o.Int(len) << R"(},"revision":{"new":)";
        o.Int(rev_new) << '}';
      } else {
        int64_t old_len = static_cast<int64_t>(200.0 * std::pow(2.0, rng.Uniform() * 10));
        if (delta < 0 && -delta > old_len) old_len = -delta + rng.Range(0, 20000);
        o << R"(,"length":{"old":)";
        o.Int(old_len) << R"(,"new":)";
        o.Int(old_len + delta) << R"(},"revision":{"old":)";
        o.Int(rev_old) << R"(,"new":)";
        o.Int(rev_new) << '}';
      }
    } else if (kind == EventType::kLog) {
      static constexpr std::string_view kLogs[][2] = {{"newusers", "create"}, {"delete", "delete"},
                                                     {"block", "block"},     {"upload", "upload"},
                                                     {"move", "move"},       {"patrol", "patrol"},
                                                     {"protect", "protect"}, {"thanks", "thank"}};
      const auto& lg = kLogs[rng.Below(std::size(kLogs))];
      o << R"(,"log_id":)";
      o.Int(rc_id / 7) << R"(,"log_type":")" << lg[0] << R"(","log_action":")" << lg[1]
                       << R"(","log_params":{"userid":)";
      o.Int(rng.Range(1, 50000000)) << R"(},"log_action_comment":")" << lg[0] << ' ' << comment << '"';
    }
    o << R"(,"server_url":"https://)" << domain << R"(","server_name":")" << domain
      << R"(","server_script_path":"/w","wiki":")" << w.dbname << R"(","parsedcomment":"<span dir=\"auto\">)" << comment
      << R"(</span>"})";
  }

  void Malformed(std::string* line, int64_t t) {
    uint64_t kind = rng.Below(4);
    if (kind == 3) {
      static constexpr std::string_view kNonObjects[] = {"[\"not\",\"an\",\"object\"]", "\"just a string\"", "42",
                                                         "null", "true"};
      line->assign(kNonObjects[rng.Below(std::size(kNonObjects))]);
      return;
    }
    Event(line, t, false);
    if (kind == 0) {  // truncated JSON, as from a cut write
      size_t cut = line->size() / 2 + rng.Below(line->size() / 4);
      // Cut on a character boundary: the line must stay valid UTF-8 (invalid_json, not invalid_utf8).
      while (cut > 0 && (static_cast<unsigned char>((*line)[cut]) & 0xC0) == 0x80) --cut;
      line->resize(cut);
    } else if (kind == 1) {  // no meta.id
      size_t p = line->find(R"(,"id":")");
      size_t e = line->find('"', p + 7);
      line->erase(p, e + 1 - p);
    } else {  // a known field of the wrong JSON type
      uint64_t k = rng.Below(3);
      if (k == 0) {
        size_t p = line->find(R"("bot":)") + 6;
        size_t e = line->find_first_of(",}", p);
        line->replace(p, e - p, "\"yes\"");
      } else if (k == 1) {
        size_t p = line->find(R"("namespace":)") + 12;
        line->insert(p, "\"ns");
        size_t e = line->find_first_of(",}", p);
        line->insert(e, "\"");
      } else {
        size_t p = line->find(R"("timestamp":)") + 12;
        size_t e = line->find_first_of(",}", p);
        line->replace(p, e - p, "\"yesterday\"");
      }
    }
  }

  void Next(std::string* line) {
    int64_t t = start_us + static_cast<int64_t>((static_cast<double>(index) + rng.Uniform() * 0.9) * step_us);
    ++index;
    ++counts.lines;
    double u = rng.Uniform();
    if (u < malformed_share) {
      ++counts.malformed;
      Malformed(line, t);
      last_time_us = t;
      return;
    }
    u -= malformed_share;
    if (u < 0.002 && ring_filled > 0) {
      ++counts.duplicates;
      size_t k = rng.Below(ring_filled);
      *line = ring[k];
      last_time_us = ring_time[k];
      return;
    }
    bool canary = u >= 0.002 && u < 0.003;
    if (canary) ++counts.canaries;
    Event(line, t, canary);
    last_time_us = t;
    if (!canary) {
      if (last_heavy) ++counts.heavy;
      ring[ring_next] = *line;
      ring_time[ring_next] = t;
      ring_next = (ring_next + 1) % kRing;
      ring_filled = std::min(ring_filled + 1, kRing);
    }
  }

};

SyntheticGenerator::SyntheticGenerator(uint64_t seed, int64_t start_time_us, double events_per_second,
                                       double malformed_share)
    : impl_(std::make_unique<Impl>(seed, start_time_us, events_per_second, malformed_share)) {}
SyntheticGenerator::~SyntheticGenerator() = default;
SyntheticGenerator::SyntheticGenerator(SyntheticGenerator&&) noexcept = default;
SyntheticGenerator& SyntheticGenerator::operator=(SyntheticGenerator&&) noexcept = default;

std::string SyntheticGenerator::Next() {
  std::string line;
  line.reserve(1024);
  impl_->Next(&line);
  return line;
}
void SyntheticGenerator::NextInto(std::string* line) { impl_->Next(line); }
int64_t SyntheticGenerator::last_event_time_us() const { return impl_->last_time_us; }
const SyntheticCounts& SyntheticGenerator::counts() const { return impl_->counts; }

namespace {

class SyntheticSource : public Source {
 public:
  SyntheticSource(uint64_t seed, int64_t count, double speed, int64_t start_us)
      : seed_(seed), count_(count), speed_(speed), start_us_(start_us), gen_(seed, start_us, Rate(speed)) {}

  // Paced streams are "live": N x the generator's base rate, with event
  // times that keep step with the wall clock (so freshness checks hold at any
  // speed). Unpaced runs keep the base rate and are reproducible.
  static double Rate(double speed) { return speed > 0 ? 200.0 * speed : 200.0; }

  model::SourceKind kind() const override { return model::SourceKind::kSynthetic; }

  Status Resume(const std::string& position) override {
    if (position.empty()) return Status::OK();
    nlohmann::json j = nlohmann::json::parse(position, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("next") || !j["next"].is_number_unsigned()) {
      return Status::InvalidArgument("synthetic position is not {\"seed\":S,\"next\":N}: " + position);
    }
    if (j.contains("seed") && (!j["seed"].is_number_unsigned() || j["seed"].get<uint64_t>() != seed_)) {
      return Status::InvalidArgument("synthetic position belongs to another seed: " + position);
    }
    if (j.contains("start") && j["start"].is_number_integer()) start_us_ = j["start"].get<int64_t>();
    int64_t next = j["next"].get<int64_t>();
    gen_ = SyntheticGenerator(seed_, start_us_, Rate(speed_));
    std::string scratch;
    for (int64_t i = 0; i < next; ++i) gen_.NextInto(&scratch);
    next_ = next;
    return Status::OK();
  }

  Status Poll(std::vector<SourceRecord>* out, size_t max_records, std::chrono::milliseconds timeout) override {
    if (stopped_.load()) return Status::Cancelled("synthetic source stopped");
    int64_t deadline = MonotonicMicros() + std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    size_t added = 0;
    while (added < max_records) {
      if (stopped_.load()) {
        if (added == 0) return Status::Cancelled("synthetic source stopped");
        break;
      }
      if (!has_pending_) {
        if (count_ >= 0 && next_ >= count_) {
          if (added == 0) return Status::EndOfStream();
          break;
        }
        gen_.NextInto(&pending_);
        has_pending_ = true;
      }
      if (speed_ > 0) {
        int64_t t = gen_.last_event_time_us();
        if (!pace_started_) {
          pace_started_ = true;
          first_time_ = t;
          wall_base_ = MonotonicMicros();
        }
        int64_t due = wall_base_ + (t - first_time_);
        int64_t now = MonotonicMicros();
        if (due > now) {
          if (added > 0 || now >= deadline) break;
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait_for(lock, std::chrono::microseconds(std::min(due, deadline) - now), [&] { return stopped_.load(); });
          continue;
        }
      }
      SourceRecord rec;
      rec.payload = std::move(pending_);
      pending_.clear();
      has_pending_ = false;
      rec.received_at_us = NowMicros();
      ++next_;
      rec.position = PositionAt(next_);
      out->push_back(std::move(rec));
      ++added;
    }
    return Status::OK();
  }

  std::string ResumePosition() const override { return PositionAt(next_); }

  void Stop() override {
    stopped_.store(true);
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }

 private:
  std::string PositionAt(int64_t next) const {
    return "{\"seed\":" + std::to_string(seed_) + ",\"next\":" + std::to_string(next) +
           ",\"start\":" + std::to_string(start_us_) + "}";
  }

  const uint64_t seed_;
  const int64_t count_;
  const double speed_;
  int64_t start_us_;
  SyntheticGenerator gen_;
  int64_t next_ = 0;
  bool has_pending_ = false;
  std::string pending_;
  bool pace_started_ = false;
  int64_t first_time_ = 0, wall_base_ = 0;
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace

Result<std::unique_ptr<Source>> MakeSyntheticSource(uint64_t seed, int64_t count, double speed) {
  if (!(speed >= 0)) return Status::InvalidArgument("synthetic speed must be >= 0");
  if (count < -1) return Status::InvalidArgument("synthetic count must be >= 0 or -1 (endless)");
  // Live-like runs get event times near now (the DQ timeliness checks assume it);
  // a finite unpaced run is reproducible to the byte.
  int64_t start = (count < 0 || speed > 0) ? NowMicros() : kSyntheticDefaultStartUs;
  return std::unique_ptr<Source>(std::make_unique<SyntheticSource>(seed, count, speed, start));
}

Status WriteSyntheticNdjson(int64_t count, uint64_t seed, std::FILE* out) {
  if (count < 0) return Status::InvalidArgument("generate: the count must be >= 0");
  SyntheticGenerator gen(seed);
  std::string line, buf;
  buf.reserve(1 << 20);
  for (int64_t i = 0; i < count; ++i) {
    gen.NextInto(&line);
    buf += line;
    buf += '\n';
    if (buf.size() >= (1 << 20) - 4096 || i + 1 == count) {
      if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
        return Status::IOError("generate: write failed");
      }
      buf.clear();
    }
  }
  if (std::fflush(out) != 0) return Status::IOError("generate: flush failed");
  return Status::OK();
}

}  // namespace ws::source
