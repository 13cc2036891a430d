#include "parquet_page_decoder.h"

#include <fmt/format.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "thrift_parquet.h"
#include "wikistream/common/coding.h"

namespace ws::format {

namespace pq = parquet;

namespace {

// A page never decompresses to more than this, whatever its header claims.
constexpr int64_t kMaxPageBytes = 256ll << 20;

// RLE / bit-packed hybrid decoder (Encodings.md). Every read is bounds-checked;
// running out of input ends the sequence (Next returns false).
class RleDecoder {
 public:
  RleDecoder(const uint8_t* p, size_t n, int bw) : p_(p), end_(p + n), bw_(bw) {}

  bool Next(uint32_t* v) {
    while (rle_left_ == 0 && bp_left_ == 0) {
      if (!NextRun()) return false;
    }
    if (rle_left_ > 0) {
      --rle_left_;
      *v = rle_value_;
      return true;
    }
    uint64_t bit = bp_bit_;
    size_t byte = bit >> 3;
    uint64_t word = 0;
    size_t avail = static_cast<size_t>(bp_end_ - bp_data_) - byte;
    std::memcpy(&word, bp_data_ + byte, std::min<size_t>(8, avail));
    *v = static_cast<uint32_t>((word >> (bit & 7)) & mask());
    bp_bit_ += bw_;
    --bp_left_;
    return true;
  }

 private:
  uint64_t mask() const { return bw_ >= 32 ? 0xFFFFFFFFull : ((1ull << bw_) - 1); }
  bool Varint(uint64_t* out) {
    const uint8_t* next = GetVarint64Ptr(p_, end_, out);
    if (!next) return false;
    p_ = next;
    return true;
  }
  bool NextRun() {
    uint64_t header;
    if (!Varint(&header)) return false;
    if (header & 1) {
      uint64_t groups = header >> 1;
      size_t left = static_cast<size_t>(end_ - p_);
      uint64_t bytes = groups * static_cast<uint64_t>(bw_);
      if (groups > left || bytes > left) bytes = left;  // tolerate a short last run
      bp_data_ = p_;
      bp_end_ = p_ + bytes;
      bp_bit_ = 0;
      bp_left_ = bw_ == 0 ? groups * 8 : std::min<uint64_t>(groups * 8, bytes * 8 / bw_);
      if (bw_ == 0 && groups > (1u << 31)) return false;
      p_ += bytes;
      return bp_left_ > 0 || groups == 0;
    }
    rle_left_ = header >> 1;
    int nbytes = (bw_ + 7) / 8;
    if (end_ - p_ < nbytes) return false;
    uint64_t v = 0;
    for (int i = 0; i < nbytes; ++i) v |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += nbytes;
    rle_value_ = static_cast<uint32_t>(v & mask());
    return true;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  int bw_;
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint64_t bp_left_ = 0;
  const uint8_t* bp_data_ = nullptr;
  const uint8_t* bp_end_ = nullptr;
  uint64_t bp_bit_ = 0;
};

// Reads `bw` (0..64) bits at bit offset `bit` of [p, p+n); false if out of range.
inline bool ReadBits(const uint8_t* p, size_t n, uint64_t bit, int bw, uint64_t* out) {
  if (bw == 0) {
    *out = 0;
    return true;
  }
  uint64_t last_bit = bit + static_cast<uint64_t>(bw) - 1;
  if ((last_bit >> 3) >= n) return false;
  size_t first = static_cast<size_t>(bit >> 3);
  size_t count = static_cast<size_t>((last_bit >> 3) - first + 1);  // <= 9
  unsigned __int128 word = 0;
  for (size_t i = 0; i < count; ++i) word |= static_cast<unsigned __int128>(p[first + i]) << (8 * i);
  word >>= (bit & 7);
  *out = static_cast<uint64_t>(word) & (bw == 64 ? ~0ull : ((1ull << bw) - 1));
  return true;
}

// DELTA_BINARY_PACKED (Encodings.md): a header, then blocks of miniblocks of
// bit-packed deltas. Arithmetic wraps, as the encoding's writers assume.
class DeltaBinaryPackedDecoder {
 public:
  DeltaBinaryPackedDecoder(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}

