#include "wikistream/format/schema.h"

namespace ws::format {

std::string_view IcebergTypeName(TypeId type) {
  switch (type) {
    case TypeId::kBoolean: return "boolean";
    case TypeId::kInt32: return "int";
    case TypeId::kInt64: return "long";
    case TypeId::kDouble: return "double";
    case TypeId::kString: return "string";
    case TypeId::kBinary: return "binary";
    case TypeId::kTimestampTz: return "timestamptz";
  }
  return "unknown";
}

bool ParseIcebergTypeName(std::string_view name, TypeId* type) {
  static const std::pair<std::string_view, TypeId> kNames[] = {
      {"boolean", TypeId::kBoolean}, {"int", TypeId::kInt32},     {"long", TypeId::kInt64},
      {"double", TypeId::kDouble},   {"string", TypeId::kString}, {"binary", TypeId::kBinary},
      {"timestamptz", TypeId::kTimestampTz}};
  for (const auto& [n, t] : kNames) {
    if (n == name) {
      *type = t;
      return true;
    }
  }
  return false;
}

int Schema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Schema::FieldIndexById(int32_t id) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

int32_t Schema::HighestFieldId() const {
  int32_t highest = 0;
  for (const auto& f : fields_) highest = std::max(highest, f.id);
  return highest;
}

bool Schema::Equals(const Schema& other) const {
  if (fields_.size() != other.fields_.size()) return false;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const Field& a = fields_[i];
    const Field& b = other.fields_[i];
    if (a.id != b.id || a.name != b.name || a.type != b.type || a.required != b.required) return false;
  }
  return true;
}

}  // namespace ws::format
