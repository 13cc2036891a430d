// Catalog: the warehouse's table registry in the layout of Iceberg's
// SQL/JDBC catalog (so Spark's and Trino's JDBC catalogs and PyIceberg's
// SqlCatalog open it): tables iceberg_tables (catalog_name, table_namespace,
// table_name, metadata_location, previous_metadata_location, iceberg_type)
// and iceberg_namespace_properties (catalog_name, namespace, property_key,
// property_value); catalog_name is "wikistream". Where the rows live is the
// backend's business (catalog_backend.h): SQLite at WAREHOUSE/catalog.db by
// default, another SQLite file, or PostgreSQL, chosen by CatalogOptions::uri.
//
// Contract: the catalog row's metadata_location is the single source of truth
// for a table's current state; it only changes by compare-and-swap
// (SwapMetadataLocation), so several threads and several processes (on
// several hosts, with PostgreSQL) may commit to one warehouse. Thread-safe.
// Table metadata and data files go through the FileSystem given to Open.
// Locations are stored as URIs (file:///..., s3://...); this API and Table
// speak the FileSystem's paths, so a local warehouse reads "/dir/..." here
// and "file:///dir/..." in the metadata. Rows and files of older warehouses
// holding bare paths are read as they are.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/format/schema.h"
#include "wikistream/table/catalog_backend.h"
#include "wikistream/table/table.h"

namespace ws::table {

inline constexpr const char* kDefaultCatalogName = "wikistream";

struct CatalogOptions {
  // Test hook called at named steps of a commit: "before-swap" (the swap is
  // not issued if it fails) and "after-swap" (the swap was issued; a failure
  // here makes the commit's outcome unknown to the committer).
  std::function<Status(std::string_view step)> commit_hook;
  int64_t busy_timeout_ms = 10000;
  // The catalog URI (catalog_backend.h): "" = SQLite at WAREHOUSE/catalog.db,
  // "sqlite:PATH", "postgresql://USER[:PASS]@HOST[:PORT]/DB".
  std::string uri;
  // PostgreSQL: how long an operation keeps reconnecting after a lost link.
  int64_t reconnect_timeout_ms = 30000;
  // The catalog_name column of the rows this catalog reads and writes: one
  // database can hold several catalogs (warehouses) that never see each
  // other's tables (or batch locks). Engines attach with this name.
  std::string catalog_name = kDefaultCatalogName;

  CatalogBackendOptions backend_options() const;
};

class Catalog {
 public:
  // `warehouse`: a local directory (relative, absolute or file:///) or a
  // URI of another store that `fs` serves (s3://bucket/prefix).
  static Result<std::unique_ptr<Catalog>> Open(FileSystem* fs, const std::string& warehouse,
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
  CatalogBackend* backend() const { return backend_.get(); }
  // Whether commits write metadata/version-hint.text, for path-based
  // (Hadoop-style) readers: in a warehouse on a local file system. On an
  // object store the catalog database is the one pointer to a table's
  // metadata, as with Iceberg's JDBC catalog (which writes no hint), and a
  // hint would be one more request in every commit's chain (docs/storage.md).
  bool writes_version_hints() const { return version_hints_; }
  std::string TableLocation(const std::string& ns, const std::string& name) const;

  // Low level (used by Table): NotFound if the table is not registered.
  Result<std::string> CurrentMetadataLocation(const std::string& ns, const std::string& name);
  // Conflict if the row no longer points at `expected`; see CatalogBackend::Swap
  // for the other outcomes.
  Status SwapMetadataLocation(const std::string& ns, const std::string& name, const std::string& expected,
                              const std::string& desired);

  // Parsed manifests are immutable, so they are cached by path (bounded).
  struct ManifestCache;
  ManifestCache* manifest_cache() const { return cache_.get(); }

 private:
  Catalog(FileSystem* fs, std::string warehouse, CatalogOptions options, std::unique_ptr<CatalogBackend> backend);

  FileSystem* fs_;
  std::string warehouse_;
  CatalogOptions options_;
  std::unique_ptr<CatalogBackend> backend_;
  std::unique_ptr<ManifestCache> cache_;
  bool version_hints_ = true;
};

}  // namespace ws::table
