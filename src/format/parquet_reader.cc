#include "wikistream/format/parquet_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "parquet_page_decoder.h"
#include "thrift_parquet.h"

namespace ws::format {

namespace {

namespace pq = parquet;

// Limits that keep allocations bounded whatever a file claims: a row group
// never holds more than kMaxRowGroupRows rows (our writer's groups are far
// smaller); pages are bounded by ChunkDecoder.
constexpr int64_t kMaxRowGroupRows = 1ll << 26;
constexpr size_t kMaxFooterBytes = 64u << 20;

// On an object store every ReadAt is a request and costs a round trip, so
// the reader asks for few, larger ranges: the end of the file in one read
// (the footer of our files fits in it), and the column chunks of a row group
// that lie close together in one read. A read never grows past
// kMaxCoalescedBytes by coalescing (a single larger chunk is read alone), so
// memory stays bounded as when chunks were read one at a time.
constexpr uint64_t kTailReadAhead = 64u << 10;
constexpr int64_t kMaxCoalesceGap = 64 << 10;
constexpr int64_t kMaxCoalescedBytes = 8 << 20;

bool TypesCompatible(TypeId file, TypeId want) {
  if (file == want) return true;
  if (file == TypeId::kInt32 && want == TypeId::kInt64) return true;
  if ((file == TypeId::kString || file == TypeId::kBinary) && (want == TypeId::kString || want == TypeId::kBinary)) {
    return true;
  }
  return false;
}

class ParquetReaderImpl : public ParquetReader {
 public:
  Status Open(FileSystem* fs, const std::string& path) {
    path_ = path;
    pages_ = ChunkDecoder(path);
    WS_ASSIGN_OR_RETURN(file_, fs->OpenForRead(path));
    size_ = file_->Size();
    if (size_ < 12) return Corrupt(path_, fmt::format("file of {} bytes is too small", size_));
    const uint64_t ahead = std::min(size_, kTailReadAhead);
    std::string end;
    WS_RETURN_IF_ERROR(file_->ReadAt(size_ - ahead, ahead, &end));
    // The leading magic is checked when the read-ahead holds it (small
    // files); in a larger file the trailing magic, the footer and the page
    // headers are what show it is Parquet, as in other readers.
    const bool head_ok = ahead < size_ || end.compare(0, 4, "PAR1") == 0;
    if (!head_ok || end.compare(ahead - 4, 4, "PAR1") != 0) return Corrupt(path_, "missing PAR1 magic");
    uint32_t footer_len;
    std::memcpy(&footer_len, end.data() + ahead - 8, 4);
    if (footer_len > size_ - 12 || footer_len > kMaxFooterBytes) {
      return Corrupt(path_, fmt::format("footer length {} does not fit the file", footer_len));
    }
    data_end_ = size_ - 8 - footer_len;
    std::string footer;
    if (footer_len + 8 <= ahead) {
      footer = end.substr(ahead - 8 - footer_len, footer_len);
    } else {
      WS_RETURN_IF_ERROR(file_->ReadAt(data_end_, footer_len, &footer));
    }
    Status s = pq::ParseFileMetaData(reinterpret_cast<const uint8_t*>(footer.data()), footer.size(), &md_);
    if (!s.ok()) return s.WithContext(path_);
    return Validate();
  }

  int64_t num_rows() const override { return md_.num_rows; }
  int num_row_groups() const override { return static_cast<int>(md_.row_groups.size()); }
  const SchemaPtr& file_schema() const override { return schema_; }
  const std::vector<std::pair<std::string, std::string>>& key_value_metadata() const override {
    return md_.key_value_metadata;
  }

  Result<RecordBatch> ReadRowGroup(int index, const SchemaPtr& projection) override {
    const SchemaPtr& proj = projection ? projection : schema_;
    RecordBatch batch(proj);
    if (index >= 0 && index < num_row_groups()) Reserve(&batch, index, index + 1);
    WS_RETURN_IF_ERROR(ReadRowGroupInto(index, &batch));
    return batch;
  }

  Result<RecordBatch> ReadAll(const SchemaPtr& projection) override {
    const SchemaPtr& proj = projection ? projection : schema_;
    RecordBatch batch(proj);
    Reserve(&batch, 0, num_row_groups());
    for (int i = 0; i < num_row_groups(); ++i) WS_RETURN_IF_ERROR(ReadRowGroupInto(i, &batch));
    return batch;
  }

