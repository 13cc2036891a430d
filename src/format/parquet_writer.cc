#include "wikistream/format/parquet_writer.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <thread>
#include <nlohmann/json.hpp>

#include "parquet_column_writer.h"
#include "thrift_parquet.h"

namespace ws::format {

namespace {

// Rows handed to every column encoder at a time: small enough that a row
// group is cut close to row_group_bytes even inside one huge batch.
constexpr size_t kSliceRows = 4096;

class ParquetWriterImpl : public ParquetWriter {
 public:
  ParquetWriterImpl(std::unique_ptr<WritableFile> file, SchemaPtr schema, ParquetWriterOptions options)
      : file_(std::move(file)), schema_(std::move(schema)), opts_(std::move(options)),
        comp_(opts_.compression, opts_.zstd_level) {
    for (const Field& f : schema_->fields()) columns_.push_back(std::make_unique<ColumnWriter>(f, opts_, &comp_));
  }

  Status Start() {
    WS_RETURN_IF_ERROR(Check(file_->Append("PAR1")));
    pos_ = 4;
    return Status::OK();
  }

  Status Write(const RecordBatch& batch) override {
    WS_RETURN_IF_ERROR(status_);
    if (!batch.schema() || !batch.schema()->Equals(*schema_)) {
      return Status::InvalidArgument("parquet writer: batch schema differs from the file schema");
    }
    WS_RETURN_IF_ERROR(batch.Validate());
    const size_t n = batch.num_rows();
    if (opts_.threads > 1 && n > 0 && CannotFillRowGroup(batch)) {
      // No slice of the loop below would cut a row group before the last
      // one, so every column can take the whole batch at once, in parallel.
      std::vector<size_t> weight;
      for (size_t c = 0; c < batch.num_columns(); ++c) weight.push_back(batch.column(c).ByteSize());
      WS_RETURN_IF_ERROR(
          Check(ForEachColumn(weight, [&](size_t c) { return columns_[c]->Append(batch.column(c), 0, n); })));
      group_rows_ += static_cast<int64_t>(n);
      if (BufferedBytes() >= opts_.row_group_bytes) WS_RETURN_IF_ERROR(FlushRowGroup());
      return Status::OK();
    }
    for (size_t begin = 0; begin < n; begin += kSliceRows) {
      size_t end = std::min(n, begin + kSliceRows);
      for (size_t c = 0; c < columns_.size(); ++c) {
        WS_RETURN_IF_ERROR(Check(columns_[c]->Append(batch.column(c), begin, end)));
      }
      group_rows_ += static_cast<int64_t>(end - begin);
      if (BufferedBytes() >= opts_.row_group_bytes) WS_RETURN_IF_ERROR(FlushRowGroup());
    }
    return Status::OK();
  }

  Result<DataFileStats> Close() override {
    WS_RETURN_IF_ERROR(status_);
    if (closed_) return Status::InvalidArgument("parquet writer: already closed");
    closed_ = true;
    WS_RETURN_IF_ERROR(FlushRowGroup());

    pq::FileMetaData md;
    md.version = 1;
    md.num_rows = total_rows_;
    md.created_by = "wikistream version 0.1.0";
    pq::SchemaElement root;
    root.name = "schema";
    root.num_children = static_cast<int32_t>(schema_->num_fields());
    md.schema.push_back(root);
    for (const Field& f : schema_->fields()) {
      pq::SchemaElement e;
      e.name = f.name;
      e.repetition_type = f.required ? pq::kRequired : pq::kOptional;
      e.field_id = f.id;
      switch (f.type) {
        case TypeId::kBoolean: e.type = pq::kBooleanT; break;
        case TypeId::kInt32: e.type = pq::kInt32T; break;
        case TypeId::kInt64: e.type = pq::kInt64T; break;
        case TypeId::kDouble: e.type = pq::kDoubleT; break;
        case TypeId::kString:
          e.type = pq::kByteArrayT;
          e.converted_type = pq::kUtf8;
          e.logical = pq::kLogicalString;
          break;
        case TypeId::kBinary: e.type = pq::kByteArrayT; break;
        case TypeId::kTimestampTz:
          e.type = pq::kInt64T;
          e.converted_type = pq::kTimestampMicros;
          e.logical = pq::kLogicalTimestamp;
          e.timestamp_utc = true;
          e.timestamp_unit = pq::kMicros;
          break;
      }
      md.schema.push_back(std::move(e));
      md.column_orders.push_back(true);
    }
    md.row_groups = std::move(row_groups_);
    md.key_value_metadata.emplace_back("iceberg.schema", IcebergSchemaJson(*schema_));
    for (const auto& kv : opts_.key_value_metadata) md.key_value_metadata.push_back(kv);

    std::string footer;
    pq::SerializeFileMetaData(md, &footer);
    uint32_t len = static_cast<uint32_t>(footer.size());
    AppendLE(len, &footer);
    footer.append("PAR1");
    WS_RETURN_IF_ERROR(Check(file_->Append(footer)));
    pos_ += static_cast<int64_t>(footer.size());
    WS_RETURN_IF_ERROR(Check(file_->Sync()));
    WS_RETURN_IF_ERROR(Check(file_->Close()));

    DataFileStats stats;
    stats.record_count = total_rows_;
    stats.file_size_bytes = pos_;
    stats.split_offsets = std::move(split_offsets_);
    for (const auto& c : columns_) stats.columns.push_back(c->FileStats());
    return stats;
  }

