// ParquetReader: reads Parquet files written by ParquetWriter and by other
// engines (DuckDB) as long as they use flat schemas of the supported types.
//
// Contract: supports PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE (booleans),
// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
// BYTE_STREAM_SPLIT values, RLE/bit-packed levels, data page v1 and v2,
// uncompressed/zstd/snappy chunks (gzip and others: NotSupported), required
// and optional columns. Columns are matched to the requested schema by
// field_id when the file has field ids, else by name.
// Anything else (nested types, unknown codecs) yields NotSupported, and
// truncated or garbled files yield Corruption, with a clear message: never a
// crash, never an unbounded allocation driven by file contents (pages are
// capped at 256 MiB decompressed, row groups at 2^26 rows; docs/parquet.md).
// A reader is used by one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/format/schema.h"

namespace ws::format {

class ParquetReader {
 public:
  static Result<std::unique_ptr<ParquetReader>> Open(FileSystem* fs, const std::string& path);
  virtual ~ParquetReader() = default;

  virtual int64_t num_rows() const = 0;
  virtual int num_row_groups() const = 0;
  // The schema stored in the file (field ids from the file, or assigned
  // 1..n in order when absent).
  virtual const SchemaPtr& file_schema() const = 0;
  virtual const std::vector<std::pair<std::string, std::string>>& key_value_metadata() const = 0;

  // Reads one row group, projected onto `projection` (fields matched by id,
  // then name; a field missing from the file reads as nulls, or fails if required).
  // nullptr projection = the file schema.
  virtual Result<RecordBatch> ReadRowGroup(int index, const SchemaPtr& projection = nullptr) = 0;
  // All row groups concatenated.
  virtual Result<RecordBatch> ReadAll(const SchemaPtr& projection = nullptr) = 0;
};

}  // namespace ws::format
