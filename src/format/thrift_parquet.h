// The subset of parquet.thrift (apache/parquet-format) that WikiStream writes
// and reads: file footer (FileMetaData) and page headers, with their Thrift
// compact-protocol (de)serialisation. Field ids follow parquet.thrift.
//
// Contract: Serialize* never fails. Parse* validate structure only (types of
// known fields, lengths against the buffer) and return Corruption on garbled
// input; semantic checks (offsets against the file size, schema shape) are
// the reader's job. Unknown fields are skipped, as Thrift requires.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wikistream/common/status.h"

namespace ws::format::parquet {

enum PhysicalType : int32_t {
  kBooleanT = 0, kInt32T = 1, kInt64T = 2, kInt96T = 3, kFloatT = 4, kDoubleT = 5,
  kByteArrayT = 6, kFixedLenByteArrayT = 7,
};
enum ConvertedType : int32_t {
  kUtf8 = 0, kEnum = 4, kDate = 6, kTimestampMillis = 9, kTimestampMicros = 10, kJson = 19,
};
enum Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
enum Encoding : int32_t {
  kPlain = 0, kPlainDictionary = 2, kRle = 3, kBitPacked = 4, kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6, kDeltaByteArray = 7, kRleDictionary = 8, kByteStreamSplit = 9,
};
enum Codec : int32_t {
  kUncompressed = 0, kSnappy = 1, kGzip = 2, kLzo = 3, kBrotli = 4, kLz4 = 5, kZstd = 6, kLz4Raw = 7,
};
enum PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };
// LogicalType union member ids.
enum LogicalKind : int32_t { kNoLogical = 0, kLogicalString = 1, kLogicalEnum = 4, kLogicalDate = 6,
                             kLogicalTimestamp = 8, kLogicalInteger = 10, kLogicalJson = 12 };
// TimeUnit union member ids.
enum TimeUnit : int32_t { kMillis = 1, kMicros = 2, kNanos = 3 };

struct Statistics {
  std::optional<std::string> max, min;  // deprecated, signed order
  std::optional<int64_t> null_count;
  std::optional<int64_t> distinct_count;
  std::optional<std::string> max_value, min_value;
  std::optional<bool> is_max_value_exact, is_min_value_exact;
};

struct SchemaElement {
  std::optional<int32_t> type;
  std::optional<int32_t> type_length;
  std::optional<int32_t> repetition_type;
  std::string name;
  std::optional<int32_t> num_children;
  std::optional<int32_t> converted_type;
  std::optional<int32_t> field_id;
  int32_t logical = kNoLogical;     // which LogicalType member is set
  bool timestamp_utc = false;       // TIMESTAMP.isAdjustedToUTC
  int32_t timestamp_unit = 0;       // TIMESTAMP.unit (TimeUnit)
};

struct ColumnMetaData {
  int32_t type = 0;
  std::vector<int32_t> encodings;
  std::vector<std::string> path_in_schema;
  int32_t codec = kUncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> index_page_offset;
  std::optional<int64_t> dictionary_page_offset;
  std::optional<Statistics> statistics;
};

struct ColumnChunk {
  std::optional<std::string> file_path;
  int64_t file_offset = 0;
  std::optional<ColumnMetaData> meta_data;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
  std::optional<int64_t> file_offset;
  std::optional<int64_t> total_compressed_size;
  std::optional<int32_t> ordinal;
};

struct FileMetaData {
  int32_t version = 1;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  std::optional<std::string> created_by;
  // One entry per leaf column: true = TypeDefinedOrder, false = other/unknown.
  std::vector<bool> column_orders;
};

struct DataPageHeader {
  int32_t num_values = 0;
  int32_t encoding = kPlain;
  int32_t definition_level_encoding = kRle;
  int32_t repetition_level_encoding = kRle;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  int32_t encoding = kPlain;
  std::optional<bool> is_sorted;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t encoding = kPlain;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct PageHeader {
  int32_t type = kDataPage;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<int32_t> crc;
  std::optional<DataPageHeader> data_page_header;
  std::optional<DictionaryPageHeader> dictionary_page_header;
  std::optional<DataPageHeaderV2> data_page_header_v2;
};

// Appends the compact-protocol encoding to *out.
void SerializeFileMetaData(const FileMetaData& md, std::string* out);
void SerializePageHeader(const PageHeader& h, std::string* out);

Status ParseFileMetaData(const uint8_t* data, size_t size, FileMetaData* out);
// Parses a page header at the start of [data, data+size); *header_size gets its length.
Status ParsePageHeader(const uint8_t* data, size_t size, PageHeader* out, size_t* header_size);

}  // namespace ws::format::parquet
