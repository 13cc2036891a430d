// ParquetWriter: writes RecordBatches as one Apache Parquet file.
//
// Contract: the file follows the Parquet format specification (parquet-format
// 2.x): PAR1 magic, row groups of column chunks made of data pages (v1) with
// RLE/bit-packed definition levels for optional columns, PLAIN or
// RLE_DICTIONARY encoding (dictionary for strings, falling back to PLAIN for
// the rest of the row group when the dictionary grows past
// `dictionary_page_limit`, or when more than 3/4 of the values (checked every 8192)
// are distinct), zstd or no compression,
// a Thrift compact-protocol footer with column statistics (min/max/null_count
// and column_orders = TypeDefinedOrder), a field_id on every schema element,
// and the Iceberg schema JSON under key "iceberg.schema" in key_value_metadata.
// Row groups are cut at `row_group_bytes` of buffered (encoded, uncompressed)
// data, checked every 4096 rows, and pages at `page_bytes`, so memory stays
// bounded whatever the input size. Column encoders never allocate per value.
// Close() must be called; it writes the footer, syncs and closes the file and
// returns the file's statistics. A failed writer leaves a partial file that
// the caller deletes (the table layer never references it).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/format/file_stats.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/format/schema.h"

namespace ws::format {

enum class ParquetCompression { kUncompressed, kZstd };

struct ParquetWriterOptions {
  ParquetCompression compression = ParquetCompression::kZstd;
  int zstd_level = 1;
  size_t row_group_bytes = 64u << 20;
  size_t page_bytes = 1u << 20;
  bool dictionary = true;
  size_t dictionary_page_limit = 1u << 20;
  // Columns are encoded on up to this many threads when a batch cannot fill
  // a row group (the file is byte-for-byte the same as with one thread).
  int threads = 1;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;  // added after iceberg.schema
};

class ParquetWriter {
 public:
  // Takes ownership of `file`. `schema` must outlive nothing: it is copied.
  static Result<std::unique_ptr<ParquetWriter>> Open(std::unique_ptr<WritableFile> file, SchemaPtr schema,
                                                     ParquetWriterOptions options = {});
  virtual ~ParquetWriter() = default;

  // Appends the rows of `batch` (whose schema must equal the writer's).
  virtual Status Write(const RecordBatch& batch) = 0;
  // Flushes, writes the footer, syncs, closes. Returns the file's stats.
  virtual Result<DataFileStats> Close() = 0;
};

// Convenience: writes `batch` to `path` on `fs` (create, write, close).
Result<DataFileStats> WriteParquetFile(FileSystem* fs, const std::string& path, const RecordBatch& batch,
                                       ParquetWriterOptions options = {});

// Iceberg schema JSON ({"type":"struct","schema-id":..,"fields":[..]}) for the schema.
std::string IcebergSchemaJson(const Schema& schema);

}  // namespace ws::format
