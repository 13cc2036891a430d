// DataFileStats: what a data-file writer reports about the file it wrote,
// in the shape an Iceberg manifest entry needs (Iceberg spec, "Manifests":
// column_sizes, value_counts, null_value_counts, lower_bounds, upper_bounds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::format {

struct ColumnFileStats {
  int32_t field_id = 0;
  int64_t compressed_bytes = 0;  // on-disk bytes of this column's chunks
  int64_t value_count = 0;       // values including nulls
  int64_t null_count = 0;
  // Iceberg binary single-value serialisation (spec appendix D): little-endian
  // 4/8-byte ints, 8-byte IEEE doubles, UTF-8 bytes for strings, 1 byte for
  // booleans, micros as 8-byte little-endian for timestamptz. Strings are
  // truncated to 16 bytes (lower bound truncated, upper bound truncated and
  // incremented) as Iceberg's default metrics mode `truncate(16)` does.
  // Absent when every value is null or the type has no ordering (binary).
  std::optional<std::string> lower_bound;
  std::optional<std::string> upper_bound;
};

struct DataFileStats {
  int64_t record_count = 0;
  int64_t file_size_bytes = 0;
  std::vector<ColumnFileStats> columns;  // one per schema field, schema order
  std::vector<int64_t> split_offsets;    // byte offset of each row group
};

// Iceberg `truncate(n)` bounds for UTF-8 strings. Both cut `value` to at most
// `max_bytes` bytes at a code-point boundary (never splitting a character).
// The lower bound is that prefix. The upper bound is the prefix with its last
// incrementable code point incremented (skipping the surrogate range), or the
// value itself when it already fits; nullopt when no code point of the prefix
// can be incremented (all U+10FFFF), meaning "no upper bound".
std::string TruncateLowerBound(std::string_view value, size_t max_bytes = 16);
std::optional<std::string> TruncateUpperBound(std::string_view value, size_t max_bytes = 16);

}  // namespace ws::format