 private:
  Status Check(Status s) {
    if (!s.ok() && status_.ok()) status_ = s;
    return s;
  }

  size_t BufferedBytes() const {
    size_t total = 0;
    for (const auto& c : columns_) total += c->buffered_bytes();
    return total;
  }

  // Encoded bytes never exceed the in-memory bytes by more than page
  // headers and levels (a 4-byte length replaces an 8-byte offset, a
  // dictionary index a value): a margin makes the bound safe.
  bool CannotFillRowGroup(const RecordBatch& batch) const {
    const size_t batch_bytes = batch.ByteSize();
    return BufferedBytes() + batch_bytes + batch_bytes / 4 + (64u << 10) < opts_.row_group_bytes;
  }

  // Runs fn(column index) for every column on up to opts_.threads threads,
  // the columns dealt out so that each thread gets about as many bytes
  // (weight[c] = the bytes column c will work through).
  Status ForEachColumn(const std::vector<size_t>& weight, const std::function<Status(size_t)>& fn) {
    const size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, opts_.threads)), columns_.size());
    std::vector<size_t> order(columns_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return weight[a] > weight[b]; });
    std::vector<std::vector<size_t>> share(threads);
    std::vector<size_t> load(threads, 0);
    for (size_t c : order) {
      size_t t = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      share[t].push_back(c);
      load[t] += weight[c];
    }
    std::vector<Status> results(columns_.size());
    auto run = [&](size_t t) {
      for (size_t c : share[t]) results[c] = fn(c);
    };
    std::vector<std::thread> workers;
    for (size_t t = 1; t < threads; ++t) workers.emplace_back(run, t);
    run(0);
    for (auto& w : workers) w.join();
    for (Status& r : results) WS_RETURN_IF_ERROR(r);
    return Status::OK();
  }

  Status FlushRowGroup() {
    if (group_rows_ == 0) return Status::OK();
    pq::RowGroup g;
    g.num_rows = group_rows_;
    g.file_offset = pos_;
    g.ordinal = static_cast<int32_t>(row_groups_.size());
    split_offsets_.push_back(pos_);
    const int64_t start = pos_;
    if (opts_.threads > 1) {
      // Compress every column's last page in parallel; the file is written in order below.
      std::vector<size_t> weight;
      for (const auto& c : columns_) weight.push_back(c->buffered_bytes());
      WS_RETURN_IF_ERROR(Check(ForEachColumn(weight, [&](size_t c) { return columns_[c]->FinishPage(); })));
    }
    for (auto& c : columns_) {
      WS_RETURN_IF_ERROR(Check(c->FlushChunk(file_.get(), &pos_, &g.columns.emplace_back())));
      g.total_byte_size += g.columns.back().meta_data->total_uncompressed_size;
    }
    g.total_compressed_size = pos_ - start;
    row_groups_.push_back(std::move(g));
    total_rows_ += group_rows_;
    group_rows_ = 0;
    return Status::OK();
  }

  std::unique_ptr<WritableFile> file_;
  SchemaPtr schema_;
  ParquetWriterOptions opts_;
  Compressor comp_;
  std::vector<std::unique_ptr<ColumnWriter>> columns_;
  std::vector<pq::RowGroup> row_groups_;
  std::vector<int64_t> split_offsets_;
  int64_t pos_ = 0;
  int64_t group_rows_ = 0;
  int64_t total_rows_ = 0;
  bool closed_ = false;
  Status status_;
};

}  // namespace

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(std::unique_ptr<WritableFile> file, SchemaPtr schema,
                                                           ParquetWriterOptions options) {
  if (!file) return Status::InvalidArgument("parquet writer: no file");
  if (!schema || schema->num_fields() == 0) return Status::InvalidArgument("parquet writer: empty schema");
  if (options.page_bytes == 0) options.page_bytes = 1;
  if (options.compression == ParquetCompression::kZstd &&
      (options.zstd_level < ZSTD_minCLevel() || options.zstd_level > ZSTD_maxCLevel())) {
    return Status::InvalidArgument(fmt::format("parquet writer: zstd level {} out of range", options.zstd_level));
  }
  auto w = std::make_unique<ParquetWriterImpl>(std::move(file), std::move(schema), std::move(options));
  WS_RETURN_IF_ERROR(w->Start());
  return std::unique_ptr<ParquetWriter>(std::move(w));
}

Result<DataFileStats> WriteParquetFile(FileSystem* fs, const std::string& path, const RecordBatch& batch,
                                       ParquetWriterOptions options) {
  WS_ASSIGN_OR_RETURN(auto file, fs->Create(path));
  WS_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Open(std::move(file), batch.schema(), std::move(options)));
  WS_RETURN_IF_ERROR(writer->Write(batch));
  return writer->Close();
}

std::string IcebergSchemaJson(const Schema& schema) {
  nlohmann::ordered_json j;
  j["type"] = "struct";
  j["schema-id"] = schema.schema_id();
  auto fields = nlohmann::ordered_json::array();
  for (const Field& f : schema.fields()) {
    nlohmann::ordered_json jf;
    jf["id"] = f.id;
    jf["name"] = f.name;
    jf["required"] = f.required;
    jf["type"] = std::string(IcebergTypeName(f.type));
    if (!f.doc.empty()) jf["doc"] = f.doc;
    fields.push_back(std::move(jf));
  }
  j["fields"] = std::move(fields);
  return j.dump();
}

}  // namespace ws::format
