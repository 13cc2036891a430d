// CatalogBackend: where the warehouse's table registry lives — the rows of
// Iceberg's JDBC/SQL catalog layout (iceberg_tables, iceberg_namespace_
// properties) in an SQLite file or a PostgreSQL database — and the named
// locks (the batch lock) that go with it. `Catalog` (catalog.h) is built on
// one; callers above the table layer only choose it by URI:
//
//   ""                      SQLite at WAREHOUSE/catalog.db (a local warehouse only)
//   sqlite:PATH             SQLite at PATH (SQLAlchemy's sqlite:///rel, sqlite:////abs too)
//   postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?libpq parameters]   (postgres:// too)
//
// Contract: one backend per Catalog, thread-safe (calls are serialised).
// Locations handed in and out are stored as given (the Catalog stores URIs).
// Swap is the only way a table's row changes and is a compare-and-swap in
// one statement: OK = applied; Conflict = not applied (the row held another
// location, or the database refused for a retryable reason); Unavailable =
// the outcome is unknown and could not be settled (the connection was lost
// after the statement was sent and the database could not be reached, or
// the old session could not be ended): the caller must not guess; any other
// error = settled but unreported (re-reading the row tells the outcome).
// Reads and idempotent writes retry through a lost connection for up to
// CatalogBackendOptions::reconnect_timeout_ms. docs/catalog.md has the detail.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wikistream/common/result.h"

namespace ws::table {

struct TableIdentifier {
  std::string ns;
  std::string name;
  bool operator==(const TableIdentifier&) const = default;
};

struct CatalogBackendOptions {
  // The catalog_name column of every row (Spark/Trino/PyIceberg's catalog name).
  std::string catalog_name = "wikistream";  // = table::kDefaultCatalogName (catalog.h)
  // SQLite: how long a statement waits for another process's lock.
  int64_t busy_timeout_ms = 10000;
  // PostgreSQL: once connected, how long an operation keeps reconnecting
  // (with backoff) after the connection is lost before it gives up. The
  // first connection is tried once (a wrong URL fails at once).
  int64_t reconnect_timeout_ms = 30000;
};

// A held named lock; released when destroyed (or when its holder dies).
class CatalogLock {
 public:
  virtual ~CatalogLock() = default;
  // OK while the lock is certainly still held; Unavailable once it may have
  // been lost (PostgreSQL: the session holding it ended). A holder checks
  // before work that must not overlap with another holder's.
  virtual Status Check() = 0;
};

class CatalogBackend {
 public:
  virtual ~CatalogBackend() = default;

  // "sqlite:/path/catalog.db" or "postgresql://user@host:port/db" (never a password).
  virtual std::string Describe() const = 0;
  // The metadata location of a table; NotFound if it is not registered.
  virtual Result<std::string> Load(const TableIdentifier& id) = 0;
  // Registers the namespace and the table with `location` unless the table
  // is already registered (then its row is left as it is). Idempotent.
  virtual Status Register(const TableIdentifier& id, const std::string& location) = 0;
  // Sets the row to `desired` (previous_metadata_location = expected[0]) if
  // it holds any of `expected` (spellings of one location). See the header.
  virtual Status Swap(const TableIdentifier& id, const std::vector<std::string>& expected,
                      const std::string& desired) = 0;
  virtual Result<std::vector<TableIdentifier>> List() = 0;
};

// Opens the backend named by `uri` (see the top of this file) for the
// warehouse at `warehouse` (a local directory or a URI such as s3://b/p),
// creating the catalog tables if they do not exist. InvalidArgument (one
// line) for an unknown scheme or a default catalog with a remote warehouse.
Result<std::unique_ptr<CatalogBackend>> OpenCatalogBackend(const std::string& uri, const std::string& warehouse,
                                                           const CatalogBackendOptions& options = {});

// Takes the named lock of the catalog at `uri`: SQLite: flock on
// .<name>.lock beside the catalog file (WAREHOUSE/.batch.lock by default);
// PostgreSQL: a session advisory lock on a connection of its own. wait=false
// fails at once with Conflict if another process holds it; wait=true polls
// until it is free. Does not create the catalog's tables.
Result<std::unique_ptr<CatalogLock>> AcquireCatalogLock(const std::string& uri, const std::string& warehouse,
                                                        const std::string& name, bool wait,
                                                        const CatalogBackendOptions& options = {});

// CREATE TABLE IF NOT EXISTS of iceberg_tables and iceberg_namespace_
// properties with the columns of Iceberg's JdbcCatalog (schema V1, which adds
// iceberg_type) and PyIceberg's SqlCatalog; valid SQLite and PostgreSQL.
extern const char kJdbcCatalogTables[];

// The parsed catalog URI.
struct CatalogUri {
  enum class Kind { kSqlite, kPostgres } kind = Kind::kSqlite;
  std::string target;  // the SQLite file path, or the libpq connection URI
};
Result<CatalogUri> ParseCatalogUri(const std::string& uri, const std::string& warehouse);

// Backends (catalog_sqlite.cc, catalog_postgres.cc).
Result<std::unique_ptr<CatalogBackend>> OpenSqliteCatalog(const std::string& path, const CatalogBackendOptions& options);
Result<std::unique_ptr<CatalogBackend>> OpenPostgresCatalog(const std::string& conninfo,
                                                            const CatalogBackendOptions& options);
Result<std::unique_ptr<CatalogLock>> AcquireSqliteLock(const std::string& catalog_path, const std::string& name,
                                                       bool wait);
Result<std::unique_ptr<CatalogLock>> AcquirePostgresLock(const std::string& conninfo, const std::string& name,
                                                         bool wait, const CatalogBackendOptions& options);

}  // namespace ws::table
