// The little XML and date handling S3's answers need (internal to ws_storage).
// S3 documents are flat and machine-written: elements are found by name,
// never nested in themselves, and carry no attributes we read, so a scanner
// is enough and a full XML parser is not needed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::storage::xml {

// The raw contents of every <tag>...</tag> in `doc`, in order (an empty
// element <tag/> yields an empty string).
std::vector<std::string_view> Elements(std::string_view doc, std::string_view tag);
// The unescaped text of the first <tag> in `doc`, or nullopt.
std::optional<std::string> Text(std::string_view doc, std::string_view tag);
std::string Unescape(std::string_view s);  // &amp; &lt; &gt; &quot; &apos; &#N; &#xN;
std::string Escape(std::string_view s);

// "2024-05-01T12:00:00.000Z" (ListObjectsV2) -> microseconds since the epoch.
std::optional<int64_t> ParseIso8601Micros(std::string_view s);
// "Wed, 01 May 2024 12:00:00 GMT" (Last-Modified) -> microseconds since the epoch.
std::optional<int64_t> ParseHttpDateMicros(std::string_view s);

}  // namespace ws::storage::xml
