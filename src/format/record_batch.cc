#include "wikistream/format/record_batch.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wikistream/common/time.h"

namespace ws::format {

Column::Column(TypeId type) : type_(type) {
  if (type_ == TypeId::kString || type_ == TypeId::kBinary) offsets_.push_back(0);
}

void Column::Reserve(size_t rows, size_t string_bytes) {
  valid_.reserve(rows);
  switch (type_) {
    case TypeId::kBoolean: u8_.reserve(rows); break;
    case TypeId::kInt32: i32_.reserve(rows); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: i64_.reserve(rows); break;
    case TypeId::kDouble: f64_.reserve(rows); break;
    case TypeId::kString:
    case TypeId::kBinary:
      offsets_.reserve(rows + 1);
      bytes_.reserve(string_bytes);
      break;
  }
}

void Column::Clear() {
  valid_.clear();
  u8_.clear();
  i32_.clear();
  i64_.clear();
  f64_.clear();
  offsets_.clear();
  bytes_.clear();
  null_count_ = 0;
  if (type_ == TypeId::kString || type_ == TypeId::kBinary) offsets_.push_back(0);
}

void Column::AppendNull() {
  valid_.push_back(0);
  ++null_count_;
  switch (type_) {
    case TypeId::kBoolean: u8_.push_back(0); break;
    case TypeId::kInt32: i32_.push_back(0); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: i64_.push_back(0); break;
    case TypeId::kDouble: f64_.push_back(0); break;
    case TypeId::kString:
    case TypeId::kBinary: offsets_.push_back(bytes_.size()); break;
  }
}

void Column::AppendBool(bool v) {
  valid_.push_back(1);
  u8_.push_back(v ? 1 : 0);
}
void Column::AppendInt32(int32_t v) {
  valid_.push_back(1);
  i32_.push_back(v);
}
void Column::AppendInt64(int64_t v) {
  valid_.push_back(1);
  i64_.push_back(v);
}
void Column::AppendDouble(double v) {
  valid_.push_back(1);
  f64_.push_back(v);
}
void Column::AppendString(std::string_view v) {
  valid_.push_back(1);
  bytes_.append(v.data(), v.size());
  offsets_.push_back(bytes_.size());
}

void Column::AppendFrom(const Column& other, size_t row) {
  if (other.IsNull(row)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case TypeId::kBoolean: AppendBool(other.GetBool(row)); break;
    case TypeId::kInt32: AppendInt32(other.GetInt32(row)); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: AppendInt64(other.GetInt64(row)); break;
    case TypeId::kDouble: AppendDouble(other.GetDouble(row)); break;
    case TypeId::kString:
    case TypeId::kBinary: AppendString(other.GetString(row)); break;
  }
}

void Column::AppendColumn(const Column& other) {
  valid_.insert(valid_.end(), other.valid_.begin(), other.valid_.end());
  null_count_ += other.null_count_;
  switch (type_) {
    case TypeId::kBoolean: u8_.insert(u8_.end(), other.u8_.begin(), other.u8_.end()); break;
    case TypeId::kInt32: i32_.insert(i32_.end(), other.i32_.begin(), other.i32_.end()); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: i64_.insert(i64_.end(), other.i64_.begin(), other.i64_.end()); break;
    case TypeId::kDouble: f64_.insert(f64_.end(), other.f64_.begin(), other.f64_.end()); break;
    case TypeId::kString:
    case TypeId::kBinary: {
      const uint64_t base = bytes_.size();
      bytes_.append(other.bytes_);
      offsets_.reserve(offsets_.size() + other.size());
      for (size_t i = 1; i < other.offsets_.size(); ++i) offsets_.push_back(base + other.offsets_[i]);
      break;
    }
  }
}

void Column::AppendRows(const Column& other, const std::vector<uint32_t>& rows) {
  valid_.reserve(valid_.size() + rows.size());
  for (uint32_t r : rows) valid_.push_back(other.valid_[r]);
  for (uint32_t r : rows) null_count_ += other.valid_[r] == 0;
  auto gather = [&](auto& out, const auto& in) {
    out.reserve(out.size() + rows.size());
    for (uint32_t r : rows) out.push_back(in[r]);
  };
  switch (type_) {
    case TypeId::kBoolean: gather(u8_, other.u8_); break;
    case TypeId::kInt32: gather(i32_, other.i32_); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: gather(i64_, other.i64_); break;
    case TypeId::kDouble: gather(f64_, other.f64_); break;
    case TypeId::kString:
    case TypeId::kBinary: {
      size_t total = 0;
      for (uint32_t r : rows) total += other.offsets_[r + 1] - other.offsets_[r];
      bytes_.reserve(bytes_.size() + total);
      offsets_.reserve(offsets_.size() + rows.size());
      for (uint32_t r : rows) {
        bytes_.append(other.bytes_, other.offsets_[r], other.offsets_[r + 1] - other.offsets_[r]);
        offsets_.push_back(bytes_.size());
      }
      break;
    }
  }
}

void Column::RetainRows(const std::vector<uint32_t>& rows) {
  // Row k moves to position k <= row: a forward compaction never overwrites a
  // value it still has to read.
  auto compact = [&](auto& values) {
    for (size_t k = 0; k < rows.size(); ++k) values[k] = values[rows[k]];
    values.resize(rows.size());
  };
  null_count_ = 0;
  for (uint32_t r : rows) null_count_ += valid_[r] == 0;
  compact(valid_);
  switch (type_) {
    case TypeId::kBoolean: compact(u8_); break;
    case TypeId::kInt32: compact(i32_); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: compact(i64_); break;
    case TypeId::kDouble: compact(f64_); break;
    case TypeId::kString:
    case TypeId::kBinary: {
      uint64_t end = 0;
      for (size_t k = 0; k < rows.size(); ++k) {
        const uint64_t begin = offsets_[rows[k]], len = offsets_[rows[k] + 1] - begin;
        if (begin != end) std::memmove(bytes_.data() + end, bytes_.data() + begin, len);
        end += len;
        offsets_[k + 1] = end;
      }
      offsets_.resize(rows.size() + 1);
      bytes_.resize(end);
      break;
    }
  }
}

std::string Column::ValueToString(size_t row) const {
  if (IsNull(row)) return "null";
  switch (type_) {
    case TypeId::kBoolean: return GetBool(row) ? "true" : "false";
    case TypeId::kInt32: return std::to_string(GetInt32(row));
    case TypeId::kInt64: return std::to_string(GetInt64(row));
    case TypeId::kTimestampTz: return FormatIso8601(GetInt64(row));
    case TypeId::kDouble: return fmt::format("{}", GetDouble(row));
    case TypeId::kString:
    case TypeId::kBinary: return std::string(GetString(row));
  }
  return "?";
}

bool Column::ValueEquals(size_t row, const Column& other, size_t other_row) const {
  if (IsNull(row) || other.IsNull(other_row)) return IsNull(row) == other.IsNull(other_row);
  switch (type_) {
    case TypeId::kBoolean: return GetBool(row) == other.GetBool(other_row);
    case TypeId::kInt32: return GetInt32(row) == other.GetInt32(other_row);
    case TypeId::kInt64:
    case TypeId::kTimestampTz: return GetInt64(row) == other.GetInt64(other_row);
    case TypeId::kDouble: return GetDouble(row) == other.GetDouble(other_row);
    case TypeId::kString:
    case TypeId::kBinary: return GetString(row) == other.GetString(other_row);
  }
  return false;
}

RecordBatch::RecordBatch(SchemaPtr schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_->num_fields());
  for (const Field& f : schema_->fields()) columns_.emplace_back(f.type);
}

