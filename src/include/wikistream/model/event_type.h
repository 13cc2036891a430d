// EventType: the recentchange `type` values the pipeline counts by name
// (bronze/silver `event_type`, gold.hourly_stats' per-type counts, the live
// per-type counts and the silver gate's valid_event_type check).
//
// Contract: Name() is the exact `type` text of the feed; ParseEventType()
// returns nullopt for any other type (the feed has others, e.g. "142": they
// are kept in bronze and silver and counted in no per-type column). The
// enumerator order is the order of gold.hourly_stats' type columns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wikistream/model/vocabulary.h"

namespace ws::model {

enum class EventType : uint8_t { kEdit, kNew, kLog, kCategorize, kExternal };

inline constexpr std::array<std::string_view, 5> kEventTypeNames = {"edit", "new", "log", "categorize", "external"};
inline constexpr size_t kEventTypeCount = kEventTypeNames.size();

constexpr std::string_view Name(EventType t) { return NameIn(kEventTypeNames, t); }
constexpr std::optional<EventType> ParseEventType(std::string_view s) {
  return ParseIn<EventType>(kEventTypeNames, s);
}
WS_MODEL_ENUM_TO_JSON(EventType)

}  // namespace ws::model
