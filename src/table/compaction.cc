// Compaction: rewrite the small files of one partition into few large ones
// and commit them with a `replace` snapshot (same rows, fewer files).
#include <fmt/format.h>

#include "table_internal.h"
#include "wikistream/common/logging.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/format/parquet_writer.h"

namespace ws::table {

using format::DataFileStats;
using format::ParquetReader;
using format::ParquetWriter;
using format::RecordBatch;
using format::SchemaPtr;

Result<DataFile> Table::WriteDataFile(const PartitionValues& partition, const RecordBatch& batch) {
  WS_ASSIGN_OR_RETURN(std::string path, NewDataFilePath(partition));
  FileSystem* fs = catalog_->fs();
  auto written = [&]() -> Result<DataFileStats> {
    WS_ASSIGN_OR_RETURN(auto file, fs->CreateNoClobber(path));
    WS_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Open(std::move(file), batch.schema()));
    WS_RETURN_IF_ERROR(writer->Write(batch));
    return writer->Close();
  }();
  if (!written.ok()) {
    fs->RemoveLeftover(path);
    return written.status().WithContext("write data file");
  }
  DataFile f;
  f.path = std::move(path);
  f.partition = partition;
  f.stats = std::move(written).value();
  return f;
}

Result<CommitResult> Table::Compact(const PartitionValues& partition, int64_t target_file_bytes) {
  WS_RETURN_IF_ERROR(Refresh());
  ScanOptions scan;
  scan.partition_filter = [&](const PartitionValues& p) { return p == partition; };
  WS_ASSIGN_OR_RETURN(std::vector<DataFile> inputs, Scan(scan));
  CommitResult nothing;
  if (auto cur = current_snapshot()) nothing.snapshot_id = cur->snapshot_id;
  if (inputs.size() < 2) return nothing;

  FileSystem* fs = catalog_->fs();
  SchemaPtr table_schema = schema();
  std::vector<DataFile> outputs;
  auto cleanup = [&](std::unique_ptr<ParquetWriter>* writer, const std::string& open_path) {
    writer->reset();
    for (const auto& f : outputs) fs->RemoveLeftover(f.path);
    if (!open_path.empty()) fs->RemoveLeftover(open_path);
  };

  // Row group by row group, so memory stays at one row group whatever the
  // partition's size.
  std::unique_ptr<ParquetWriter> writer;
  std::string out_path;
  int64_t input_bytes = 0;
  auto finish = [&]() -> Status {
    WS_ASSIGN_OR_RETURN(DataFileStats stats, writer->Close());
    writer.reset();
    DataFile f;
    f.path = out_path;
    f.partition = partition;
    f.stats = std::move(stats);
    outputs.push_back(std::move(f));
    out_path.clear();
    input_bytes = 0;
    return Status::OK();
  };
  for (const auto& in : inputs) {
    auto reader = ParquetReader::Open(fs, in.path);
    if (!reader.ok()) {
      cleanup(&writer, out_path);
      return reader.status().WithContext("compact " + in.path);
    }
    for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
      auto batch = (*reader)->ReadRowGroup(rg, table_schema);
      Status s = batch.status();
      if (s.ok() && !writer) {
        auto path = NewDataFilePath(partition);
        s = path.status();
        if (s.ok()) {
          out_path = *path;
          auto file = fs->CreateNoClobber(out_path);
          s = file.status();
          if (s.ok()) {
            auto w = ParquetWriter::Open(std::move(*file), table_schema);
            s = w.status();
            if (s.ok()) writer = std::move(*w);
          }
        }
      }
      if (s.ok()) s = writer->Write(*batch);
      if (!s.ok()) {
        cleanup(&writer, out_path);
        return s.WithContext("compact " + in.path);
      }
    }
    input_bytes += in.stats.file_size_bytes;
    if (writer && input_bytes >= target_file_bytes) {
      Status s = finish();
      if (!s.ok()) {
        cleanup(&writer, out_path);
        return s.WithContext("compact");
      }
    }
  }
  if (writer) {
    Status s = finish();
    if (!s.ok()) {
      cleanup(&writer, out_path);
      return s.WithContext("compact");
    }
  }

  CommitRequest req;
  req.operation = CommitOperation::kReplace;
  for (const auto& in : inputs) req.deleted_files.push_back(in.path);
  req.added_files = outputs;
  auto result = Commit(req);
  if (!result.ok()) {
    // Nothing references the new files (unless the outcome is unknown);
    // remove them now rather than leaving orphans.
    if (result.status().code() != Status::Code::kUnavailable) {
      for (const auto& f : outputs) fs->RemoveLeftover(f.path);
    }
    return result.status();
  }
  log::Info("table", "compacted {} files of {}.{} into {}", inputs.size(), ns_, name_, outputs.size());
  return result;
}

}  // namespace ws::table
