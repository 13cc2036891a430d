// Manifests and manifest lists: Avro files with Iceberg's v2 schemas and
// field ids (Iceberg spec "Manifests", "Manifest Lists", appendix D).
#include <fmt/format.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "table_internal.h"
#include "wikistream/format/avro.h"

namespace ws::table {

using format::AvroFileReader;
using format::AvroFileWriter;
using format::AvroNode;
using format::AvroType;
using format::AvroValue;
using format::ColumnFileStats;
using format::IcebergTypeName;
using format::TypeId;

namespace {

std::string AvroPrimitiveFor(TypeId type) {
  switch (type) {
    case TypeId::kBoolean: return R"("boolean")";
    case TypeId::kInt32: return R"("int")";
    case TypeId::kInt64: return R"("long")";
    case TypeId::kDouble: return R"("double")";
    case TypeId::kString: return R"("string")";
    case TypeId::kBinary: return R"("bytes")";
    case TypeId::kTimestampTz: return R"({"type":"long","logicalType":"timestamp-micros","adjust-to-utc":true})";
  }
  return R"("string")";
}

std::string MapField(const char* name, int field_id, int key_id, int value_id, const char* value_type) {
  return fmt::format(
      R"({{"name":"{0}","type":["null",{{"type":"array","items":{{"type":"record","name":"k{2}_v{3}","fields":[{{"name":"key","type":"int","field-id":{2}}},{{"name":"value","type":"{4}","field-id":{3}}}]}},"logicalType":"map"}}],"default":null,"field-id":{1}}})",
      name, field_id, key_id, value_id, value_type);
}

std::string ManifestEntrySchema(const std::vector<PartitionField>& partition) {
  std::string pfields;
  for (const auto& p : partition) {
    if (!pfields.empty()) pfields += ",";
    pfields += fmt::format(R"({{"name":"{}","type":["null",{}],"default":null,"field-id":{}}})", p.name,
                           AvroPrimitiveFor(p.type), p.field_id);
  }
  std::string data_file = fmt::format(
      R"({{"type":"record","name":"r2","fields":[)"
      R"({{"name":"content","type":"int","doc":"Contents of the file: 0=data, 1=position deletes, 2=equality deletes","field-id":134}},)"
      R"({{"name":"file_path","type":"string","doc":"Location URI with FS scheme","field-id":100}},)"
      R"({{"name":"file_format","type":"string","doc":"File format name: avro, orc, or parquet","field-id":101}},)"
      R"({{"name":"partition","type":{{"type":"record","name":"r102","fields":[{}]}},"doc":"Partition data tuple, schema based on the partition spec","field-id":102}},)"
      R"({{"name":"record_count","type":"long","doc":"Number of records in the file","field-id":103}},)"
      R"({{"name":"file_size_in_bytes","type":"long","doc":"Total file size in bytes","field-id":104}},)"
      "{},{},{},{},{},{},"
      R"({{"name":"key_metadata","type":["null","bytes"],"default":null,"field-id":131}},)"
      R"({{"name":"split_offsets","type":["null",{{"type":"array","items":"long","element-id":133}}],"default":null,"field-id":132}},)"
      R"({{"name":"equality_ids","type":["null",{{"type":"array","items":"int","element-id":136}}],"default":null,"field-id":135}},)"
      R"({{"name":"sort_order_id","type":["null","int"],"default":null,"field-id":140}}]}})",
      pfields, MapField("column_sizes", 108, 117, 118, "long"), MapField("value_counts", 109, 119, 120, "long"),
      MapField("null_value_counts", 110, 121, 122, "long"), MapField("nan_value_counts", 137, 138, 139, "long"),
      MapField("lower_bounds", 125, 126, 127, "bytes"), MapField("upper_bounds", 128, 129, 130, "bytes"));
  return fmt::format(
      R"({{"type":"record","name":"manifest_entry","fields":[)"
      R"({{"name":"status","type":"int","field-id":0}},)"
      R"({{"name":"snapshot_id","type":["null","long"],"default":null,"field-id":1}},)"
      R"({{"name":"sequence_number","type":["null","long"],"default":null,"field-id":3}},)"
      R"({{"name":"file_sequence_number","type":["null","long"],"default":null,"field-id":4}},)"
      R"({{"name":"data_file","type":{},"field-id":2}}]}})",
      data_file);
}

const char* kManifestListSchema =
    R"({"type":"record","name":"manifest_file","fields":[)"
    R"({"name":"manifest_path","type":"string","doc":"Location URI with FS scheme","field-id":500},)"
    R"({"name":"manifest_length","type":"long","doc":"Total file size in bytes","field-id":501},)"
    R"({"name":"partition_spec_id","type":"int","doc":"Spec ID used to write","field-id":502},)"
    R"({"name":"content","type":"int","doc":"Contents of the manifest: 0=data, 1=deletes","field-id":517},)"
    R"({"name":"sequence_number","type":"long","doc":"Sequence number when the manifest was added","field-id":515},)"
    R"({"name":"min_sequence_number","type":"long","doc":"Lowest sequence number in the manifest","field-id":516},)"
    R"({"name":"added_snapshot_id","type":"long","doc":"Snapshot ID that added the manifest","field-id":503},)"
    R"({"name":"added_files_count","type":"int","doc":"Added entry count","field-id":504},)"
    R"({"name":"existing_files_count","type":"int","doc":"Existing entry count","field-id":505},)"
    R"({"name":"deleted_files_count","type":"int","doc":"Deleted entry count","field-id":506},)"
    R"({"name":"added_rows_count","type":"long","doc":"Added rows count","field-id":512},)"
    R"({"name":"existing_rows_count","type":"long","doc":"Existing rows count","field-id":513},)"
    R"({"name":"deleted_rows_count","type":"long","doc":"Deleted rows count","field-id":514},)"
    R"({"name":"partitions","type":["null",{"type":"array","items":{"type":"record","name":"r508","fields":[)"
    R"({"name":"contains_null","type":"boolean","doc":"True if any file has a null partition value","field-id":509},)"
    R"({"name":"contains_nan","type":["null","boolean"],"doc":"True if any file has a nan partition value","default":null,"field-id":518},)"
    R"({"name":"lower_bound","type":["null","bytes"],"doc":"Partition lower bound for all files","default":null,"field-id":510},)"
    R"({"name":"upper_bound","type":["null","bytes"],"doc":"Partition upper bound for all files","default":null,"field-id":511}]},)"
    R"("element-id":508}],"doc":"Summary for each partition","default":null,"field-id":507},)"
    R"({"name":"key_metadata","type":["null","bytes"],"doc":"Encryption key metadata blob","default":null,"field-id":519}]})";

void PutLE(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLE(const std::string& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < s.size() && i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
  return v;
}

Result<AvroValue> PartitionAvroValue(TypeId type, const std::string& text) {
  try {
    switch (type) {
      case TypeId::kBoolean:
        if (text != "true" && text != "false") break;
        return AvroValue::Bool(text == "true");
      case TypeId::kInt32: {
        size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used != text.size() || v < INT32_MIN || v > INT32_MAX) break;
        return AvroValue::Int(static_cast<int32_t>(v));
      }
      case TypeId::kInt64:
      case TypeId::kTimestampTz: {
        size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used != text.size()) break;
        return AvroValue::Long(v);
      }
      case TypeId::kDouble: {
        size_t used = 0;
        double v = std::stod(text, &used);
        if (used != text.size()) break;
        return AvroValue::Double(v);
      }
      case TypeId::kString: return AvroValue::String(text);
      case TypeId::kBinary: return AvroValue::Bytes(text);
    }
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(fmt::format("partition value '{}' is not a {}", text, IcebergTypeName(type)));
}

std::string PartitionText(TypeId type, const AvroValue& v) {
  switch (type) {
    case TypeId::kBoolean: return v.boolean ? "true" : "false";
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestampTz: return std::to_string(v.integer);
    case TypeId::kDouble: return fmt::format("{}", v.real);
    case TypeId::kString:
    case TypeId::kBinary: return v.bytes;
  }
  return v.bytes;
}

AvroValue OptionalMap(const std::vector<std::pair<int32_t, AvroValue>>& kv) {
  if (kv.empty()) return AvroValue::Null();
  AvroValue arr = AvroValue::Array({});
  for (const auto& [k, v] : kv) arr.items.push_back(AvroValue::Record({AvroValue::Int(k), v}));
  return arr;
}

const AvroValue* FieldOf(const AvroNode& schema, const AvroValue& record, const char* name) {
  int idx = schema.FieldIndex(name);
  if (idx < 0 || static_cast<size_t>(idx) >= record.items.size()) return nullptr;
  return &record.items[static_cast<size_t>(idx)];
}

// The record schema behind an optional (union with null) or plain type.
const AvroNode* Unwrap(const AvroNode* node) {
  if (node && node->type == AvroType::kUnion) {
    for (const auto& b : node->branches) {
      if (b->type != AvroType::kNull) return b.get();
    }
  }
  return node;
}

const AvroNode* FieldSchema(const AvroNode& schema, const char* name) {
  int idx = schema.FieldIndex(name);
  return idx < 0 ? nullptr : Unwrap(schema.fields[static_cast<size_t>(idx)].type.get());
}

int64_t IntOr(const AvroValue* v, int64_t fallback) { return v && !v->is_null() ? v->integer : fallback; }

}  // namespace

Result<std::string> SerializePartitionValue(TypeId type, const std::string& text) {
  WS_ASSIGN_OR_RETURN(AvroValue v, PartitionAvroValue(type, text));
  std::string out;
  switch (type) {
    case TypeId::kBoolean: out.push_back(v.boolean ? 1 : 0); break;
    case TypeId::kInt32: PutLE(static_cast<uint32_t>(v.integer), 4, &out); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: PutLE(static_cast<uint64_t>(v.integer), 8, &out); break;
    case TypeId::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &v.real, 8);
      PutLE(bits, 8, &out);
      break;
    }
    case TypeId::kString:
    case TypeId::kBinary: out = v.bytes; break;
  }
  return out;
}

