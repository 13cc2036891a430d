// Catalog: the warehouse's table registry, an SQLite database in the layout
// of Iceberg's SQL/JDBC catalog (so PyIceberg's SqlCatalog and Java's
// JdbcCatalog open it): DIR/catalog.db with tables iceberg_tables
// (catalog_name, table_namespace, table_name, metadata_location,
// previous_metadata_location, iceberg_type) and iceberg_namespace_properties
// (catalog_name, namespace, property_key, property_value); catalog_name is
// "wikistream".
//
// Contract: the catalog row's metadata_location is the single source of truth
// for a table's current state; it only changes by compare-and-swap
// (SwapMetadataLocation), so several threads and several processes may commit
// to one warehouse. Thread-safe. Table metadata and data files go through the
// FileSystem given to Open; the SQLite file itself is SQLite's business
// (journal_mode=WAL, busy timeout).
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
#include "wikistream/format/schema.h"
#include "wikistream/table/table.h"

struct sqlite3;

namespace ws::table {

struct TableIdentifier {
  std::string ns;
  std::string name;
  bool operator==(const TableIdentifier&) const = default;
};

struct CatalogOptions {
  // Test hook called at named steps of a commit: "before-swap" (the swap is
  // not issued if it fails) and "after-swap" (the swap was issued; a failure
  // here makes the commit's outcome unknown to the committer).
  std::function<Status(std::string_view step)> commit_hook;
  int64_t busy_timeout_ms = 10000;
};

class Catalog {
 public:
  static constexpr const char* kCatalogName = "wikistream";

  static Result<std::unique_ptr<Catalog>> Open(FileSystem* fs, const std::string& warehouse_dir,
                                               CatalogOptions options = {});
  ~Catalog();

  // Creates the table (v1.metadata.json, no snapshot) unless it exists; an
  // existing table is loaded as is (its schema is not compared).
  Result<std::shared_ptr<Table>> CreateTableIfNotExists(const std::string& ns, const std::string& name,
                                                        format::SchemaPtr schema,
                                                        const std::vector<std::string>& partition_columns,
                                                        const std::map<std::string, std::string>& properties = {});
  Result<std::shared_ptr<Table>> LoadTable(const std::string& ns, const std::string& name);
  Result<std::vector<TableIdentifier>> ListTables();

  FileSystem* fs() const { return fs_; }
  const std::string& warehouse() const { return warehouse_; }
  const CatalogOptions& options() const { return options_; }
  std::string TableLocation(const std::string& ns, const std::string& name) const;

  // Low level (used by Table): NotFound if the table is not registered.
  Result<std::string> CurrentMetadataLocation(const std::string& ns, const std::string& name);
  // Conflict if the row no longer points at `expected`.
  Status SwapMetadataLocation(const std::string& ns, const std::string& name, const std::string& expected,
                              const std::string& desired);

  // Parsed manifests are immutable, so they are cached by path (bounded).
  struct ManifestCache;
  ManifestCache* manifest_cache() const { return cache_.get(); }

 private:
  Catalog(FileSystem* fs, std::string warehouse, CatalogOptions options);
  Status Init();
  Status Exec(const char* sql);

  FileSystem* fs_;
  std::string warehouse_;
  CatalogOptions options_;
  std::mutex mu_;  // guards db_
  sqlite3* db_ = nullptr;
  std::unique_ptr<ManifestCache> cache_;
};

}  // namespace ws::table