 private:
  // Sizes the output columns up front (no regrowth copies of 1 GB string
  // buffers). String bytes are estimated from the chunks' uncompressed sizes
  // but never above 20x their on-disk bytes, so a lying footer cannot make us
  // reserve more than a small multiple of the file.
  void Reserve(RecordBatch* batch, int first, int last) {
    int64_t rows = 0;
    for (int g = first; g < last; ++g) rows += md_.row_groups[g].num_rows;
    if (rows > kMaxRowGroupRows) return;
    const Schema& proj = *batch->schema();
    for (size_t i = 0; i < proj.num_fields(); ++i) {
      int c = FindColumn(proj.field(i));
      int64_t bytes = 0;
      if (c >= 0 && (proj.field(i).type == TypeId::kString || proj.field(i).type == TypeId::kBinary)) {
        for (int g = first; g < last; ++g) {
          const auto& m = *md_.row_groups[g].columns[c].meta_data;
          if (m.total_uncompressed_size > 0 && m.total_compressed_size > 0) {
            bytes += std::min(m.total_uncompressed_size, std::min<int64_t>(m.total_compressed_size, size_) * 20);
          }
        }
      }
      batch->column(i).Reserve(static_cast<size_t>(rows), static_cast<size_t>(std::min<int64_t>(bytes, int64_t{4} << 30)));
    }
  }

 private:
  Status Validate() {
    if (md_.schema.empty()) return Corrupt(path_, "empty schema");
    const auto& root = md_.schema[0];
    size_t n = md_.schema.size() - 1;
    if (root.num_children.value_or(0) != static_cast<int32_t>(n)) {
      return Status::NotSupported(fmt::format("parquet {}: nested schemas are not supported", path_));
    }
    if (md_.num_rows < 0) return Corrupt(path_, "negative row count");
    bool has_ids = false;
    std::vector<Field> fields;
    for (size_t i = 1; i <= n; ++i) {
      const auto& e = md_.schema[i];
      if (e.num_children.value_or(0) != 0 || !e.type) {
        return Status::NotSupported(fmt::format("parquet {}: nested column {} is not supported", path_, e.name));
      }
      if (e.repetition_type.value_or(pq::kRequired) == pq::kRepeated) {
        return Status::NotSupported(fmt::format("parquet {}: repeated column {} is not supported", path_, e.name));
      }
      FileColumn fc;
      fc.physical = *e.type;
      fc.optional = e.repetition_type.value_or(pq::kRequired) == pq::kOptional;
      int32_t ct = e.converted_type.value_or(-1);
      switch (fc.physical) {
        case pq::kBooleanT: fc.type = TypeId::kBoolean; break;
        case pq::kInt32T: fc.type = TypeId::kInt32; break;
        case pq::kInt64T:
          fc.type = TypeId::kInt64;
          if (e.logical == pq::kLogicalTimestamp) {
            fc.type = TypeId::kTimestampTz;
            if (e.timestamp_unit == pq::kMillis) fc.ts_multiply = 1000;
            if (e.timestamp_unit == pq::kNanos) fc.ts_divide = 1000;
          } else if (ct == pq::kTimestampMicros) {
            fc.type = TypeId::kTimestampTz;
          } else if (ct == pq::kTimestampMillis) {
            fc.type = TypeId::kTimestampTz;
            fc.ts_multiply = 1000;
          }
          break;
        case pq::kFloatT:
        case pq::kDoubleT: fc.type = TypeId::kDouble; break;
        case pq::kByteArrayT: {
          bool text = e.logical == pq::kLogicalString || e.logical == pq::kLogicalEnum ||
                      e.logical == pq::kLogicalJson || ct == pq::kUtf8 || ct == pq::kEnum || ct == pq::kJson;
          fc.type = text ? TypeId::kString : TypeId::kBinary;
          break;
        }
        case pq::kFixedLenByteArrayT:
          fc.type = TypeId::kBinary;
          fc.type_length = e.type_length.value_or(-1);
          if (fc.type_length <= 0 || fc.type_length > (1 << 20)) {
            return Corrupt(path_, fmt::format("column {} has bad fixed length", e.name));
          }
          break;
        default:
          return Status::NotSupported(
              fmt::format("parquet {}: column {} has unsupported physical type {}", path_, e.name, fc.physical));
      }
      Field f;
      f.id = e.field_id.value_or(static_cast<int32_t>(i));
      has_ids = has_ids || e.field_id.has_value();
      f.name = e.name;
      f.type = fc.type;
      f.required = !fc.optional;
      fields.push_back(std::move(f));
      cols_.push_back(fc);
    }
    has_field_ids_ = has_ids;
    schema_ = std::make_shared<Schema>(0, std::move(fields));
    int64_t total = 0;
    for (size_t g = 0; g < md_.row_groups.size(); ++g) {
      const auto& rg = md_.row_groups[g];
      if (rg.columns.size() != n) {
        return Corrupt(path_, fmt::format("row group {} has {} columns, schema has {}", g, rg.columns.size(), n));
      }
      if (rg.num_rows < 0 || rg.num_rows > kMaxRowGroupRows) {
        return Corrupt(path_, fmt::format("row group {} has {} rows", g, rg.num_rows));
      }
      total += rg.num_rows;
      for (const auto& c : rg.columns) {
        if (c.file_path) return Status::NotSupported(fmt::format("parquet {}: external column chunks", path_));
        if (!c.meta_data) return Corrupt(path_, fmt::format("row group {} lacks column metadata", g));
      }
    }
    if (total != md_.num_rows) {
      return Corrupt(path_, fmt::format("row groups hold {} rows, footer says {}", total, md_.num_rows));
    }
    return Status::OK();
  }