int CompareSerialized(TypeId type, const std::string& a, const std::string& b) {
  switch (type) {
    case TypeId::kBoolean:
    case TypeId::kString:
    case TypeId::kBinary: return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);  // UTF-8 byte order = code point order
    case TypeId::kInt32: {
      int32_t x = static_cast<int32_t>(GetLE(a)), y = static_cast<int32_t>(GetLE(b));
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case TypeId::kInt64:
    case TypeId::kTimestampTz: {
      int64_t x = static_cast<int64_t>(GetLE(a)), y = static_cast<int64_t>(GetLE(b));
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case TypeId::kDouble: {
      uint64_t xb = GetLE(a), yb = GetLE(b);
      double x, y;
      std::memcpy(&x, &xb, 8);
      std::memcpy(&y, &yb, 8);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
  }
  return 0;
}

Result<ManifestFile> WriteManifest(FileSystem* fs, const std::string& path, const Table::State& state,
                                   const ManifestEntries& entries, int64_t snapshot_id, int64_t sequence_number) {
  ManifestFile info;
  info.path = path;
  info.added_snapshot_id = snapshot_id;
  info.sequence_number = sequence_number;
  info.min_sequence_number = sequence_number;
  info.partitions.resize(state.partition_fields.size());
  std::vector<std::pair<std::string, std::string>> meta = {
      {"schema", SchemaToJson(*state.schema)},
      {"schema-id", std::to_string(state.schema->schema_id())},
      {"partition-spec", PartitionFieldsJson(state.partition_fields)},
      {"partition-spec-id", "0"},
      {"format-version", "2"},
      {"content", "data"},
  };
  WS_ASSIGN_OR_RETURN(auto file, fs->Create(path));  // a unique name: see table_internal.h
  WS_ASSIGN_OR_RETURN(auto writer, AvroFileWriter::Open(std::move(file), ManifestEntrySchema(state.partition_fields),
                                                        std::move(meta)));
  for (const auto& e : entries) {
    const DataFile& f = e.file;
    if (f.partition.size() != state.partition_fields.size()) {
      return Status::InvalidArgument(fmt::format("data file {} has {} partition values, table has {} partition columns",
                                                 f.path, f.partition.size(), state.partition_fields.size()));
    }
    AvroValue partition = AvroValue::Record({});
    for (size_t i = 0; i < f.partition.size(); ++i) {
      const PartitionField& pf = state.partition_fields[i];
      WS_ASSIGN_OR_RETURN(AvroValue pv, PartitionAvroValue(pf.type, f.partition[i]));
      partition.items.push_back(std::move(pv));
      WS_ASSIGN_OR_RETURN(std::string ser, SerializePartitionValue(pf.type, f.partition[i]));
      PartitionSummary& sum = info.partitions[i];
      if (!sum.lower_bound || CompareSerialized(pf.type, ser, *sum.lower_bound) < 0) sum.lower_bound = ser;
      if (!sum.upper_bound || CompareSerialized(pf.type, ser, *sum.upper_bound) > 0) sum.upper_bound = ser;
    }
    std::vector<std::pair<int32_t, AvroValue>> sizes, values, nulls, lowers, uppers;
    for (const auto& c : f.stats.columns) {
      sizes.emplace_back(c.field_id, AvroValue::Long(c.compressed_bytes));
      values.emplace_back(c.field_id, AvroValue::Long(c.value_count));
      nulls.emplace_back(c.field_id, AvroValue::Long(c.null_count));
      if (c.lower_bound) lowers.emplace_back(c.field_id, AvroValue::Bytes(*c.lower_bound));
      if (c.upper_bound) uppers.emplace_back(c.field_id, AvroValue::Bytes(*c.upper_bound));
    }
    AvroValue splits = AvroValue::Null();
    if (!f.stats.split_offsets.empty()) {
      splits = AvroValue::Array({});
      for (int64_t o : f.stats.split_offsets) splits.items.push_back(AvroValue::Long(o));
    }
    AvroValue data_file = AvroValue::Record({
        AvroValue::Int(0),
        AvroValue::String(ToLocationUri(f.path)),
        AvroValue::String("PARQUET"),
        std::move(partition),
        AvroValue::Long(f.stats.record_count),
        AvroValue::Long(f.stats.file_size_bytes),
        OptionalMap(sizes),
        OptionalMap(values),
        OptionalMap(nulls),
        AvroValue::Null(),  // nan_value_counts
        OptionalMap(lowers),
        OptionalMap(uppers),
        AvroValue::Null(),  // key_metadata
        std::move(splits),
        AvroValue::Null(),  // equality_ids
        AvroValue::Int(0),  // sort_order_id: unsorted
    });
    AvroValue entry = AvroValue::Record({
        AvroValue::Int(static_cast<int>(e.status)),
        AvroValue::Long(e.snapshot_id),
        e.sequence_number ? AvroValue::Long(*e.sequence_number) : AvroValue::Null(),
        e.file_sequence_number ? AvroValue::Long(*e.file_sequence_number) : AvroValue::Null(),
        std::move(data_file),
    });
    WS_RETURN_IF_ERROR(writer->Append(entry));
    int64_t seq = e.sequence_number.value_or(sequence_number);
    info.min_sequence_number = std::min(info.min_sequence_number, seq);
    switch (e.status) {
      case EntryStatus::kAdded: info.added_files++; info.added_rows += f.stats.record_count; break;
      case EntryStatus::kExisting: info.existing_files++; info.existing_rows += f.stats.record_count; break;
      case EntryStatus::kDeleted: info.deleted_files++; info.deleted_rows += f.stats.record_count; break;
    }
  }
  WS_RETURN_IF_ERROR(writer->Close());
  info.length = static_cast<int64_t>(writer->bytes_written());
  return info;
}

Result<ManifestEntries> ReadManifest(FileSystem* fs, const ManifestFile& info, const Table::State& state) {
  WS_ASSIGN_OR_RETURN(auto reader, AvroFileReader::Open(fs, info.path));
  const AvroNode& schema = *reader->schema();
  const AvroNode* df_schema = FieldSchema(schema, "data_file");
  if (!df_schema || df_schema->type != AvroType::kRecord) return Status::Corruption("manifest without data_file: " + info.path);
  const AvroNode* part_schema = FieldSchema(*df_schema, "partition");
  if (!part_schema || part_schema->type != AvroType::kRecord) return Status::Corruption("manifest without partition: " + info.path);
  // Partition columns by field id from the file's own schema text (names may differ).
  std::vector<int> part_index;
  {
    auto j = nlohmann::json::parse(reader->schema_json(), nullptr, false);
    std::map<int, int> by_id;
    try {
      for (const auto& f : j["fields"]) {
        if (f["name"] != "data_file") continue;
        for (const auto& g : f["type"]["fields"]) {
          if (g["name"] != "partition") continue;
          int i = 0;
          // Not p.value("field-id", -1): a JSON float there would be cast to
          // int, undefined behaviour when out of range (manifest_fuzzer).
          for (const auto& p : g["type"]["fields"]) {
            auto id = p.find("field-id");
            by_id[id != p.end() && id->is_number_integer() ? id->get<int>() : -1] = i++;
          }
        }
      }
    } catch (const nlohmann::json::exception&) {
    }
    for (const auto& pf : state.partition_fields) {
      auto it = by_id.find(pf.field_id);
      if (it == by_id.end()) return Status::Corruption(fmt::format("manifest {} lacks partition field {}", info.path, pf.field_id));
      part_index.push_back(it->second);
    }
  }
  ManifestEntries out;
  while (true) {
    AvroValue rec;
    WS_ASSIGN_OR_RETURN(bool more, reader->Next(&rec));
    if (!more) break;
    ManifestEntry e;
    const AvroValue* status = FieldOf(schema, rec, "status");
    const AvroValue* df = FieldOf(schema, rec, "data_file");
    if (!status || !df || df->kind != AvroType::kRecord) return Status::Corruption("bad manifest entry in " + info.path);
    e.status = static_cast<EntryStatus>(status->integer);
    e.snapshot_id = IntOr(FieldOf(schema, rec, "snapshot_id"), info.added_snapshot_id);
    const AvroValue* seq = FieldOf(schema, rec, "sequence_number");
    const AvroValue* fseq = FieldOf(schema, rec, "file_sequence_number");
    if (seq && !seq->is_null()) e.sequence_number = seq->integer;
    if (fseq && !fseq->is_null()) e.file_sequence_number = fseq->integer;
    DataFile& f = e.file;
    const AvroValue* path = FieldOf(*df_schema, *df, "file_path");
    if (!path) return Status::Corruption("manifest entry without file_path in " + info.path);
    f.path = FromLocationUri(path->bytes);
    const AvroValue* content = FieldOf(*df_schema, *df, "content");
    if (content && content->integer != 0) continue;  // delete files: we never write them
    const AvroValue* part = FieldOf(*df_schema, *df, "partition");
    for (size_t i = 0; i < part_index.size(); ++i) {
      if (!part || static_cast<size_t>(part_index[i]) >= part->items.size()) return Status::Corruption("bad partition in " + info.path);
      f.partition.push_back(PartitionText(state.partition_fields[i].type, part->items[static_cast<size_t>(part_index[i])]));
    }
    f.stats.record_count = IntOr(FieldOf(*df_schema, *df, "record_count"), 0);
    f.stats.file_size_bytes = IntOr(FieldOf(*df_schema, *df, "file_size_in_bytes"), 0);
    std::map<int32_t, ColumnFileStats> cols;
    auto read_map = [&](const char* name, auto apply) {
      const AvroValue* m = FieldOf(*df_schema, *df, name);
      if (!m || m->is_null()) return;
      for (const auto& kv : m->items) {
        if (kv.items.size() != 2) continue;
        ColumnFileStats& c = cols[static_cast<int32_t>(kv.items[0].integer)];
        c.field_id = static_cast<int32_t>(kv.items[0].integer);
        apply(c, kv.items[1]);
      }
    };
    read_map("column_sizes", [](ColumnFileStats& c, const AvroValue& v) { c.compressed_bytes = v.integer; });
    read_map("value_counts", [](ColumnFileStats& c, const AvroValue& v) { c.value_count = v.integer; });
    read_map("null_value_counts", [](ColumnFileStats& c, const AvroValue& v) { c.null_count = v.integer; });
    read_map("lower_bounds", [](ColumnFileStats& c, const AvroValue& v) { c.lower_bound = v.bytes; });
    read_map("upper_bounds", [](ColumnFileStats& c, const AvroValue& v) { c.upper_bound = v.bytes; });
    // Schema order, as DataFileStats promises.
    for (const auto& field : state.schema->fields()) {
      auto it = cols.find(field.id);
      if (it != cols.end()) f.stats.columns.push_back(it->second);
    }
    const AvroValue* splits = FieldOf(*df_schema, *df, "split_offsets");
    if (splits && !splits->is_null()) {
      for (const auto& o : splits->items) f.stats.split_offsets.push_back(o.integer);
    }
    // Inheritance (spec "Sequence Number Inheritance"): only ADDED entries may inherit.
    if (!e.sequence_number) e.sequence_number = info.sequence_number;
    if (!e.file_sequence_number) e.file_sequence_number = info.sequence_number;
    f.added_snapshot_id = e.snapshot_id;
    f.sequence_number = *e.sequence_number;
    out.push_back(std::move(e));
  }
  return out;
}

Status WriteManifestList(FileSystem* fs, const std::string& path, int64_t snapshot_id,
                         std::optional<int64_t> parent_id, int64_t sequence_number,
                         const std::vector<ManifestFile>& manifests) {
  std::vector<std::pair<std::string, std::string>> meta = {
      {"snapshot-id", std::to_string(snapshot_id)},
      {"parent-snapshot-id", parent_id ? std::to_string(*parent_id) : "null"},
      {"sequence-number", std::to_string(sequence_number)},
      {"format-version", "2"},
  };
  WS_ASSIGN_OR_RETURN(auto file, fs->Create(path));  // a unique name: see table_internal.h
  WS_ASSIGN_OR_RETURN(auto writer, AvroFileWriter::Open(std::move(file), kManifestListSchema, std::move(meta)));
  for (const auto& m : manifests) {
    AvroValue parts = AvroValue::Array({});
    for (const auto& p : m.partitions) {
      parts.items.push_back(AvroValue::Record({
          AvroValue::Bool(p.contains_null),
          AvroValue::Bool(false),
          p.lower_bound ? AvroValue::Bytes(*p.lower_bound) : AvroValue::Null(),
          p.upper_bound ? AvroValue::Bytes(*p.upper_bound) : AvroValue::Null(),
      }));
    }
    WS_RETURN_IF_ERROR(writer->Append(AvroValue::Record({
        AvroValue::String(ToLocationUri(m.path)),
        AvroValue::Long(m.length),
        AvroValue::Int(m.spec_id),
        AvroValue::Int(m.content),
        AvroValue::Long(m.sequence_number),
        AvroValue::Long(m.min_sequence_number),
        AvroValue::Long(m.added_snapshot_id),
        AvroValue::Int(m.added_files),
        AvroValue::Int(m.existing_files),
        AvroValue::Int(m.deleted_files),
        AvroValue::Long(m.added_rows),
        AvroValue::Long(m.existing_rows),
        AvroValue::Long(m.deleted_rows),
        std::move(parts),
        AvroValue::Null(),
    })));
  }
  return writer->Close();
}

Result<std::vector<ManifestFile>> ReadManifestList(FileSystem* fs, const std::string& path) {
  WS_ASSIGN_OR_RETURN(auto reader, AvroFileReader::Open(fs, path));
  const AvroNode& s = *reader->schema();
  std::vector<ManifestFile> out;
  while (true) {
    AvroValue rec;
    WS_ASSIGN_OR_RETURN(bool more, reader->Next(&rec));
    if (!more) break;
    ManifestFile m;
    const AvroValue* p = FieldOf(s, rec, "manifest_path");
    if (!p) return Status::Corruption("manifest list entry without manifest_path: " + path);
    m.path = FromLocationUri(p->bytes);
    m.length = IntOr(FieldOf(s, rec, "manifest_length"), 0);
    m.spec_id = static_cast<int32_t>(IntOr(FieldOf(s, rec, "partition_spec_id"), 0));
    m.content = static_cast<int32_t>(IntOr(FieldOf(s, rec, "content"), 0));
    m.sequence_number = IntOr(FieldOf(s, rec, "sequence_number"), 0);
    m.min_sequence_number = IntOr(FieldOf(s, rec, "min_sequence_number"), 0);
    m.added_snapshot_id = IntOr(FieldOf(s, rec, "added_snapshot_id"), 0);
    m.added_files = static_cast<int32_t>(IntOr(FieldOf(s, rec, "added_files_count"), 0));
    m.existing_files = static_cast<int32_t>(IntOr(FieldOf(s, rec, "existing_files_count"), 0));
    m.deleted_files = static_cast<int32_t>(IntOr(FieldOf(s, rec, "deleted_files_count"), 0));
    m.added_rows = IntOr(FieldOf(s, rec, "added_rows_count"), 0);
    m.existing_rows = IntOr(FieldOf(s, rec, "existing_rows_count"), 0);
    m.deleted_rows = IntOr(FieldOf(s, rec, "deleted_rows_count"), 0);
    const AvroValue* parts = FieldOf(s, rec, "partitions");
    const AvroNode* parts_schema = FieldSchema(s, "partitions");
    if (parts && !parts->is_null() && parts_schema && parts_schema->items) {
      const AvroNode& ps = *parts_schema->items;
      for (const auto& item : parts->items) {
        PartitionSummary sum;
        const AvroValue* cn = FieldOf(ps, item, "contains_null");
        sum.contains_null = cn && cn->boolean;
        const AvroValue* lo = FieldOf(ps, item, "lower_bound");
        const AvroValue* hi = FieldOf(ps, item, "upper_bound");
        if (lo && !lo->is_null()) sum.lower_bound = lo->bytes;
        if (hi && !hi->is_null()) sum.upper_bound = hi->bytes;
        m.partitions.push_back(std::move(sum));
      }
    }
    if (m.content == 0) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace ws::table