  bool Init() {
    uint64_t block, minis, total, first;
    if (!Uleb(&block) || !Uleb(&minis) || !Uleb(&total) || !Uleb(&first)) return false;
    if (block == 0 || minis == 0 || minis > 256 || block % minis != 0 || block > (1u << 20)) return false;
    block_size_ = block;
    miniblocks_ = static_cast<size_t>(minis);
    per_mini_ = block / minis;
    if (per_mini_ % 8 != 0) return false;
    total_ = total;
    value_ = (first >> 1) ^ (~(first & 1) + 1);
    return true;
  }
  uint64_t total() const { return total_; }

  bool Next(int64_t* v) {
    if (returned_ >= total_) return false;
    if (returned_ == 0) {
      ++returned_;
      *v = static_cast<int64_t>(value_);
      return true;
    }
    if (left_in_mini_ == 0) {
      if (mini_ == miniblocks_ || !block_started_) {
        uint64_t z;
        if (!Uleb(&z)) return false;
        min_delta_ = (z >> 1) ^ (~(z & 1) + 1);
        if (static_cast<size_t>(end_ - p_) < miniblocks_) return false;
        widths_ = p_;
        p_ += miniblocks_;
        mini_ = 0;
        block_started_ = true;
      }
      int bw = widths_[mini_];
      if (bw > 64) return false;
      mini_data_ = p_;
      size_t bytes = static_cast<size_t>(per_mini_ * bw / 8);
      mini_bytes_ = std::min(bytes, static_cast<size_t>(end_ - p_));
      p_ += mini_bytes_;
      mini_bw_ = bw;
      mini_bit_ = 0;
      left_in_mini_ = per_mini_;
      ++mini_;
    }
    uint64_t d;
    if (!ReadBits(mini_data_, mini_bytes_, mini_bit_, mini_bw_, &d)) return false;
    mini_bit_ += mini_bw_;
    --left_in_mini_;
    value_ += min_delta_ + d;
    ++returned_;
    *v = static_cast<int64_t>(value_);
    return true;
  }
  // Where the encoded values end (valid once every value was read).
  const uint8_t* position() const { return p_; }

 private:
  bool Uleb(uint64_t* out) {
    const uint8_t* next = GetVarint64Ptr(p_, end_, out);
    if (!next) return false;
    p_ = next;
    return true;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  uint64_t block_size_ = 0, per_mini_ = 0, total_ = 0, returned_ = 0;
  size_t miniblocks_ = 0, mini_ = 0;
  bool block_started_ = false;
  uint64_t value_ = 0, min_delta_ = 0;
  const uint8_t* widths_ = nullptr;
  const uint8_t* mini_data_ = nullptr;
  size_t mini_bytes_ = 0;
  int mini_bw_ = 0;
  uint64_t mini_bit_ = 0, left_in_mini_ = 0;
};

// Decodes PLAIN values of one physical type, one at a time, into a Column.
class PlainDecoder {
 public:
  PlainDecoder(const FileColumn& fc, const uint8_t* p, size_t n) : fc_(fc), p_(p), end_(p + n) {}

