// The SQLite catalog in the Iceberg SQL/JDBC catalog layout.
#include "wikistream/table/catalog.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "table_internal.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"

namespace ws::table {

using format::SchemaPtr;

namespace {

// Column set of Iceberg's JdbcCatalog (schema V1, which adds iceberg_type)
// and PyIceberg's SqlCatalog.
const char* kCreateTables =
    "CREATE TABLE IF NOT EXISTS iceberg_tables ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " table_namespace VARCHAR(255) NOT NULL,"
    " table_name VARCHAR(255) NOT NULL,"
    " metadata_location VARCHAR(1000),"
    " previous_metadata_location VARCHAR(1000),"
    " iceberg_type VARCHAR(5),"
    " PRIMARY KEY (catalog_name, table_namespace, table_name));"
    "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " namespace VARCHAR(255) NOT NULL,"
    " property_key VARCHAR(255),"
    " property_value VARCHAR(1000),"
    " PRIMARY KEY (catalog_name, namespace, property_key));";

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Status SqlError(sqlite3* db, const std::string& what) {
  int code = sqlite3_errcode(db);
  std::string msg = fmt::format("catalog {}: {}", what, sqlite3_errmsg(db));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status::Unavailable(msg);
  return Status::IOError(msg);
}

bool ValidIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

Catalog::Catalog(FileSystem* fs, std::string warehouse, CatalogOptions options)
    : fs_(fs), warehouse_(std::move(warehouse)), options_(std::move(options)),
      cache_(std::make_unique<ManifestCache>()) {}

Catalog::~Catalog() {
  if (db_) sqlite3_close(db_);
}

Result<std::unique_ptr<Catalog>> Catalog::Open(FileSystem* fs, const std::string& warehouse_dir,
                                               CatalogOptions options) {
  // Manifests and metadata store absolute paths, which other engines resolve as is.
  std::error_code ec;
  std::string dir = std::filesystem::absolute(warehouse_dir, ec).lexically_normal().string();
  if (ec || warehouse_dir.empty()) return Status::InvalidArgument("bad warehouse directory '" + warehouse_dir + "'");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  WS_RETURN_IF_ERROR(fs->CreateDirs(dir));
  std::unique_ptr<Catalog> c(new Catalog(fs, dir, std::move(options)));
  WS_RETURN_IF_ERROR(c->Init());
  return c;
}

Status Catalog::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("catalog: " + msg);
  }
  return Status::OK();
}

Status Catalog::Init() {
  std::string path = warehouse_ + "/catalog.db";
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) return Status::IOError(fmt::format("open {}: {}", path, db_ ? sqlite3_errmsg(db_) : "?"));
  sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout_ms));
  // WAL lets readers of other processes proceed during a swap; FULL sync makes
  // a swap durable once the UPDATE returns. While several processes open a new
  // catalog at once, switching its file to WAL can fail with SQLITE_BUSY
  // without the busy handler being called; the mode is stored in the file, so
  // retrying until one of them has switched it is enough.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
  while ((rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr)) == SQLITE_BUSY &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (rc != SQLITE_OK) return SqlError(db_, "journal mode");
  WS_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL;"));
  // Creating the tables races between processes opening a fresh warehouse;
  // IF NOT EXISTS plus the busy timeout make that safe.
  return Exec(kCreateTables);
}

std::string Catalog::TableLocation(const std::string& ns, const std::string& name) const {
  return warehouse_ + "/" + ns + "/" + name;
}

Result<std::string> Catalog::CurrentMetadataLocation(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_,
          "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND "
          "table_name = ?");
  if (!st.ok()) return SqlError(db_, "select");
  st.Bind(1, kCatalogName).Bind(2, ns).Bind(3, name);
  int rc = st.Step();
  if (rc == SQLITE_ROW) return st.Text(0);
  if (rc == SQLITE_DONE) return Status::NotFound(fmt::format("table {}.{} does not exist", ns, name));
  return SqlError(db_, "select");
}

Status Catalog::SwapMetadataLocation(const std::string& ns, const std::string& name, const std::string& expected,
                                     const std::string& desired) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_,
          "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
          "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?");
  if (!st.ok()) return SqlError(db_, "update");
  st.Bind(1, desired).Bind(2, expected).Bind(3, kCatalogName).Bind(4, ns).Bind(5, name).Bind(6, expected);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "update");
  if (sqlite3_changes(db_) != 1) {
    return Status::Conflict(fmt::format("table {}.{} changed since {} was read", ns, name, expected));
  }
  return Status::OK();
}

