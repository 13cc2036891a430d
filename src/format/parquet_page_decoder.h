// Decoding of one Parquet column chunk, page by page, for ParquetReader
// (parquet_reader.cc reads the file, its footer and the chunk's bytes):
// dictionary and data pages (v1 and v2), PLAIN, RLE_DICTIONARY /
// PLAIN_DICTIONARY, boolean RLE, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT values, uncompressed, zstd or snappy
// pages. Internal to ws_format.
//
// Contract: every read is bounds-checked against the chunk's bytes; a
// garbled chunk gives Corruption, an encoding or codec outside that list
// NotSupported; a page never decompresses to more than 256 MiB whatever its
// header claims. Not thread-safe (scratch buffers are reused across chunks).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/status.h"
#include "wikistream/format/record_batch.h"

namespace ws::format {

// Corruption "parquet <where>: <what>".
Status Corrupt(const std::string& where, const std::string& what);

// How one file column maps to WikiStream types.
struct FileColumn {
  int32_t physical = 0;
  int32_t type_length = 0;
  TypeId type = TypeId::kString;
  bool optional = false;
  int64_t ts_multiply = 1;  // millis -> micros
  int64_t ts_divide = 1;    // nanos -> micros
};

class ChunkDecoder {
 public:
  // `path` names the file in error messages.
  explicit ChunkDecoder(std::string path = "") : path_(std::move(path)) {}

  // Appends the `rows` values of the chunk whose pages are `chunk` (the
  // dictionary page first, if any) to `out`; `codec` is the chunk's
  // compression (parquet.thrift CompressionCodec).
  Status DecodeChunk(const FileColumn& fc, int32_t codec, std::string_view chunk, int64_t rows, Column* out);

 private:
  // Returns a pointer to the page's uncompressed bytes (maybe `src` itself).
  Status Decompress(int32_t codec, const uint8_t* src, size_t n, int64_t uncompressed, std::string* buf,
                    const uint8_t** out);
  // Decodes `n` rows of one data page: levels (nullptr = all present) and values.
  Status DecodeValues(const FileColumn& fc, const uint8_t* levels, size_t n, int32_t encoding, const uint8_t* p,
                      size_t size, const Column* dict, Column* out);
  static void AppendInteger(const FileColumn& fc, int64_t v, Column* out);
  Status DecodeLevels(const uint8_t* p, size_t size, size_t n, size_t* nulls);

  std::string path_;
  std::string page_buf_;
  std::vector<uint8_t> levels_;
  std::vector<int64_t> lengths_, prefixes_;
  std::string previous_;
  std::string split_;
};

}  // namespace ws::format
