// Column and RecordBatch: WikiStream's in-memory columnar rows.
//
// Contract: a Column holds values of one TypeId plus a validity byte per row
// (1 = present, 0 = null). Null rows still occupy a slot in the value storage
// (holding 0 / empty), so row i is always at index i. Strings and binaries are
// stored as one contiguous byte buffer plus offsets (offsets.size() ==
// size() + 1), so appending a value never allocates per value. kInt64 and
// kTimestampTz share int64 storage; kBoolean uses one byte per value.
// A RecordBatch is a schema plus one Column per field, all of equal length.
// Neither class is thread-safe for concurrent mutation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/status.h"
#include "wikistream/format/schema.h"

namespace ws::format {

class Column {
 public:
  explicit Column(TypeId type = TypeId::kString);

  TypeId type() const { return type_; }
  size_t size() const { return valid_.size(); }
  size_t null_count() const { return null_count_; }
  bool empty() const { return valid_.empty(); }

  void Reserve(size_t rows, size_t string_bytes = 0);
  void Clear();

  void AppendNull();
  void AppendBool(bool v);
  void AppendInt32(int32_t v);
  void AppendInt64(int64_t v);  // also kTimestampTz (micros)
  void AppendDouble(double v);
  void AppendString(std::string_view v);  // also kBinary
  // Appends row `row` of `other` (same type) to this column.
  void AppendFrom(const Column& other, size_t row);
  // Appends every row of `other` (same type): bulk copies of each storage
  // vector, the way batches are concatenated on the hot paths.
  void AppendColumn(const Column& other);
  // Appends rows `rows` of `other` (same type) in that order; the string
  // bytes are reserved once.
  void AppendRows(const Column& other, const std::vector<uint32_t>& rows);
  // Keeps only `rows` (strictly increasing), in place: no second buffer.
  void RetainRows(const std::vector<uint32_t>& rows);
  // Overwrites a present int64/timestamp value in place (e.g. a batch's
  // commit time, known only when the batch is committed).
  void SetInt64(size_t row, int64_t v) { i64_[row] = v; }

  template <typename T>
  void AppendOptional(const std::optional<T>& v);

  bool IsNull(size_t row) const { return valid_[row] == 0; }
  bool IsValid(size_t row) const { return valid_[row] != 0; }
  bool GetBool(size_t row) const { return u8_[row] != 0; }
  int32_t GetInt32(size_t row) const { return i32_[row]; }
  int64_t GetInt64(size_t row) const { return i64_[row]; }
  double GetDouble(size_t row) const { return f64_[row]; }
  std::string_view GetString(size_t row) const {
    return std::string_view(bytes_.data() + offsets_[row], offsets_[row + 1] - offsets_[row]);
  }

  // Raw storage, for encoders.
  const std::vector<uint8_t>& validity() const { return valid_; }
  const std::vector<uint8_t>& bool_values() const { return u8_; }
  const std::vector<int32_t>& int32_values() const { return i32_; }
  const std::vector<int64_t>& int64_values() const { return i64_; }
  const std::vector<double>& double_values() const { return f64_; }
  const std::vector<uint64_t>& string_offsets() const { return offsets_; }
  const std::string& string_bytes() const { return bytes_; }

  // Value of row as text for display/debugging ("null" for nulls,
  // ISO-8601 for timestamps).
  std::string ValueToString(size_t row) const;
  // Approximate bytes held (sizes, not capacities), for memory accounting
  // and for balancing work by column.
  size_t ByteSize() const;
  bool ValueEquals(size_t row, const Column& other, size_t other_row) const;

 private:
  TypeId type_;
  size_t null_count_ = 0;
  std::vector<uint8_t> valid_;
  std::vector<uint8_t> u8_;
  std::vector<int32_t> i32_;
  std::vector<int64_t> i64_;
  std::vector<double> f64_;
  std::vector<uint64_t> offsets_;
  std::string bytes_;
};

template <typename T>
void Column::AppendOptional(const std::optional<T>& v) {
  if (!v) {
    AppendNull();
  } else if constexpr (std::is_same_v<T, bool>) {
    AppendBool(*v);
  } else if constexpr (std::is_same_v<T, int32_t>) {
    AppendInt32(*v);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    AppendInt64(*v);
  } else if constexpr (std::is_same_v<T, double>) {
    AppendDouble(*v);
  } else {
    AppendString(*v);
  }
}

class RecordBatch {
 public:
  RecordBatch() = default;
  explicit RecordBatch(SchemaPtr schema);  // empty columns typed by the schema

  const SchemaPtr& schema() const { return schema_; }
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  size_t num_columns() const { return columns_.size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  // Column by name; aborts (a bug) if the schema has no such field.
  Column& column(std::string_view name);
  const Column& column(std::string_view name) const;
  std::vector<Column>& columns() { return columns_; }

  void Reserve(size_t rows);
  void Clear();
  // Appends row `row` of `other`, which must have an equal schema.
  void AppendRow(const RecordBatch& other, size_t row);
  void Append(const RecordBatch& other);
  RecordBatch Take(const std::vector<uint32_t>& rows) const;
  void RetainRows(const std::vector<uint32_t>& rows);  // strictly increasing

  // All columns the same length; required columns have no nulls.
  Status Validate() const;
  // Approximate bytes held, for memory accounting.
  size_t ByteSize() const;

 private:
  SchemaPtr schema_;
  std::vector<Column> columns_;
};

}  // namespace ws::format