  // Appends the next value to `out` (whose type may be a promotion of the
  // file's: int32 -> int64, string <-> binary, float -> double).
  bool Next(Column* out) {
    switch (fc_.physical) {
      case pq::kBooleanT: {
        size_t byte = bit_ >> 3;
        if (byte >= static_cast<size_t>(end_ - p_)) return false;
        out->AppendBool((p_[byte] >> (bit_ & 7)) & 1);
        ++bit_;
        return true;
      }
      case pq::kInt32T: {
        int32_t v;
        if (!Take(&v, 4)) return false;
        if (out->type() == TypeId::kInt32) out->AppendInt32(v);
        else out->AppendInt64(v);
        return true;
      }
      case pq::kInt64T: {
        int64_t v;
        if (!Take(&v, 8)) return false;
        if (fc_.ts_multiply != 1) v *= fc_.ts_multiply;
        if (fc_.ts_divide != 1) v /= fc_.ts_divide;
        out->AppendInt64(v);
        return true;
      }
      case pq::kFloatT: {
        float v;
        if (!Take(&v, 4)) return false;
        out->AppendDouble(v);
        return true;
      }
      case pq::kDoubleT: {
        double v;
        if (!Take(&v, 8)) return false;
        out->AppendDouble(v);
        return true;
      }
      case pq::kByteArrayT: {
        uint32_t len;
        if (!Take(&len, 4)) return false;
        if (len > static_cast<size_t>(end_ - p_)) return false;
        out->AppendString(std::string_view(reinterpret_cast<const char*>(p_), len));
        p_ += len;
        return true;
      }
      case pq::kFixedLenByteArrayT: {
        size_t len = static_cast<size_t>(fc_.type_length);
        if (len > static_cast<size_t>(end_ - p_)) return false;
        out->AppendString(std::string_view(reinterpret_cast<const char*>(p_), len));
        p_ += len;
        return true;
      }
    }
    return false;
  }

