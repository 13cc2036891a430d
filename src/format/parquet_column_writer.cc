#include "parquet_column_writer.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>

#include "wikistream/common/coding.h"
#include "wikistream/common/hash.h"

namespace ws::format {

namespace {

inline int BitWidth(uint32_t max_value) { return max_value ? 32 - __builtin_clz(max_value) : 0; }

// RLE / bit-packed hybrid (Encodings.md), without the length prefix. Runs of
// >= 8 equal values become RLE runs; everything else is bit-packed in groups
// of 8 (the last group zero-padded: readers stop at the page's value count).
template <typename T>
void RleEncode(const T* v, size_t n, int bw, std::string* out) {
  size_t i = 0;
  size_t bp_start = 0, bp_count = 0;
  const int value_bytes = (bw + 7) / 8;
  auto flush_bitpacked = [&] {
    if (bp_count == 0) return;
    size_t groups = bp_count / 8;
    PutVarint64(out, (groups << 1) | 1);
    uint64_t acc = 0;
    int bits = 0;
    for (size_t k = 0; k < bp_count; ++k) {
      uint64_t x = bp_start + k < n ? static_cast<uint64_t>(v[bp_start + k]) : 0;
      acc |= x << bits;
      bits += bw;
      while (bits >= 8) {
        out->push_back(static_cast<char>(acc & 0xFF));
        acc >>= 8;
        bits -= 8;
      }
    }
    bp_count = 0;
  };
  while (i < n) {
    const T x = v[i];
    size_t j = i + 1;
    while (j < n && v[j] == x) ++j;
    if (j - i >= 8) {
      flush_bitpacked();
      PutVarint64(out, static_cast<uint64_t>(j - i) << 1);
      for (int b = 0; b < value_bytes; ++b) out->push_back(static_cast<char>(static_cast<uint64_t>(x) >> (8 * b)));
      i = j;
    } else {
      if (bp_count == 0) bp_start = i;
      bp_count += 8;
      i = std::min(n, i + 8);
    }
  }
  flush_bitpacked();
}

// One zstd context per thread, reused by every file the thread writes: a
// fresh context per file pays for allocating and zeroing its tables (page
// faults) on every commit of every partition.
ZSTD_CCtx* ThreadCompressionContext() {
  struct Holder {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ~Holder() { ZSTD_freeCCtx(cctx); }
  };
  thread_local Holder holder;
  return holder.cctx;
}

}  // namespace

Status Compressor::Compress(std::string_view a, std::string_view b, std::string* out, size_t* n) {
  size_t total = a.size() + b.size();
  size_t bound = ZSTD_compressBound(total);
  if (out->size() < bound) out->resize(bound);
  // The context of the calling thread: columns may be encoded on several.
  ZSTD_CCtx* cctx_ = ThreadCompressionContext();
  ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_only);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
  ZSTD_CCtx_setPledgedSrcSize(cctx_, total);
  ZSTD_outBuffer ob{out->data(), out->size(), 0};
  ZSTD_inBuffer ia{a.data(), a.size(), 0};
  size_t r = ZSTD_compressStream2(cctx_, &ob, &ia, ZSTD_e_continue);
  if (ZSTD_isError(r)) return Status::Internal(fmt::format("zstd: {}", ZSTD_getErrorName(r)));
  ZSTD_inBuffer ib{b.data(), b.size(), 0};
  do {
    r = ZSTD_compressStream2(cctx_, &ob, &ib, ZSTD_e_end);
    if (ZSTD_isError(r)) return Status::Internal(fmt::format("zstd: {}", ZSTD_getErrorName(r)));
  } while (r != 0);
  *n = ob.pos;
  return Status::OK();
}

