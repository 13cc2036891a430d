// Table metadata JSON (Iceberg spec "Table Metadata" and appendix C).
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "table_internal.h"
#include "wikistream/common/uuid.h"

namespace ws::table {

using format::Field;
using format::IcebergTypeName;
using format::ParseIcebergTypeName;
using format::Schema;
using nlohmann::json;

const SnapshotInfo* Table::State::FindSnapshot(int64_t id) const {
  for (const auto& s : snapshots) {
    if (s.snapshot_id == id) return &s;
  }
  return nullptr;
}

const SnapshotInfo* Table::State::Current() const {
  return current_snapshot_id ? FindSnapshot(*current_snapshot_id) : nullptr;
}

std::vector<const SnapshotInfo*> Table::State::Ancestry(int64_t id) const {
  // Tables keep thousands of snapshots between expiries: index once, not per step.
  std::unordered_map<int64_t, const SnapshotInfo*> by_id;
  by_id.reserve(snapshots.size());
  for (const auto& s : snapshots) by_id[s.snapshot_id] = &s;
  std::vector<const SnapshotInfo*> out;
  auto it = by_id.find(id);
  while (it != by_id.end() && out.size() <= snapshots.size()) {
    out.push_back(it->second);
    it = it->second->parent_id ? by_id.find(*it->second->parent_id) : by_id.end();
  }
  return out;
}

int64_t MetadataVersion(const std::string& metadata_location) {
  auto slash = metadata_location.find_last_of('/');
  std::string name = slash == std::string::npos ? metadata_location : metadata_location.substr(slash + 1);
  constexpr std::string_view kSuffix = ".metadata.json";
  if (!name.ends_with(kSuffix)) return 0;
  const bool hadoop_form = !name.empty() && name[0] == 'v';  // vN.metadata.json
  size_t i = hadoop_form ? 1 : 0;
  const size_t digits_start = i;
  int64_t n = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && n < (int64_t{1} << 53)) {
    n = n * 10 + (name[i] - '0');
    ++i;
  }
  if (i == digits_start) return 0;
  if (hadoop_form) return i + kSuffix.size() == name.size() ? n : 0;
  return name[i] == '-' ? n : 0;  // NNNNN-<uuid>.metadata.json
}

std::string MetadataFileName(const std::string& meta_dir, int64_t version, bool exclusive_creates) {
  if (exclusive_creates) return fmt::format("{}/v{}.metadata.json", meta_dir, version);
  return fmt::format("{}/{:05d}-{}.metadata.json", meta_dir, version, NewUuid());
}

namespace {

json SchemaJson(const Schema& schema) {
  json fields = json::array();
  for (const auto& f : schema.fields()) {
    json jf = {{"id", f.id}, {"name", f.name}, {"required", f.required}, {"type", std::string(IcebergTypeName(f.type))}};
    if (!f.doc.empty()) jf["doc"] = f.doc;
    fields.push_back(std::move(jf));
  }
  return json{{"type", "struct"}, {"schema-id", schema.schema_id()}, {"fields", std::move(fields)}};
}

json PartitionFieldsArray(const std::vector<PartitionField>& fields) {
  json out = json::array();
  for (const auto& p : fields) {
    out.push_back({{"name", p.name}, {"transform", "identity"}, {"source-id", p.source_id}, {"field-id", p.field_id}});
  }
  return out;
}

}  // namespace

std::string SchemaToJson(const Schema& schema) { return SchemaJson(schema).dump(); }
std::string PartitionFieldsJson(const std::vector<PartitionField>& fields) { return PartitionFieldsArray(fields).dump(); }

std::string MetadataToJson(const Table::State& s) {
  json j;
  j["format-version"] = 2;
  j["table-uuid"] = s.table_uuid;
  j["location"] = ToLocationUri(s.location);
  j["last-sequence-number"] = s.last_sequence_number;
  j["last-updated-ms"] = s.last_updated_ms;
  j["last-column-id"] = s.last_column_id;
  j["current-schema-id"] = s.schema->schema_id();
  j["schemas"] = json::array({SchemaJson(*s.schema)});
  j["default-spec-id"] = 0;
  j["partition-specs"] = json::array({json{{"spec-id", 0}, {"fields", PartitionFieldsArray(s.partition_fields)}}});
  j["last-partition-id"] = s.last_partition_id;
  j["default-sort-order-id"] = 0;
  j["sort-orders"] = json::array({json{{"order-id", 0}, {"fields", json::array()}}});
  j["properties"] = s.properties;
  // -1 is what the reference implementation writes for "no snapshot"; readers accept it.
  j["current-snapshot-id"] = s.current_snapshot_id ? *s.current_snapshot_id : -1;
  json refs = json::object();
  if (s.current_snapshot_id) refs["main"] = {{"snapshot-id", *s.current_snapshot_id}, {"type", "branch"}};
  j["refs"] = refs;
  json snaps = json::array();
  for (const auto& sn : s.snapshots) {
    json js;
    js["snapshot-id"] = sn.snapshot_id;
    if (sn.parent_id) js["parent-snapshot-id"] = *sn.parent_id;
    js["sequence-number"] = sn.sequence_number;
    js["timestamp-ms"] = sn.timestamp_ms;
    js["summary"] = sn.summary;
    js["manifest-list"] = ToLocationUri(sn.manifest_list);
    js["schema-id"] = sn.schema_id;
    snaps.push_back(std::move(js));
  }
  j["snapshots"] = std::move(snaps);
  json slog = json::array();
  for (const auto& [ts, id] : s.snapshot_log) slog.push_back({{"timestamp-ms", ts}, {"snapshot-id", id}});
  j["snapshot-log"] = std::move(slog);
  json mlog = json::array();
  for (const auto& [ts, file] : s.metadata_log) mlog.push_back({{"timestamp-ms", ts}, {"metadata-file", ToLocationUri(file)}});
  j["metadata-log"] = std::move(mlog);
  j["statistics"] = json::array();
  // Compact: the file is rewritten on every commit and grows with the snapshot count.
  return j.dump();
}