  int FindColumn(const Field& f) const {
    if (has_field_ids_) return schema_->FieldIndexById(f.id);
    return schema_->FieldIndex(f.name);
  }

  Status ReadRowGroupInto(int index, RecordBatch* batch) {
    if (index < 0 || index >= num_row_groups()) {
      return Status::InvalidArgument(fmt::format("parquet {}: no row group {}", path_, index));
    }
    const auto& rg = md_.row_groups[index];
    const Schema& proj = *batch->schema();
    // First which chunks to read (and whether they can be), then their
    // bytes in few reads, decoding each read's chunks before the next.
    std::vector<ChunkToRead> chunks;
    for (size_t i = 0; i < proj.num_fields(); ++i) {
      const Field& f = proj.field(i);
      int c = FindColumn(f);
      if (c < 0) {
        if (f.required) {
          return Status::InvalidArgument(
              fmt::format("parquet {}: required column {} (id {}) is not in the file", path_, f.name, f.id));
        }
        Column& out = batch->column(i);
        for (int64_t r = 0; r < rg.num_rows; ++r) out.AppendNull();
        continue;
      }
      if (!TypesCompatible(cols_[c].type, f.type)) {
        return Status::InvalidArgument(fmt::format("parquet {}: column {} is {} in the file, {} requested", path_,
                                                   f.name, IcebergTypeName(cols_[c].type), IcebergTypeName(f.type)));
      }
      ChunkToRead chunk{i, c, 0, 0};
      Status s = LocateChunk(rg, c, &chunk);
      if (!s.ok()) return s.WithContext(fmt::format("row group {} column {}", index, f.name));
      chunks.push_back(chunk);
    }
    std::sort(chunks.begin(), chunks.end(),
              [](const ChunkToRead& a, const ChunkToRead& b) { return a.start < b.start; });
    for (size_t first = 0; first < chunks.size();) {
      // One read: the next chunk and those close behind it.
      const int64_t start = chunks[first].start;
      int64_t end = start + chunks[first].len;
      size_t last = first + 1;
      while (last < chunks.size() && chunks[last].start - end <= kMaxCoalesceGap &&
             std::max(end, chunks[last].start + chunks[last].len) - start <= kMaxCoalescedBytes) {
        end = std::max(end, chunks[last].start + chunks[last].len);
        ++last;
      }
      WS_RETURN_IF_ERROR(file_->ReadAt(static_cast<uint64_t>(start), static_cast<size_t>(end - start), &chunk_));
      for (size_t k = first; k < last; ++k) {
        const ChunkToRead& chunk = chunks[k];
        const Field& f = proj.field(chunk.field);
        Column& out = batch->column(chunk.field);
        size_t nulls_before = out.null_count();
        std::string_view bytes(chunk_.data() + (chunk.start - start), static_cast<size_t>(chunk.len));
        Status s = pages_.DecodeChunk(cols_[chunk.column], rg.columns[chunk.column].meta_data->codec, bytes,
                                      rg.num_rows, &out);
        if (!s.ok()) return s.WithContext(fmt::format("row group {} column {}", index, f.name));
        if (f.required && out.null_count() != nulls_before) {
          return Status::InvalidArgument(fmt::format("parquet {}: column {} has nulls but is required", path_, f.name));
        }
      }
      first = last;
    }
    return Status::OK();
  }

  // A projected field and the byte range of its column chunk in one row group.
  struct ChunkToRead {
    size_t field;
    int column;
    int64_t start, len;
  };

  // Where column c's chunk of `rg` lies, checked against the file.
  Status LocateChunk(const pq::RowGroup& rg, int c, ChunkToRead* chunk) {
    const FileColumn& fc = cols_[c];
    const pq::ColumnMetaData& m = *rg.columns[c].meta_data;
    if (m.type != fc.physical) return Corrupt(path_, "chunk type differs from schema");
    if (m.codec == pq::kGzip) return Status::NotSupported(fmt::format("parquet {}: gzip is not supported", path_));
    int64_t start = m.data_page_offset;
    if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 && *m.dictionary_page_offset < start) {
      start = *m.dictionary_page_offset;
    }
    int64_t len = m.total_compressed_size;
    if (start < 4 || len < 0 || start > static_cast<int64_t>(data_end_) ||
        len > static_cast<int64_t>(data_end_) - start) {
      return Corrupt(path_, fmt::format("chunk [{}, +{}) outside the data area", start, len));
    }
    chunk->start = start;
    chunk->len = len;
    return Status::OK();
  }

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t size_ = 0;
  uint64_t data_end_ = 0;
  pq::FileMetaData md_;
  SchemaPtr schema_;
  std::vector<FileColumn> cols_;
  bool has_field_ids_ = false;
  std::string chunk_;
  ChunkDecoder pages_;
};

}  // namespace

Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(FileSystem* fs, const std::string& path) {
  auto r = std::make_unique<ParquetReaderImpl>();
  WS_RETURN_IF_ERROR(r->Open(fs, path));
  return std::unique_ptr<ParquetReader>(std::move(r));
}

}  // namespace ws::format
