// The column chunk encoder of ParquetWriter (parquet_writer.cc): buffers
// one column's values of a row group, cuts them into data pages (PLAIN, or
// RLE_DICTIONARY with a dictionary page while the dictionary stays under
// dictionary_page_limit), compresses each page and keeps the chunk's and the
// file's statistics. Internal to ws_format.
//
// Contract: one ColumnWriter per schema field; Append() any number of row
// ranges, FlushChunk() once per row group (it writes the chunk's pages at
// *pos and fills the footer's ColumnChunk); FileStats() after the last
// flush. Not thread-safe, but distinct ColumnWriters may run on different
// threads (each thread compresses with its own zstd context).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "thrift_parquet.h"
#include "wikistream/common/file_system.h"
#include "wikistream/format/parquet_writer.h"
#include "wikistream/format/record_batch.h"

namespace ws::format {

namespace pq = parquet;

// Parquet chunk statistics of strings longer than this are truncated (and
// marked inexact), so a 1 MiB payload never ends up in the footer.
inline constexpr size_t kMaxStatBytes = 64;

// `v`'s bytes, little-endian (Parquet's byte order, and x86-64's).
template <typename T>
void AppendLE(T v, std::string* out) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // x86-64 is little-endian, as Parquet
  out->append(buf, sizeof(T));
}

class Compressor {
 public:
  Compressor(ParquetCompression c, int level) : codec_(c), level_(level) {}
  int32_t codec() const { return codec_ == ParquetCompression::kZstd ? pq::kZstd : pq::kUncompressed; }

  bool enabled() const { return codec_ != ParquetCompression::kUncompressed; }

  // Compresses a + b (one logical page) into out->data(); *n gets the
  // compressed length. *out only ever grows (never re-zeroed per page).
  Status Compress(std::string_view a, std::string_view b, std::string* out, size_t* n);

 private:
  ParquetCompression codec_;
  int level_;
};

// Min/max of one column over a chunk or a file.
struct MinMax {
  bool has = false;
  int64_t imin = 0, imax = 0;  // boolean, int32, int64, timestamptz
  double dmin = 0, dmax = 0;
  std::string smin, smax;

  void Merge(const MinMax& o, TypeId type) {
    if (!o.has) return;
    if (!has) {
      *this = o;
      return;
    }
    imin = std::min(imin, o.imin);
    imax = std::max(imax, o.imax);
    dmin = std::min(dmin, o.dmin);
    dmax = std::max(dmax, o.dmax);
    if (o.smin < smin) smin = o.smin;
    if (o.smax > smax) smax = o.smax;
  }
};

class ColumnWriter {
 public:
  ColumnWriter(const Field& field, const ParquetWriterOptions& opts, Compressor* comp)
      : field_(field), opts_(opts), comp_(comp) {
    use_dict_ = opts.dictionary && field.type == TypeId::kString;
    dict_mode_ = use_dict_;
    file_stats_.field_id = field.id;
  }

  Status Append(const Column& col, size_t begin, size_t end);
  // Uncompressed bytes buffered for the current row group.
  size_t buffered_bytes() const {
    return chunk_uncompressed_ + page_values_.size() + page_indices_.size() * 4 + dict_bytes_.size();
  }
  // Writes the chunk at file offset *pos and resets for the next row group.
  Status FlushChunk(WritableFile* file, int64_t* pos, pq::ColumnChunk* out);
  // Encodes and compresses the buffered rows as a page (no-op when none).
  Status FinishPage();

  ColumnFileStats FileStats() const;

 private:
  Status AppendStrings(const Column& col, size_t begin, size_t end);
  Status AddPage(const pq::PageHeader& header_template, std::string_view a, std::string_view b);
  void ObserveString(std::string_view v) {
    // Statistics keep at most kMaxStatBytes of a bound, and the prefix of
    // the minimum (maximum) is the minimum (maximum) of the prefixes: so
    // comparing one byte more than is kept gives the same bounds without
    // comparing or copying whole payloads.
    v = v.substr(0, kMaxStatBytes + 1);
    if (!chunk_mm_.has) {
      chunk_mm_.has = true;
      chunk_mm_.smin.assign(v);
      chunk_mm_.smax.assign(v);
    } else if (v < chunk_mm_.smin) {
      chunk_mm_.smin.assign(v);
    } else if (v > chunk_mm_.smax) {
      chunk_mm_.smax.assign(v);
    }
  }
  // Dictionary lookup/insert; returns false when the dictionary would grow
  // past dictionary_page_limit (the value is then not inserted).
  bool DictIndex(std::string_view v, uint32_t* index);
  pq::Statistics ChunkStatistics() const;

  const Field& field_;
  const ParquetWriterOptions& opts_;
  Compressor* comp_;
  bool use_dict_;
  bool dict_mode_;

  // Current page.
  size_t page_rows_ = 0;
  std::vector<uint8_t> page_valid_;
  std::string page_values_;
  std::vector<uint32_t> page_indices_;
  std::string levels_;
  std::string header_;
  size_t last_page_bytes_ = 0;  // header + body of the page AddPage appended last

  // Current chunk.
  std::string chunk_pages_;
  int64_t chunk_uncompressed_ = 0;
  int64_t chunk_values_ = 0;
  int64_t chunk_nulls_ = 0;
  bool chunk_plain_pages_ = false;
  bool chunk_dict_pages_ = false;
  MinMax chunk_mm_;

  // Dictionary of the current chunk: PLAIN-encoded entries (the dictionary
  // page body as is) and an open-addressing table of entry numbers + 1.
  std::string dict_bytes_;
  struct DictEntry {
    uint32_t offset;  // of the entry's bytes in dict_bytes_
    uint32_t len;
  };
  std::vector<DictEntry> dict_entries_;
  std::vector<uint64_t> slots_;
  int64_t dict_values_ = 0;  // values dictionary-encoded in this chunk

  // Whole file.
  ColumnFileStats file_stats_;
  MinMax file_mm_;
};

}  // namespace ws::format