namespace {

// Every number of format-v2 metadata we read is an integer. get<int>() on a
// JSON float static_casts it, undefined behaviour when it is out of range
// (found by fuzz/table_metadata_fuzzer with "format-version": 1e99).
// Iterative: the nesting depth is the file's to choose.
bool HasFloat(const json& root) {
  std::vector<const json*> todo{&root};
  while (!todo.empty()) {
    const json* j = todo.back();
    todo.pop_back();
    if (j->is_number_float()) return true;
    if (j->is_structured()) {
      for (const auto& v : *j) todo.push_back(&v);
    }
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<Table::State>> MetadataFromJson(const std::string& text, const std::string& location) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("table metadata is not JSON: " + location);
  if (HasFloat(j)) return Status::Corruption("table metadata has a non-integer number: " + location);
  auto s = std::make_shared<Table::State>();
  s->metadata_location = location;
  s->version = MetadataVersion(location);
  try {
    if (j.at("format-version").get<int>() != 2) return Status::NotSupported("only format-version 2: " + location);
    s->table_uuid = j.at("table-uuid").get<std::string>();
    s->location = FromLocationUri(j.at("location").get<std::string>());
    s->last_sequence_number = j.at("last-sequence-number").get<int64_t>();
    s->last_updated_ms = j.at("last-updated-ms").get<int64_t>();
    s->last_column_id = j.at("last-column-id").get<int32_t>();
    int32_t current_schema = j.at("current-schema-id").get<int32_t>();
    for (const auto& js : j.at("schemas")) {
      if (js.at("schema-id").get<int32_t>() != current_schema) continue;
      std::vector<Field> fields;
      for (const auto& jf : js.at("fields")) {
        Field f;
        f.id = jf.at("id").get<int32_t>();
        f.name = jf.at("name").get<std::string>();
        f.required = jf.at("required").get<bool>();
        if (!jf.at("type").is_string() || !ParseIcebergTypeName(jf.at("type").get<std::string>(), &f.type)) {
          return Status::NotSupported("unsupported column type in " + location);
        }
        if (jf.contains("doc")) f.doc = jf["doc"].get<std::string>();
        fields.push_back(std::move(f));
      }
      s->schema = std::make_shared<Schema>(current_schema, std::move(fields));
    }
    if (!s->schema) return Status::Corruption("current schema missing: " + location);
    int32_t spec_id = j.at("default-spec-id").get<int32_t>();
    for (const auto& spec : j.at("partition-specs")) {
      if (spec.at("spec-id").get<int32_t>() != spec_id) continue;
      for (const auto& pf : spec.at("fields")) {
        if (pf.at("transform").get<std::string>() != "identity") {
          return Status::NotSupported("only identity partitions are supported: " + location);
        }
        PartitionField p;
        p.source_id = pf.at("source-id").get<int32_t>();
        p.field_id = pf.at("field-id").get<int32_t>();
        p.name = pf.at("name").get<std::string>();
        int idx = s->schema->FieldIndexById(p.source_id);
        if (idx < 0) return Status::Corruption("partition source column missing: " + location);
        p.type = s->schema->field(idx).type;
        s->partition_fields.push_back(std::move(p));
      }
    }
    s->last_partition_id = j.value("last-partition-id", 999);
    if (j.contains("properties")) s->properties = j["properties"].get<std::map<std::string, std::string>>();
    if (j.contains("current-snapshot-id") && !j["current-snapshot-id"].is_null()) {
      int64_t id = j["current-snapshot-id"].get<int64_t>();
      if (id != -1) s->current_snapshot_id = id;
    }
    if (j.contains("snapshots")) {
      for (const auto& js : j["snapshots"]) {
        SnapshotInfo sn;
        sn.snapshot_id = js.at("snapshot-id").get<int64_t>();
        if (js.contains("parent-snapshot-id") && !js["parent-snapshot-id"].is_null()) {
          sn.parent_id = js["parent-snapshot-id"].get<int64_t>();
        }
        sn.sequence_number = js.value("sequence-number", int64_t{0});
        sn.timestamp_ms = js.at("timestamp-ms").get<int64_t>();
        if (js.contains("summary")) sn.summary = js["summary"].get<std::map<std::string, std::string>>();
        auto op = sn.summary.find("operation");
        sn.operation = op == sn.summary.end() ? "" : op->second;
        sn.manifest_list = FromLocationUri(js.at("manifest-list").get<std::string>());
        sn.schema_id = js.value("schema-id", 0);
        s->snapshots.push_back(std::move(sn));
      }
    }
    if (j.contains("snapshot-log")) {
      for (const auto& e : j["snapshot-log"]) {
        s->snapshot_log.emplace_back(e.at("timestamp-ms").get<int64_t>(), e.at("snapshot-id").get<int64_t>());
      }
    }
    if (j.contains("metadata-log")) {
      for (const auto& e : j["metadata-log"]) {
        s->metadata_log.emplace_back(e.at("timestamp-ms").get<int64_t>(),
                                     FromLocationUri(e.at("metadata-file").get<std::string>()));
      }
    }
  } catch (const json::exception& e) {
    return Status::Corruption("table metadata " + location + ": " + e.what());
  }
  if (s->current_snapshot_id && s->Current() == nullptr) {
    return Status::Corruption("current snapshot missing from " + location);
  }
  return s;
}

}  // namespace ws::table
