#include "wikistream/warehouse/warehouse.h"

#include <unordered_map>

#include "wikistream/common/logging.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/warehouse/bronze_schema.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::warehouse {

using format::Column;
using format::DataFileStats;
using format::Field;
using format::ParquetReader;
using format::ParquetWriter;
using format::ParquetWriterOptions;
using format::RecordBatch;
using format::Schema;
using format::SchemaPtr;
using format::TypeId;
using table::Catalog;
using table::CommitOperation;
using table::CommitRequest;
using table::DataFile;
using table::PartitionValues;
using table::ScanOptions;
using table::Table;

const std::vector<TableSpec>& AllTableSpecs() {
  static const std::vector<TableSpec> specs = [] {
    std::vector<TableSpec> v;
    v.push_back({"bronze", "raw_events", bronze::RawEventsSchema(), {"event_date", "event_hour"}});
    v.push_back({"bronze", "dlq_events", bronze::DlqEventsSchema(), {"received_date"}});
    for (const warehouse::TableDef* def : warehouse::AllPipelineTables()) {
      v.push_back({def->ns, def->name, def->schema, def->partition_columns});
    }
    return v;
  }();
  return specs;
}

SchemaPtr ProjectSchema(const Schema& schema, const std::vector<std::string>& names) {
  std::vector<Field> fields;
  fields.reserve(names.size());
  for (const auto& n : names) {
    int i = schema.FieldIndex(n);
    if (i < 0) {
      std::fprintf(stderr, "ProjectSchema: no column %s\n", n.c_str());
      std::abort();  // a bug: projections are written in code
    }
    fields.push_back(schema.field(static_cast<size_t>(i)));
  }
  return std::make_shared<Schema>(schema.schema_id(), std::move(fields));
}

std::string PartitionText(const Column& column, size_t row) {
  switch (column.type()) {
    case TypeId::kString:
      return std::string(column.GetString(row));
    case TypeId::kInt32:
      return std::to_string(column.GetInt32(row));
    case TypeId::kInt64:
    case TypeId::kTimestampTz:
      return std::to_string(column.GetInt64(row));
    case TypeId::kBoolean:
      return column.GetBool(row) ? "true" : "false";
    default:
      return column.ValueToString(row);
  }
}

Result<std::unique_ptr<Warehouse>> Warehouse::Open(FileSystem* fs, const std::string& dir, bool create,
                                                   const table::CatalogOptions& catalog_options) {
  const bool default_catalog = catalog_options.uri.empty();
  if (!create && default_catalog) {
    WS_ASSIGN_OR_RETURN(bool exists, fs->Exists(dir + "/catalog.db"));
    if (!exists) return Status::NotFound("no warehouse at " + dir + " (catalog.db is missing)");
  } else if (create) {
    WS_RETURN_IF_ERROR(fs->CreateDirs(dir));
  }
  WS_ASSIGN_OR_RETURN(auto catalog, Catalog::Open(fs, dir, catalog_options));
  if (!create && !default_catalog) {
    WS_ASSIGN_OR_RETURN(auto registered, catalog->ListTables());
    if (registered.empty()) {
      return Status::NotFound("no warehouse in catalog " + catalog->backend()->Describe() + " (no table registered)");
    }
  }
  std::unique_ptr<Warehouse> w(new Warehouse(fs, dir, std::move(catalog)));
  for (const TableSpec& spec : AllTableSpecs()) {
    Result<std::shared_ptr<Table>> t = create ? w->catalog_->CreateTableIfNotExists(spec.ns, spec.name, spec.schema,
                                                                                    spec.partition_columns)
                                              : w->catalog_->LoadTable(spec.ns, spec.name);
    if (!t.ok()) {
      if (!create && t.status().IsNotFound()) continue;  // an older warehouse: serve what exists
      return t.status();
    }
    w->tables_[spec.qualified()] = *t;
  }
  return w;
}

Result<std::unique_ptr<Warehouse>> Warehouse::Open(std::shared_ptr<FileSystem> fs, const std::string& dir, bool create,
                                                   const table::CatalogOptions& catalog_options) {
  WS_ASSIGN_OR_RETURN(auto warehouse, Open(fs.get(), dir, create, catalog_options));
  warehouse->owned_fs_ = std::move(fs);
  return warehouse;
}

Result<std::shared_ptr<Table>> Warehouse::table(std::string_view qualified) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tables_.find(qualified);
  if (it == tables_.end()) return Status::NotFound("no table " + std::string(qualified));
  return it->second;
}