Column& RecordBatch::column(std::string_view name) {
  int i = schema_->FieldIndex(name);
  if (i < 0) {
    std::fprintf(stderr, "RecordBatch::column: no field named %.*s\n", static_cast<int>(name.size()), name.data());
    std::abort();
  }
  return columns_[i];
}

const Column& RecordBatch::column(std::string_view name) const {
  return const_cast<RecordBatch*>(this)->column(name);
}

void RecordBatch::Reserve(size_t rows) {
  for (auto& c : columns_) c.Reserve(rows);
}

void RecordBatch::Clear() {
  for (auto& c : columns_) c.Clear();
}

void RecordBatch::AppendRow(const RecordBatch& other, size_t row) {
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].AppendFrom(other.columns_[i], row);
}

void RecordBatch::Append(const RecordBatch& other) {
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].AppendColumn(other.columns_[i]);
}

RecordBatch RecordBatch::Take(const std::vector<uint32_t>& rows) const {
  RecordBatch out(schema_);
  for (size_t i = 0; i < columns_.size(); ++i) out.columns_[i].AppendRows(columns_[i], rows);
  return out;
}

void RecordBatch::RetainRows(const std::vector<uint32_t>& rows) {
  for (Column& c : columns_) c.RetainRows(rows);
}

Status RecordBatch::Validate() const {
  if (!schema_) return Status::Internal("record batch without schema");
  if (columns_.size() != schema_->num_fields()) return Status::Internal("column count differs from schema");
  size_t n = num_rows();
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Field& f = schema_->field(i);
    if (columns_[i].size() != n) {
      return Status::Internal(fmt::format("column {} has {} rows, expected {}", f.name, columns_[i].size(), n));
    }
    if (columns_[i].type() != f.type) return Status::Internal(fmt::format("column {} has the wrong type", f.name));
    if (f.required && columns_[i].null_count() > 0) {
      return Status::InvalidArgument(fmt::format("required column {} has {} nulls", f.name, columns_[i].null_count()));
    }
  }
  return Status::OK();
}

size_t Column::ByteSize() const {
  return valid_.size() + u8_.size() + i32_.size() * 4 + i64_.size() * 8 + f64_.size() * 8 + offsets_.size() * 8 +
         bytes_.size();
}

size_t RecordBatch::ByteSize() const {
  size_t total = 0;
  for (const auto& c : columns_) total += c.ByteSize();
  return total;
}

}  // namespace ws::format
