// Warehouse: the set of WikiStream tables in one warehouse directory, and the
// row-level I/O every stage shares (partitioned Parquet writes, projected
// reads of data files).
//
// Contract: Open() opens (creating when asked) the catalog (DIR/catalog.db
// unless another is named) and every table
// of docs/tables.md, creating missing ones with their schema and identity
// partitioning; tables are addressed as "namespace.table". WriteDataFiles
// splits rows by the table's partition columns and writes one Parquet+zstd
// file per partition (files are not referenced by the table until a Commit
// names them). ReadDataFiles reads files projected onto a schema whose fields
// are a subset of the table's (matched by field id). Thread-safe as Catalog
// and Table are; the Warehouse itself holds no mutable state besides a cache
// of loaded tables.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/format/parquet_writer.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/table/catalog.h"
#include "wikistream/table/table.h"

namespace ws::warehouse {

struct TableSpec {
  std::string ns;
  std::string name;
  format::SchemaPtr schema;
  std::vector<std::string> partition_columns;
  std::string qualified() const { return ns + "." + name; }
};

// Every table of the warehouse: bronze, silver, gold, dq_audit, ops.
const std::vector<TableSpec>& AllTableSpecs();

// A schema holding only the named fields of `schema` (ids kept), in the given order.
format::SchemaPtr ProjectSchema(const format::Schema& schema, const std::vector<std::string>& names);

class Warehouse {
 public:
  // create=false fails with NotFound when DIR has no catalog (read-only
  // users). `catalog_options.uri` chooses the catalog (table/catalog_backend.h;
  // "" = DIR/catalog.db).
  static Result<std::unique_ptr<Warehouse>> Open(FileSystem* fs, const std::string& dir, bool create,
                                                 const table::CatalogOptions& catalog_options = {});

  // The same, keeping `fs` alive as long as the warehouse (a store opened
  // from the warehouse's URI, e.g. an S3FileSystem, has no other owner).
  static Result<std::unique_ptr<Warehouse>> Open(std::shared_ptr<FileSystem> fs, const std::string& dir, bool create,
                                                 const table::CatalogOptions& catalog_options = {});

  table::Catalog* catalog() const { return catalog_.get(); }
  FileSystem* fs() const { return fs_; }
  const std::string& dir() const { return dir_; }

  // "bronze.raw_events" etc.; the same Table object on every call.
  Result<std::shared_ptr<table::Table>> table(std::string_view qualified);

  // Parquet columns are encoded on up to this many threads (the files are
  // the same whatever the number). Set before writers start.
  void set_encode_threads(int threads) { encode_threads_ = threads; }

  Result<std::vector<table::DataFile>> WriteDataFiles(table::Table& table, const format::RecordBatch& rows,
                                               const format::ParquetWriterOptions& options = {});
  // The same for rows held in several batches of one schema (a buffer of
  // polls), written in order without first concatenating them.
  Result<std::vector<table::DataFile>> WriteDataFiles(table::Table& table, const std::vector<const format::RecordBatch*>& chunks,
                                               const format::ParquetWriterOptions& options = {});
  // Writes `rows` as data files of `table` and commits them in one append
  // snapshot (nothing when there are no rows): the ops and DQ tables' write.
  Status AppendRows(const std::string& table, const format::RecordBatch& rows);

  Result<format::RecordBatch> ReadDataFiles(const std::vector<table::DataFile>& files, const format::SchemaPtr& projection);
  // Rows of the current snapshot whose partition passes `filter` (nullptr = all).
  Result<format::RecordBatch> ReadTable(table::Table& table, const format::SchemaPtr& projection,
                                std::function<bool(const table::PartitionValues&)> filter = nullptr);

 private:
  Warehouse(FileSystem* fs, std::string dir, std::unique_ptr<table::Catalog> catalog)
      : fs_(fs), dir_(std::move(dir)), catalog_(std::move(catalog)) {}

  FileSystem* fs_;
  std::shared_ptr<FileSystem> owned_fs_;  // set when the warehouse owns its store
  int encode_threads_ = 1;
  std::string dir_;
  std::unique_ptr<table::Catalog> catalog_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<table::Table>, std::less<>> tables_;
};

// Text form of row `row` of a partition column (string as is, int as decimal).
std::string PartitionText(const format::Column& column, size_t row);

}  // namespace ws::warehouse
