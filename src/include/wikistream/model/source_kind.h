// SourceKind: where bronze rows come from. Its name is the bronze `source`
// and DLQ `source` column, the key of the resume position in bronze's
// snapshot summary (`wikistream.source.<name>`) and the `--source` prefix.
//
// Contract: Name() is the exact text written ("eventstreams", "replay",
// "synthetic", "kafka"). IsLiveSource: events arrive as they happen, so the
// ingest lag means something (eventstreams, and kafka, which carries the
// EventStreams feed); replayed and synthetic events do not.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wikistream/model/vocabulary.h"

namespace ws::model {

enum class SourceKind : uint8_t { kEventStreams, kReplay, kSynthetic, kKafka };

inline constexpr std::array<std::string_view, 4> kSourceKindNames = {"eventstreams", "replay", "synthetic", "kafka"};

constexpr std::string_view Name(SourceKind k) { return NameIn(kSourceKindNames, k); }
constexpr std::optional<SourceKind> ParseSourceKind(std::string_view s) {
  return ParseIn<SourceKind>(kSourceKindNames, s);
}
WS_MODEL_ENUM_TO_JSON(SourceKind)

constexpr bool IsLiveSource(SourceKind k) { return k == SourceKind::kEventStreams || k == SourceKind::kKafka; }

}  // namespace ws::model