namespace {

inline bool BytesEqual(const char* a, const char* b, size_t n) {
  if (n <= 16) {
    // Two overlapping word compares instead of a memcmp call: most
    // dictionary keys (wiki names, domains, types) are this short.
    if (n >= 8) {
      uint64_t a0, b0, a1, b1;
      std::memcpy(&a0, a, 8);
      std::memcpy(&b0, b, 8);
      std::memcpy(&a1, a + n - 8, 8);
      std::memcpy(&b1, b + n - 8, 8);
      return a0 == b0 && a1 == b1;
    }
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  return std::memcmp(a, b, n) == 0;
}

}  // namespace

bool ColumnWriter::DictIndex(std::string_view v, uint32_t* index) {
  const uint64_t h = HashString(v);
  const uint64_t tag = h & 0xFFFFFFFF00000000ull;
  if (slots_.empty()) slots_.assign(1024, 0);
  size_t mask = slots_.size() - 1;
  size_t s = (h >> 32) & mask;
  // Slot = hash tag (high 32 bits) | entry number + 1: a probe touches the
  // entry and its bytes only when the tags match.
  while (uint64_t e = slots_[s]) {
    if ((e & 0xFFFFFFFF00000000ull) == tag) {
      const DictEntry& d = dict_entries_[static_cast<uint32_t>(e) - 1];
      if (d.len == v.size() && BytesEqual(dict_bytes_.data() + d.offset, v.data(), v.size())) {
        *index = static_cast<uint32_t>(e) - 1;
        return true;
      }
    }
    s = (s + 1) & mask;
  }
  if (dict_bytes_.size() + 4 + v.size() > opts_.dictionary_page_limit) return false;
  uint32_t k = static_cast<uint32_t>(dict_entries_.size());
  AppendLE<uint32_t>(static_cast<uint32_t>(v.size()), &dict_bytes_);
  dict_entries_.push_back(DictEntry{static_cast<uint32_t>(dict_bytes_.size()), static_cast<uint32_t>(v.size())});
  dict_bytes_.append(v.data(), v.size());
  slots_[s] = tag | (k + 1);
  ObserveString(v);  // each distinct value is seen once: stats for free
  if (dict_entries_.size() * 2 > slots_.size()) {
    std::vector<uint64_t> bigger(slots_.size() * 2, 0);
    size_t m = bigger.size() - 1;
    for (uint64_t e : slots_) {
      if (!e) continue;
      size_t t = (e >> 32) & m;
      while (bigger[t]) t = (t + 1) & m;
      bigger[t] = e;
    }
    slots_.swap(bigger);
  }
  *index = k;
  return true;
}

Status ColumnWriter::AppendStrings(const Column& col, size_t begin, size_t end) {
  const auto& offsets = col.string_offsets();
  const char* bytes = col.string_bytes().data();
  const uint8_t* valid = col.validity().data();
  for (size_t r = begin; r < end; ++r) {
    if (!field_.required) page_valid_.push_back(valid[r]);
    ++page_rows_;
    if (!valid[r]) continue;
    std::string_view v(bytes + offsets[r], offsets[r + 1] - offsets[r]);
    if (dict_mode_) {
      uint32_t idx;
      if (DictIndex(v, &idx)) {
        page_indices_.push_back(idx);
        // Mostly-distinct columns (ids, titles) gain nothing from a
        // dictionary but pay a hash probe per value: give up early.
        if (++dict_values_ % 8192 == 0 && dict_entries_.size() * 4 > static_cast<size_t>(dict_values_) * 3) {
          WS_RETURN_IF_ERROR(FinishPage());
          dict_mode_ = false;
          continue;
        }
        if (page_indices_.size() * BitWidth(static_cast<uint32_t>(dict_entries_.size())) / 8 >= opts_.page_bytes) {
          WS_RETURN_IF_ERROR(FinishPage());
        }
        continue;
      }
      // Dictionary full: this page ends dictionary-encoded without the
      // current row, and the rest of the chunk is PLAIN.
      if (!field_.required) page_valid_.pop_back();
      --page_rows_;
      WS_RETURN_IF_ERROR(FinishPage());
      dict_mode_ = false;
      if (!field_.required) page_valid_.push_back(1);
      ++page_rows_;
    }
    AppendLE<uint32_t>(static_cast<uint32_t>(v.size()), &page_values_);
    page_values_.append(v.data(), v.size());
    ObserveString(v);
    if (page_values_.size() >= opts_.page_bytes) WS_RETURN_IF_ERROR(FinishPage());
  }
  return Status::OK();
}

Status ColumnWriter::Append(const Column& col, size_t begin, size_t end) {
  size_t nulls = 0;
  const uint8_t* valid = col.validity().data();
  if (col.null_count() > 0) {
    for (size_t r = begin; r < end; ++r) nulls += valid[r] == 0;
  }
  chunk_values_ += static_cast<int64_t>(end - begin);
  chunk_nulls_ += static_cast<int64_t>(nulls);

  if (field_.type == TypeId::kString || field_.type == TypeId::kBinary) return AppendStrings(col, begin, end);

  // Fixed-width types: page cut checked per slice of rows that fits a page.
  size_t width = field_.type == TypeId::kBoolean ? 1 : field_.type == TypeId::kInt32 ? 4 : 8;
  size_t r = begin;
  while (r < end) {
    size_t room = opts_.page_bytes > page_values_.size() ? (opts_.page_bytes - page_values_.size()) / width : 0;
    size_t stop = std::min(end, r + std::max<size_t>(room, 1));
    if (!field_.required) page_valid_.insert(page_valid_.end(), valid + r, valid + stop);
    page_rows_ += stop - r;
    MinMax& mm = chunk_mm_;
    for (size_t i = r; i < stop; ++i) {
      if (!valid[i]) continue;
      switch (field_.type) {
        case TypeId::kBoolean: {
          int64_t x = col.bool_values()[i] ? 1 : 0;
          page_values_.push_back(static_cast<char>(x));  // packed to bits in FinishPage
          if (!mm.has) mm.imin = mm.imax = x, mm.has = true;
          mm.imin = std::min(mm.imin, x);
          mm.imax = std::max(mm.imax, x);
          break;
        }
        case TypeId::kInt32: {
          int32_t x = col.int32_values()[i];
          AppendLE(x, &page_values_);
          if (!mm.has) mm.imin = mm.imax = x, mm.has = true;
          mm.imin = std::min<int64_t>(mm.imin, x);
          mm.imax = std::max<int64_t>(mm.imax, x);
          break;
        }
        case TypeId::kInt64:
        case TypeId::kTimestampTz: {
          int64_t x = col.int64_values()[i];
          AppendLE(x, &page_values_);
          if (!mm.has) mm.imin = mm.imax = x, mm.has = true;
          mm.imin = std::min(mm.imin, x);
          mm.imax = std::max(mm.imax, x);
          break;
        }
        case TypeId::kDouble: {
          double x = col.double_values()[i];
          AppendLE(x, &page_values_);
          if (std::isnan(x)) break;  // NaN never bounds (Parquet and Iceberg)
          if (!mm.has) mm.dmin = mm.dmax = x, mm.has = true;
          mm.dmin = std::min(mm.dmin, x);
          mm.dmax = std::max(mm.dmax, x);
          break;
        }
        default:
          break;
      }
    }
    r = stop;
    if (page_values_.size() >= opts_.page_bytes) WS_RETURN_IF_ERROR(FinishPage());
  }
  return Status::OK();
}

Status ColumnWriter::AddPage(const pq::PageHeader& tmpl, std::string_view a, std::string_view b) {
  pq::PageHeader h = tmpl;
  h.uncompressed_page_size = static_cast<int32_t>(a.size() + b.size());
  size_t compressed = a.size() + b.size();
  // Compressed pages go through one buffer per thread, like the zstd
  // context: a buffer per column per file would be zero-filled each time.
  thread_local std::string compressed_page;
  if (comp_->enabled()) WS_RETURN_IF_ERROR(comp_->Compress(a, b, &compressed_page, &compressed));
  h.compressed_page_size = static_cast<int32_t>(compressed);
  header_.clear();
  pq::SerializePageHeader(h, &header_);
  chunk_pages_.append(header_);
  if (comp_->enabled()) {
    chunk_pages_.append(compressed_page.data(), compressed);
  } else {
    chunk_pages_.append(a);
    chunk_pages_.append(b);
  }
  last_page_bytes_ = header_.size() + compressed;
  chunk_uncompressed_ += static_cast<int64_t>(header_.size() + a.size() + b.size());
  return Status::OK();
}

Status ColumnWriter::FinishPage() {
  if (page_rows_ == 0) return Status::OK();
  if (page_rows_ > static_cast<size_t>(INT32_MAX)) return Status::InvalidArgument("parquet: page too large");
  levels_.clear();
  if (!field_.required) {
    levels_.resize(4);
    RleEncode(page_valid_.data(), page_valid_.size(), 1, &levels_);
    uint32_t len = static_cast<uint32_t>(levels_.size() - 4);
    std::memcpy(levels_.data(), &len, 4);
  }
  pq::PageHeader h;
  h.type = pq::kDataPage;
  auto& dp = h.data_page_header.emplace();
  dp.num_values = static_cast<int32_t>(page_rows_);
  dp.definition_level_encoding = pq::kRle;
  dp.repetition_level_encoding = pq::kRle;
  // A page of only nulls before the first value needs no dictionary.
  if (dict_mode_ && !dict_entries_.empty()) {
    dp.encoding = pq::kRleDictionary;
    // Indices go after the levels in the same buffer.
    int bw = std::max(1, BitWidth(static_cast<uint32_t>(dict_entries_.size() - (dict_entries_.empty() ? 0 : 1))));
    levels_.push_back(static_cast<char>(bw));
    RleEncode(page_indices_.data(), page_indices_.size(), bw, &levels_);
    WS_RETURN_IF_ERROR(AddPage(h, levels_, {}));
    chunk_dict_pages_ = true;
  } else {
    dp.encoding = pq::kPlain;
    if (field_.type == TypeId::kBoolean) {
      // One byte per value was buffered; PLAIN booleans are LSB-first bits.
      std::string bits((page_values_.size() + 7) / 8, '\0');
      for (size_t i = 0; i < page_values_.size(); ++i) {
        if (page_values_[i]) bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
      }
      WS_RETURN_IF_ERROR(AddPage(h, levels_, bits));
    } else {
      WS_RETURN_IF_ERROR(AddPage(h, levels_, page_values_));
    }
    chunk_plain_pages_ = true;
  }
  page_rows_ = 0;
  page_valid_.clear();
  page_values_.clear();
  page_indices_.clear();
  return Status::OK();
}

namespace {

std::string EncodeStat(TypeId type, const MinMax& mm, bool min, bool* exact) {
  std::string out;
  *exact = true;
  switch (type) {
    case TypeId::kBoolean: out.push_back(static_cast<char>(min ? mm.imin : mm.imax)); break;
    case TypeId::kInt32: AppendLE(static_cast<int32_t>(min ? mm.imin : mm.imax), &out); break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: AppendLE(min ? mm.imin : mm.imax, &out); break;
    case TypeId::kDouble: {
      double d = min ? mm.dmin : mm.dmax;
      // Parquet: a zero minimum is written as -0.0 and a zero maximum as +0.0.
      if (d == 0) d = min ? -0.0 : 0.0;
      AppendLE(d, &out);
      break;
    }
    case TypeId::kString:
    case TypeId::kBinary: out = min ? mm.smin : mm.smax; break;
  }
  return out;
}

}  // namespace

pq::Statistics ColumnWriter::ChunkStatistics() const {
  pq::Statistics s;
  s.null_count = chunk_nulls_;
  if (!chunk_mm_.has) return s;
  bool exact;
  std::string lo = EncodeStat(field_.type, chunk_mm_, true, &exact);
  std::string hi = EncodeStat(field_.type, chunk_mm_, false, &exact);
  if (field_.type == TypeId::kString) {
    if (lo.size() > kMaxStatBytes) {
      lo = TruncateLowerBound(lo, kMaxStatBytes);
      s.is_min_value_exact = false;
    }
    if (hi.size() > kMaxStatBytes) {
      auto up = TruncateUpperBound(hi, kMaxStatBytes);
      if (!up) return s;
      hi = *up;
      s.is_max_value_exact = false;
    }
  } else if (field_.type == TypeId::kBinary && (lo.size() > kMaxStatBytes || hi.size() > kMaxStatBytes)) {
    return s;
  }
  s.min_value = std::move(lo);
  s.max_value = std::move(hi);
  return s;
}

Status ColumnWriter::FlushChunk(WritableFile* file, int64_t* pos, pq::ColumnChunk* out) {
  WS_RETURN_IF_ERROR(FinishPage());
  pq::ColumnMetaData md;
  md.path_in_schema = {field_.name};
  md.codec = comp_->codec();
  md.num_values = chunk_values_;
  const int64_t start = *pos;
  int64_t written = 0;
  if (chunk_dict_pages_) {
    pq::PageHeader h;
    h.type = pq::kDictionaryPage;
    auto& dh = h.dictionary_page_header.emplace();
    dh.num_values = static_cast<int32_t>(dict_entries_.size());
    dh.encoding = pq::kPlain;
    WS_RETURN_IF_ERROR(AddPage(h, dict_bytes_, {}));
    // AddPage appended the dictionary page after the data pages; it must come
    // first, so it is written separately from the tail of chunk_pages_.
    size_t dict_len = last_page_bytes_;
    size_t data_len = chunk_pages_.size() - dict_len;
    WS_RETURN_IF_ERROR(file->Append(std::string_view(chunk_pages_).substr(data_len)));
    WS_RETURN_IF_ERROR(file->Append(std::string_view(chunk_pages_).substr(0, data_len)));
    md.dictionary_page_offset = start;
    md.data_page_offset = start + static_cast<int64_t>(dict_len);
  } else {
    WS_RETURN_IF_ERROR(file->Append(chunk_pages_));
    md.data_page_offset = start;
  }
  written = static_cast<int64_t>(chunk_pages_.size());
  switch (field_.type) {
    case TypeId::kBoolean: md.type = pq::kBooleanT; break;
    case TypeId::kInt32: md.type = pq::kInt32T; break;
    case TypeId::kInt64:
    case TypeId::kTimestampTz: md.type = pq::kInt64T; break;
    case TypeId::kDouble: md.type = pq::kDoubleT; break;
    case TypeId::kString:
    case TypeId::kBinary: md.type = pq::kByteArrayT; break;
  }
  if (chunk_dict_pages_ || chunk_plain_pages_) md.encodings.push_back(pq::kPlain);
  md.encodings.push_back(pq::kRle);
  if (chunk_dict_pages_) md.encodings.push_back(pq::kRleDictionary);
  md.total_compressed_size = written;
  md.total_uncompressed_size = chunk_uncompressed_;
  md.statistics = ChunkStatistics();
  out->file_offset = 0;
  out->meta_data = std::move(md);
  *pos += written;

  file_stats_.compressed_bytes += written;
  file_stats_.value_count += chunk_values_;
  file_stats_.null_count += chunk_nulls_;
  file_mm_.Merge(chunk_mm_, field_.type);

  // Reset for the next row group, keeping buffers' capacity.
  chunk_pages_.clear();
  chunk_uncompressed_ = 0;
  chunk_values_ = 0;
  chunk_nulls_ = 0;
  chunk_plain_pages_ = chunk_dict_pages_ = false;
  chunk_mm_ = MinMax{};
  dict_bytes_.clear();
  dict_entries_.clear();
  dict_values_ = 0;
  std::fill(slots_.begin(), slots_.end(), 0);
  dict_mode_ = use_dict_;
  return Status::OK();
}

ColumnFileStats ColumnWriter::FileStats() const {
  ColumnFileStats s = file_stats_;
  if (!file_mm_.has || field_.type == TypeId::kBinary) return s;
  bool exact;
  switch (field_.type) {
    case TypeId::kString:
      s.lower_bound = TruncateLowerBound(file_mm_.smin, 16);
      s.upper_bound = TruncateUpperBound(file_mm_.smax, 16);
      break;
    case TypeId::kDouble:
      // Iceberg bounds keep the sign of zero as observed; use plain values.
      s.lower_bound.emplace();
      AppendLE(file_mm_.dmin, &*s.lower_bound);
      s.upper_bound.emplace();
      AppendLE(file_mm_.dmax, &*s.upper_bound);
      break;
    default:
      s.lower_bound = EncodeStat(field_.type, file_mm_, true, &exact);
      s.upper_bound = EncodeStat(field_.type, file_mm_, false, &exact);
  }
  return s;
}

}  // namespace ws::format