Result<std::vector<TableIdentifier>> Catalog::ListTables() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_,
          "SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = ? "
          "ORDER BY table_namespace, table_name");
  if (!st.ok()) return SqlError(db_, "list");
  st.Bind(1, kCatalogName);
  std::vector<TableIdentifier> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back({st.Text(0), st.Text(1)});
  if (rc != SQLITE_DONE) return SqlError(db_, "list");
  return out;
}

Result<std::shared_ptr<Table>> Catalog::LoadTable(const std::string& ns, const std::string& name) {
  auto table = std::make_shared<Table>(this, ns, name);
  WS_RETURN_IF_ERROR(table->Refresh());
  return table;
}

Result<std::shared_ptr<Table>> Catalog::CreateTableIfNotExists(const std::string& ns, const std::string& name,
                                                               SchemaPtr schema,
                                                               const std::vector<std::string>& partition_columns,
                                                               const std::map<std::string, std::string>& properties) {
  if (!ValidIdentifier(ns) || !ValidIdentifier(name)) {
    return Status::InvalidArgument(fmt::format("bad table identifier {}.{}", ns, name));
  }
  auto existing = LoadTable(ns, name);
  if (existing.ok() || !existing.status().IsNotFound()) return existing;

  auto state = std::make_shared<Table::State>();
  state->table_uuid = NewUuid();
  state->location = TableLocation(ns, name);
  state->last_updated_ms = NowMicros() / 1000;
  state->schema = schema;
  state->last_column_id = schema->HighestFieldId();
  int32_t next_pid = 1000;
  for (const auto& col : partition_columns) {
    int idx = schema->FieldIndex(col);
    if (idx < 0) return Status::InvalidArgument(fmt::format("partition column {} is not in the schema of {}.{}", col, ns, name));
    if (!schema->field(idx).required) {
      return Status::InvalidArgument(fmt::format("partition column {} of {}.{} must be required", col, ns, name));
    }
    state->partition_fields.push_back({schema->field(idx).id, next_pid++, col, schema->field(idx).type});
  }
  state->last_partition_id = next_pid - 1;
  state->properties = properties;
  state->properties.emplace("write.format.default", "parquet");
  state->properties.emplace("write.parquet.compression-codec", "zstd");

  std::string meta_dir = state->location + "/metadata";
  WS_RETURN_IF_ERROR(fs_->CreateDirs(meta_dir));
  WS_RETURN_IF_ERROR(fs_->CreateDirs(state->location + "/data"));
  // Another creator may hold v1 (or a crashed one left it): take the next free name.
  std::string location;
  for (int v = 1;; ++v) {
    if (v > 100) return Status::IOError("cannot create a metadata file in " + meta_dir);
    location = fmt::format("{}/v{}.metadata.json", meta_dir, v);
    state->metadata_location = location;
    state->version = v;
    Status s = fs_->WriteFileDurably(location, MetadataToJson(*state), /*no_clobber=*/true);
    if (s.ok()) break;
    if (s.code() != Status::Code::kAlreadyExists) return s;
    auto other = LoadTable(ns, name);
    if (other.ok()) return other;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt ns_st(db_,
               "INSERT OR IGNORE INTO iceberg_namespace_properties (catalog_name, namespace, property_key, "
               "property_value) VALUES (?, ?, 'exists', 'true')");
    if (!ns_st.ok()) return SqlError(db_, "namespace");
    ns_st.Bind(1, kCatalogName).Bind(2, ns);
    if (ns_st.Step() != SQLITE_DONE) return SqlError(db_, "namespace");
    Stmt st(db_,
            "INSERT OR IGNORE INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, "
            "previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, 'TABLE')");
    if (!st.ok()) return SqlError(db_, "insert");
    st.Bind(1, kCatalogName).Bind(2, ns).Bind(3, name).Bind(4, location);
    if (st.Step() != SQLITE_DONE) return SqlError(db_, "insert");
  }
  // Whoever won the insert, the table now exists: load what the catalog says.
  WS_ASSIGN_OR_RETURN(auto table, LoadTable(ns, name));
  if (table->metadata_location() == location) {
    Status hint = fs_->ReplaceFileAtomically(meta_dir + "/version-hint.text", std::to_string(state->version));
    if (!hint.ok()) log::Warn("table", "version hint of {}.{}: {}", ns, name, hint.ToString());
  }
  return table;
}

}  // namespace ws::table