Result<std::vector<DataFile>> Warehouse::WriteDataFiles(Table& table, const RecordBatch& rows,
                                                        const ParquetWriterOptions& options) {
  return WriteDataFiles(table, std::vector<const RecordBatch*>{&rows}, options);
}

Result<std::vector<DataFile>> Warehouse::WriteDataFiles(Table& table, const std::vector<const RecordBatch*>& chunks,
                                                        const ParquetWriterOptions& options) {
  ParquetWriterOptions opts = options;
  opts.threads = std::max(opts.threads, encode_threads_);
  std::vector<DataFile> files;
  const std::vector<std::string> part_cols = table.partition_columns();

  // Rows of each partition, per chunk, keeping first-seen order of partitions.
  struct Group {
    PartitionValues partition;
    std::vector<std::vector<uint32_t>> rows;  // per chunk
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, size_t> group_of;
  std::string key;
  for (size_t ci = 0; ci < chunks.size(); ++ci) {
    const RecordBatch& rows = *chunks[ci];
    std::vector<const Column*> cols;
    for (const auto& c : part_cols) cols.push_back(&rows.column(c));
    size_t group = 0;
    for (size_t r = 0; r < rows.num_rows(); ++r) {
      // Rows come grouped by event time: most rows share the previous row's
      // partition, which needs no key text.
      bool same_as_previous = r > 0;
      for (size_t k = 0; same_as_previous && k < cols.size(); ++k) {
        same_as_previous = cols[k]->ValueEquals(r, *cols[k], r - 1);
      }
      if (!same_as_previous) {
        key.clear();
        for (const Column* c : cols) {
          key += PartitionText(*c, r);
          key.push_back('\x1f');
        }
        auto [it, inserted] = group_of.try_emplace(key, groups.size());
        if (inserted) {
          Group g;
          for (const Column* c : cols) g.partition.push_back(PartitionText(*c, r));
          g.rows.resize(chunks.size());
          groups.push_back(std::move(g));
        }
        group = it->second;
      }
      groups[group].rows[ci].push_back(static_cast<uint32_t>(r));
    }
  }

  for (Group& g : groups) {
    WS_ASSIGN_OR_RETURN(std::string path, table.NewDataFilePath(g.partition));
    auto write = [&]() -> Result<DataFileStats> {
      WS_ASSIGN_OR_RETURN(auto file, fs_->Create(path));
      WS_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Open(std::move(file), chunks[0]->schema(), opts));
      for (size_t ci = 0; ci < chunks.size(); ++ci) {
        const std::vector<uint32_t>& idx = g.rows[ci];
        if (idx.empty()) continue;
        WS_RETURN_IF_ERROR(idx.size() == chunks[ci]->num_rows() ? writer->Write(*chunks[ci])
                                                                 : writer->Write(chunks[ci]->Take(idx)));
      }
      return writer->Close();
    };
    Result<DataFileStats> stats = write();
    if (!stats.ok()) {
      fs_->RemoveLeftover(path);
      return stats.status();
    }
    DataFile f;
    f.path = path;
    f.partition = std::move(g.partition);
    f.stats = std::move(stats).value();
    files.push_back(std::move(f));
  }
  return files;
}

Status Warehouse::AppendRows(const std::string& table_name, const RecordBatch& rows) {
  if (rows.num_rows() == 0) return Status::OK();
  WS_RETURN_IF_ERROR(rows.Validate());
  WS_ASSIGN_OR_RETURN(std::shared_ptr<Table> table, this->table(table_name));
  CommitRequest req;
  req.operation = CommitOperation::kAppend;
  WS_ASSIGN_OR_RETURN(req.added_files, WriteDataFiles(*table, rows));
  return table->Commit(req).status();
}

Result<RecordBatch> Warehouse::ReadDataFiles(const std::vector<DataFile>& files, const SchemaPtr& projection) {
  RecordBatch out(projection);
  for (const DataFile& f : files) {
    WS_ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(fs_, f.path));
    WS_ASSIGN_OR_RETURN(RecordBatch part, reader->ReadAll(projection));
    if (files.size() == 1) return part;
    out.Append(part);
  }
  return out;
}

Result<RecordBatch> Warehouse::ReadTable(Table& table, const SchemaPtr& projection,
                                         std::function<bool(const PartitionValues&)> filter) {
  ScanOptions options;
  options.partition_filter = std::move(filter);
  WS_ASSIGN_OR_RETURN(std::vector<DataFile> files, table.Scan(options));
  return ReadDataFiles(files, projection);
}

}  // namespace ws::warehouse
