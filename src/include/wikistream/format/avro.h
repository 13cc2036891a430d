// Avro: binary encoding and object container files (Apache Avro 1.11 spec),
// the format of Iceberg manifests and manifest lists.
//
// Contract:
// - The writer stores the schema JSON text given to it verbatim under
//   "avro.schema", so extra attributes Iceberg needs (field-id, element-id,
//   key-id, value-id, logicalType "map") survive byte for byte; the text must
//   parse as a schema (ParseAvroSchema) or Open fails. Codec is "null".
// - The reader accepts files from any conforming writer (avsc, Java) with
//   codec "null"; "deflate"/others give NotSupported. Malformed or truncated
//   input yields Corruption, never a crash and never an allocation larger
//   than the input justifies.
// - Values are generic trees (AvroValue). A record's fields are its items in
//   schema order; a union value is the branch's value (the writer picks the
//   first branch whose type fits: kNull -> "null", else the first non-null
//   branch of the matching kind); a map is a list of (key, value) pairs.
// - Schemas: primitives, record, enum, array, map, union, fixed; named types
//   may be referenced by (full) name after their definition.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"

namespace ws::format {

enum class AvroType : uint8_t {
  kNull, kBoolean, kInt, kLong, kFloat, kDouble, kBytes, kString,
  kRecord, kEnum, kArray, kMap, kUnion, kFixed
};

struct AvroNode;
using AvroNodePtr = std::shared_ptr<const AvroNode>;

struct AvroFieldDef {
  std::string name;
  AvroNodePtr type;
};

struct AvroNode {
  AvroType type = AvroType::kNull;
  std::string name;                  // record / enum / fixed (full name)
  std::vector<AvroFieldDef> fields;  // record
  std::vector<std::string> symbols;  // enum
  AvroNodePtr items;                 // array
  AvroNodePtr values;                // map
  std::vector<AvroNodePtr> branches; // union
  int64_t fixed_size = 0;            // fixed
  // Field index by name for records.
  int FieldIndex(std::string_view field_name) const;
};

Result<AvroNodePtr> ParseAvroSchema(std::string_view json);

struct AvroValue {
  AvroType kind = AvroType::kNull;  // kUnion is never used for values
  bool boolean = false;
  int64_t integer = 0;  // int, long, enum index
  double real = 0;      // float, double
  std::string bytes;    // string, bytes, fixed, enum symbol
  std::vector<AvroValue> items;                            // record fields, array items
  std::vector<std::pair<std::string, AvroValue>> entries;  // map

  // Declared here, defaulted in avro_io.cc: implicit (inline) members would
  // instantiate std::pair<std::string, AvroValue> while AvroValue is still
  // incomplete, which clang rejects with libstdc++ (the fuzz build).
  AvroValue();
  AvroValue(const AvroValue&);
  AvroValue(AvroValue&&) noexcept;
  AvroValue& operator=(const AvroValue&);
  AvroValue& operator=(AvroValue&&) noexcept;
  ~AvroValue();

  static AvroValue Null() { return {}; }
  static AvroValue Bool(bool v) { AvroValue x; x.kind = AvroType::kBoolean; x.boolean = v; return x; }
  static AvroValue Int(int32_t v) { AvroValue x; x.kind = AvroType::kInt; x.integer = v; return x; }
  static AvroValue Long(int64_t v) { AvroValue x; x.kind = AvroType::kLong; x.integer = v; return x; }
  static AvroValue Double(double v) { AvroValue x; x.kind = AvroType::kDouble; x.real = v; return x; }
  static AvroValue String(std::string v) { AvroValue x; x.kind = AvroType::kString; x.bytes = std::move(v); return x; }
  static AvroValue Bytes(std::string v) { AvroValue x; x.kind = AvroType::kBytes; x.bytes = std::move(v); return x; }
  static AvroValue Record(std::vector<AvroValue> fields) { AvroValue x; x.kind = AvroType::kRecord; x.items = std::move(fields); return x; }
  static AvroValue Array(std::vector<AvroValue> items) { AvroValue x; x.kind = AvroType::kArray; x.items = std::move(items); return x; }

  bool is_null() const { return kind == AvroType::kNull; }
};

// Binary encoding of one datum (no container framing).
Status AvroEncode(const AvroNode& schema, const AvroValue& value, std::string* out);
// Decodes one datum from data[*pos...], advancing *pos.
Status AvroDecode(const AvroNode& schema, std::string_view data, size_t* pos, AvroValue* out);

// Object container file writer. Records are buffered into blocks of about
// `block_bytes`; Close() writes the last block, syncs and closes the file.
class AvroFileWriter {
 public:
  static Result<std::unique_ptr<AvroFileWriter>> Open(std::unique_ptr<WritableFile> file, std::string schema_json,
                                                      std::vector<std::pair<std::string, std::string>> metadata,
                                                      size_t block_bytes = 1u << 20);
  ~AvroFileWriter();
  Status Append(const AvroValue& record);
  Status Close();
  uint64_t bytes_written() const;  // valid after Close(): the file's length

 private:
  AvroFileWriter() = default;
  Status FlushBlock();
  std::unique_ptr<WritableFile> file_;
  AvroNodePtr schema_;
  std::string sync_;
  std::string block_;
  int64_t block_count_ = 0;
  size_t block_bytes_ = 0;
  bool closed_ = false;
};

// Reads a whole container file (manifests are small) from bytes.
class AvroFileReader {
 public:
  static Result<std::unique_ptr<AvroFileReader>> Open(FileSystem* fs, const std::string& path);
  static Result<std::unique_ptr<AvroFileReader>> FromBytes(std::string data);

  const std::string& schema_json() const { return schema_json_; }
  const AvroNodePtr& schema() const { return schema_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Next record into *out; false at the end of the file.
  Result<bool> Next(AvroValue* out);
  Result<std::vector<AvroValue>> ReadAll();

 private:
  AvroFileReader() = default;
  Status Init();
  std::string data_;
  size_t pos_ = 0;
  std::string schema_json_;
  AvroNodePtr schema_;
  std::map<std::string, std::string> metadata_;
  std::string sync_;
  int64_t remaining_in_block_ = 0;
  size_t block_end_ = 0;
};

}  // namespace ws::format