 private:
  bool Take(void* dst, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    std::memcpy(dst, p_, n);
    p_ += n;
    return true;
  }
  const FileColumn& fc_;
  const uint8_t* p_;
  const uint8_t* end_;
  uint64_t bit_ = 0;
};

}  // namespace

Status Corrupt(const std::string& where, const std::string& what) {
  return Status::Corruption(fmt::format("parquet {}: {}", where, what));
}

Status ChunkDecoder::DecodeChunk(const FileColumn& fc, int32_t codec, std::string_view chunk, int64_t rows,
                                 Column* out) {
  const uint8_t* buf = reinterpret_cast<const uint8_t*>(chunk.data());
  size_t pos = 0;
  const size_t total = chunk.size();
  int64_t done = 0;
  std::optional<Column> dict;
  while (done < rows) {
    if (pos >= total) return Corrupt(path_, fmt::format("chunk ends after {} of {} values", done, rows));
    pq::PageHeader h;
    size_t hlen = 0;
    WS_RETURN_IF_ERROR(pq::ParsePageHeader(buf + pos, total - pos, &h, &hlen));
    pos += hlen;
    if (static_cast<size_t>(h.compressed_page_size) > total - pos) {
      return Corrupt(path_, "page extends past its chunk");
    }
    const uint8_t* page = buf + pos;
    const size_t psize = static_cast<size_t>(h.compressed_page_size);
    pos += psize;
    if (h.type == pq::kDictionaryPage) {
      if (!h.dictionary_page_header) return Corrupt(path_, "dictionary page without header");
      if (dict) return Corrupt(path_, "second dictionary page in a chunk");
      const auto& dh = *h.dictionary_page_header;
      if (dh.encoding != pq::kPlain && dh.encoding != pq::kPlainDictionary) {
        return Status::NotSupported("parquet: dictionary page encoding not supported");
      }
      const uint8_t* data;
      WS_RETURN_IF_ERROR(Decompress(codec, page, psize, h.uncompressed_page_size, &page_buf_, &data));
      // Every entry takes at least one bit, so the count is bounded by the page.
      if (dh.num_values < 0 || static_cast<int64_t>(dh.num_values) > int64_t{h.uncompressed_page_size} * 8) {
        return Corrupt(path_, "dictionary entry count does not fit its page");
      }
      dict.emplace(out->type());
      PlainDecoder dec(fc, data, static_cast<size_t>(h.uncompressed_page_size));
      for (int32_t i = 0; i < dh.num_values; ++i) {
        if (!dec.Next(&*dict)) return Corrupt(path_, "dictionary page ends early");
      }
      continue;
    }
    if (h.type == pq::kDataPage) {
      if (!h.data_page_header) return Corrupt(path_, "data page without header");
      const auto& dp = *h.data_page_header;
      if (dp.num_values < 0 || dp.num_values > rows - done) return Corrupt(path_, "page value count out of range");
      const uint8_t* data;
      WS_RETURN_IF_ERROR(Decompress(codec, page, psize, h.uncompressed_page_size, &page_buf_, &data));
      size_t size = static_cast<size_t>(h.uncompressed_page_size);
      const size_t n = static_cast<size_t>(dp.num_values);
      const uint8_t* levels = nullptr;
      if (fc.optional) {
        if (dp.definition_level_encoding != pq::kRle) {
          return Status::NotSupported("parquet: definition levels must be RLE");
        }
        if (size < 4) return Corrupt(path_, "truncated definition levels");
        uint32_t llen;
        std::memcpy(&llen, data, 4);
        if (llen > size - 4) return Corrupt(path_, "definition levels exceed page");
        size_t nulls;
        WS_RETURN_IF_ERROR(DecodeLevels(data + 4, llen, n, &nulls));
        levels = levels_.data();
        data += 4 + llen;
        size -= 4 + llen;
      }
      WS_RETURN_IF_ERROR(DecodeValues(fc, levels, n, dp.encoding, data, size, dict ? &*dict : nullptr, out));
      done += dp.num_values;
      continue;
    }
    if (h.type == pq::kDataPageV2) {
      if (!h.data_page_header_v2) return Corrupt(path_, "data page v2 without header");
      const auto& dp = *h.data_page_header_v2;
      if (dp.num_values < 0 || dp.num_values > rows - done) return Corrupt(path_, "page value count out of range");
      if (dp.repetition_levels_byte_length != 0) return Corrupt(path_, "repetition levels in a flat column");
      if (dp.definition_levels_byte_length < 0 || static_cast<size_t>(dp.definition_levels_byte_length) > psize) {
        return Corrupt(path_, "definition levels exceed page");
      }
      const size_t llen = static_cast<size_t>(dp.definition_levels_byte_length);
      const size_t n = static_cast<size_t>(dp.num_values);
      const uint8_t* levels = nullptr;
      if (fc.optional) {
        size_t nulls;
        WS_RETURN_IF_ERROR(DecodeLevels(page, llen, n, &nulls));
        levels = levels_.data();
      }
      const uint8_t* data;
      int64_t usize = int64_t{h.uncompressed_page_size} - static_cast<int64_t>(llen);
      if (usize < 0) return Corrupt(path_, "page v2 sizes inconsistent");
      bool compressed = dp.is_compressed && codec != pq::kUncompressed;
      WS_RETURN_IF_ERROR(Decompress(compressed ? codec : pq::kUncompressed, page + llen, psize - llen, usize,
                                    &page_buf_, &data));
      WS_RETURN_IF_ERROR(DecodeValues(fc, levels, n, dp.encoding, data, static_cast<size_t>(usize),
                                      dict ? &*dict : nullptr, out));
      done += dp.num_values;
      continue;
    }
    // Index pages and unknown page types carry no values.
  }
  return Status::OK();
}

Status ChunkDecoder::Decompress(int32_t codec, const uint8_t* src, size_t n, int64_t uncompressed, std::string* buf,
                                const uint8_t** out) {
  if (uncompressed < 0 || uncompressed > kMaxPageBytes) {
    return Corrupt(path_, fmt::format("page claims {} uncompressed bytes", uncompressed));
  }
  switch (codec) {
    case pq::kUncompressed:
      if (static_cast<int64_t>(n) != uncompressed) return Corrupt(path_, "uncompressed page size mismatch");
      *out = src;
      return Status::OK();
    case pq::kZstd: {
      // A frame that states its size must state the page's: checked before
      // allocating, so a lying header cannot make us reserve 256 MiB.
      unsigned long long fcs = ZSTD_getFrameContentSize(src, n);
      if (fcs == ZSTD_CONTENTSIZE_ERROR || (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != static_cast<uint64_t>(uncompressed))) {
        return Corrupt(path_, fmt::format("zstd page does not decompress to {} bytes", uncompressed));
      }
      buf->resize(static_cast<size_t>(uncompressed));
      size_t r = ZSTD_decompress(buf->data(), buf->size(), src, n);
      if (ZSTD_isError(r) || r != static_cast<size_t>(uncompressed)) {
        return Corrupt(path_, fmt::format("zstd page does not decompress to {} bytes", uncompressed));
      }
      *out = reinterpret_cast<const uint8_t*>(buf->data());
      return Status::OK();
    }
    case pq::kSnappy: {
      size_t ulen = 0;
      const char* s = reinterpret_cast<const char*>(src);
      if (!snappy::GetUncompressedLength(s, n, &ulen) || ulen != static_cast<size_t>(uncompressed)) {
        return Corrupt(path_, "snappy page length mismatch");
      }
      buf->resize(ulen);
      if (!snappy::RawUncompress(s, n, buf->data())) return Corrupt(path_, "snappy page does not decompress");
      *out = reinterpret_cast<const uint8_t*>(buf->data());
      return Status::OK();
    }
    default:
      return Status::NotSupported(fmt::format("parquet {}: compression codec {} is not supported", path_, codec));
  }
}

Status ChunkDecoder::DecodeValues(const FileColumn& fc, const uint8_t* levels, size_t n, int32_t encoding,
                                  const uint8_t* p, size_t size, const Column* dict, Column* out) {
  auto bad = [&](const char* what) { return Corrupt(path_, fmt::format("data page: {}", what)); };
  if (encoding == pq::kPlain) {
    PlainDecoder dec(fc, p, size);
    for (size_t i = 0; i < n; ++i) {
      if (levels && !levels[i]) {
        out->AppendNull();
      } else if (!dec.Next(out)) {
        return bad("values end early");
      }
    }
    return Status::OK();
  }
  if (encoding == pq::kPlainDictionary || encoding == pq::kRleDictionary) {
    if (!dict) return bad("dictionary-encoded page without a dictionary");
    if (size < 1 || p[0] > 32) return bad("bad dictionary index bit width");
    RleDecoder dec(p + 1, size - 1, p[0]);
    const size_t dict_size = dict->size();
    for (size_t i = 0; i < n; ++i) {
      if (levels && !levels[i]) {
        out->AppendNull();
        continue;
      }
      uint32_t idx;
      if (!dec.Next(&idx)) return bad("dictionary indices end early");
      if (idx >= dict_size) return bad("dictionary index out of range");
      out->AppendFrom(*dict, idx);
    }
    return Status::OK();
  }
  if (encoding == pq::kRle && fc.physical == pq::kBooleanT) {
    if (size < 4) return bad("truncated boolean RLE length");
    uint32_t len;
    std::memcpy(&len, p, 4);
    if (len > size - 4) return bad("boolean RLE length exceeds page");
    RleDecoder dec(p + 4, len, 1);
    for (size_t i = 0; i < n; ++i) {
      uint32_t v;
      if (levels && !levels[i]) {
        out->AppendNull();
      } else if (!dec.Next(&v)) {
        return bad("boolean values end early");
      } else {
        out->AppendBool(v != 0);
      }
    }
    return Status::OK();
  }
  if (encoding == pq::kDeltaBinaryPacked && (fc.physical == pq::kInt32T || fc.physical == pq::kInt64T)) {
    DeltaBinaryPackedDecoder dec(p, size);
    if (!dec.Init()) return bad("bad DELTA_BINARY_PACKED header");
    for (size_t i = 0; i < n; ++i) {
      if (levels && !levels[i]) {
        out->AppendNull();
        continue;
      }
      int64_t v;
      if (!dec.Next(&v)) return bad("DELTA_BINARY_PACKED values end early");
      AppendInteger(fc, v, out);
    }
    return Status::OK();
  }
  if ((encoding == pq::kDeltaLengthByteArray || encoding == pq::kDeltaByteArray) && fc.physical == pq::kByteArrayT) {
    const size_t nn = levels ? static_cast<size_t>(std::count_if(levels, levels + n, [](uint8_t l) { return l != 0; })) : n;
    const uint8_t* end = p + size;
    // DELTA_BYTE_ARRAY = prefix lengths, then the suffixes as DELTA_LENGTH_BYTE_ARRAY.
    prefixes_.clear();
    if (encoding == pq::kDeltaByteArray) {
      DeltaBinaryPackedDecoder pre(p, size);
      if (!pre.Init() || pre.total() < nn) return bad("bad DELTA_BYTE_ARRAY prefix lengths");
      for (size_t i = 0; i < nn; ++i) {
        int64_t v;
        if (!pre.Next(&v) || v < 0) return bad("DELTA_BYTE_ARRAY prefix lengths end early");
        prefixes_.push_back(v);
      }
      p = pre.position();
    }
    DeltaBinaryPackedDecoder lens(p, static_cast<size_t>(end - p));
    if (!lens.Init() || lens.total() < nn) return bad("bad DELTA_LENGTH_BYTE_ARRAY lengths");
    lengths_.clear();
    for (size_t i = 0; i < nn; ++i) {
      int64_t v;
      if (!lens.Next(&v) || v < 0) return bad("DELTA_LENGTH_BYTE_ARRAY lengths end early");
      lengths_.push_back(v);
    }
    // Skip any lengths past our values (none in a well-formed page).
    for (int64_t v; lens.Next(&v);) {
    }
    const uint8_t* data = lens.position();
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      if (levels && !levels[i]) {
        out->AppendNull();
        continue;
      }
      uint64_t len = static_cast<uint64_t>(lengths_[k]);
      if (len > static_cast<uint64_t>(end - data)) return bad("byte array data ends early");
      std::string_view suffix(reinterpret_cast<const char*>(data), len);
      data += len;
      if (encoding == pq::kDeltaByteArray) {
        uint64_t pre = static_cast<uint64_t>(prefixes_[k]);
        if (pre > previous_.size()) return bad("DELTA_BYTE_ARRAY prefix longer than the previous value");
        previous_.resize(pre);
        previous_.append(suffix);
        out->AppendString(previous_);
      } else {
        out->AppendString(suffix);
      }
      ++k;
    }
    previous_.clear();
    return Status::OK();
  }
  if (encoding == pq::kByteStreamSplit) {
    size_t width = fc.physical == pq::kInt32T || fc.physical == pq::kFloatT    ? 4
                   : fc.physical == pq::kInt64T || fc.physical == pq::kDoubleT ? 8
                   : fc.physical == pq::kFixedLenByteArrayT                    ? static_cast<size_t>(fc.type_length)
                                                                               : 0;
    if (width == 0) return bad("BYTE_STREAM_SPLIT on an unsupported type");
    size_t count = size / width;
    // Un-split into PLAIN order, then decode as PLAIN.
    split_.resize(count * width);
    for (size_t b = 0; b < width; ++b) {
      const uint8_t* stream = p + b * count;
      for (size_t j = 0; j < count; ++j) split_[j * width + b] = static_cast<char>(stream[j]);
    }
    return DecodeValues(fc, levels, n, pq::kPlain, reinterpret_cast<const uint8_t*>(split_.data()), split_.size(),
                        dict, out);
  }
  return Status::NotSupported(fmt::format("parquet {}: value encoding {} is not supported", path_, encoding));
}

void ChunkDecoder::AppendInteger(const FileColumn& fc, int64_t v, Column* out) {
  if (fc.physical == pq::kInt32T) {
    if (out->type() == TypeId::kInt32) out->AppendInt32(static_cast<int32_t>(v));
    else out->AppendInt64(static_cast<int32_t>(v));
    return;
  }
  if (fc.ts_multiply != 1) v *= fc.ts_multiply;
  if (fc.ts_divide != 1) v /= fc.ts_divide;
  out->AppendInt64(v);
}

Status ChunkDecoder::DecodeLevels(const uint8_t* p, size_t size, size_t n, size_t* nulls) {
  levels_.resize(n);
  RleDecoder dec(p, size, 1);
  size_t z = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t v;
    if (!dec.Next(&v)) return Corrupt(path_, "definition levels end early");
    levels_[i] = static_cast<uint8_t>(v);
    z += v == 0;
  }
  *nulls = z;
  return Status::OK();
}

}  // namespace ws::format
