// Schema: the typed, field-id-carrying description of a table's columns.
//
// Contract: field ids are Iceberg field ids; they are stable for a table's
// lifetime and written into every Parquet file and manifest. Only flat
// schemas of primitive types are supported (all WikiStream tables are flat).
// Types map to Iceberg and Parquet as:
//   kBoolean     boolean      BOOLEAN
//   kInt32       int          INT32
//   kInt64       long         INT64
//   kDouble      double       DOUBLE
//   kString      string       BYTE_ARRAY (STRING logical type, UTF-8)
//   kBinary      binary       BYTE_ARRAY
//   kTimestampTz timestamptz  INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ws::format {

enum class TypeId : uint8_t { kBoolean, kInt32, kInt64, kDouble, kString, kBinary, kTimestampTz };

std::string_view IcebergTypeName(TypeId type);  // "boolean", "int", "long", ..., "timestamptz"
bool ParseIcebergTypeName(std::string_view name, TypeId* type);

struct Field {
  int32_t id = 0;
  std::string name;
  TypeId type = TypeId::kString;
  bool required = false;
  std::string doc;
};

class Schema {
 public:
  Schema() = default;
  Schema(int32_t schema_id, std::vector<Field> fields) : schema_id_(schema_id), fields_(std::move(fields)) {}

  int32_t schema_id() const { return schema_id_; }
  const std::vector<Field>& fields() const { return fields_; }
  size_t num_fields() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  // Index of the named field, or -1.
  int FieldIndex(std::string_view name) const;
  // Index of the field with this id, or -1.
  int FieldIndexById(int32_t id) const;
  int32_t HighestFieldId() const;

  bool Equals(const Schema& other) const;  // same ids, names, types, requiredness, order

 private:
  int32_t schema_id_ = 0;
  std::vector<Field> fields_;
};

using SchemaPtr = std::shared_ptr<const Schema>;

}  // namespace ws::format
