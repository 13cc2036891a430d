// The SQLite catalog backend: one database file (WAL, synchronous=FULL) in
// the Iceberg SQL/JDBC catalog layout, and flock-based named locks.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "wikistream/table/catalog_backend.h"

namespace ws::table {

namespace {

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

class SqliteCatalog : public CatalogBackend {
 public:
  SqliteCatalog(std::string path, CatalogBackendOptions options) : path_(std::move(path)), options_(std::move(options)) {}
  ~SqliteCatalog() override {
    if (db_) sqlite3_close(db_);
  }

  Status Init() {
    int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) return Status::IOError(fmt::format("open {}: {}", path_, db_ ? sqlite3_errmsg(db_) : "?"));
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
    return Exec(kJdbcCatalogTables);
  }

  std::string Describe() const override { return "sqlite:" + path_; }

  Result<std::string> Load(const TableIdentifier& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt st(db_,
            "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND "
            "table_name = ?");
    if (!st.ok()) return SqlError(db_, "select");
    st.Bind(1, options_.catalog_name).Bind(2, id.ns).Bind(3, id.name);
    int rc = st.Step();
    if (rc == SQLITE_ROW) return st.Text(0);
    if (rc == SQLITE_DONE) return Status::NotFound(fmt::format("table {}.{} does not exist", id.ns, id.name));
    return SqlError(db_, "select");
  }

  Status Register(const TableIdentifier& id, const std::string& location) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt ns_st(db_,
               "INSERT OR IGNORE INTO iceberg_namespace_properties (catalog_name, namespace, property_key, "
               "property_value) VALUES (?, ?, 'exists', 'true')");
    if (!ns_st.ok()) return SqlError(db_, "namespace");
    ns_st.Bind(1, options_.catalog_name).Bind(2, id.ns);
    if (ns_st.Step() != SQLITE_DONE) return SqlError(db_, "namespace");
    Stmt st(db_,
            "INSERT OR IGNORE INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, "
            "previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, 'TABLE')");
    if (!st.ok()) return SqlError(db_, "insert");
    st.Bind(1, options_.catalog_name).Bind(2, id.ns).Bind(3, id.name).Bind(4, location);
    if (st.Step() != SQLITE_DONE) return SqlError(db_, "insert");
    return Status::OK();
  }

  Status Swap(const TableIdentifier& id, const std::vector<std::string>& expected,
              const std::string& desired) override {
    if (expected.empty()) return Status::InvalidArgument("swap without an expected location");
    std::lock_guard<std::mutex> lock(mu_);
    Stmt st(db_,
            "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
            "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location IN (?, ?)");
    if (!st.ok()) return SqlError(db_, "update");
    st.Bind(1, desired).Bind(2, expected[0]).Bind(3, options_.catalog_name).Bind(4, id.ns).Bind(5, id.name);
    st.Bind(6, expected[0]).Bind(7, expected.size() > 1 ? expected[1] : expected[0]);
    if (st.Step() != SQLITE_DONE) {
      // A failed statement of SQLite's own is rolled back: not applied.
      Status s = SqlError(db_, "update");
      return s.code() == Status::Code::kUnavailable ? Status::Conflict(s.message()) : s;
    }
    if (sqlite3_changes(db_) != 1) {
      return Status::Conflict(fmt::format("table {}.{} changed since {} was read", id.ns, id.name, expected[0]));
    }
    return Status::OK();
  }

  Result<std::vector<TableIdentifier>> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt st(db_,
            "SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = ? "
            "ORDER BY table_namespace, table_name");
    if (!st.ok()) return SqlError(db_, "list");
    st.Bind(1, options_.catalog_name);
    std::vector<TableIdentifier> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) out.push_back({st.Text(0), st.Text(1)});
    if (rc != SQLITE_DONE) return SqlError(db_, "list");
    return out;
  }

 private:
  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Status::IOError("catalog: " + msg);
    }
    return Status::OK();
  }

  std::string path_;
  CatalogBackendOptions options_;
  std::mutex mu_;  // guards db_
  sqlite3* db_ = nullptr;
};

class FlockLock : public CatalogLock {
 public:
  explicit FlockLock(int fd) : fd_(fd) {}
  ~FlockLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  Status Check() override { return Status::OK(); }  // a flock lives as long as its descriptor

 private:
  int fd_;
};

}  // namespace

Result<std::unique_ptr<CatalogBackend>> OpenSqliteCatalog(const std::string& path, const CatalogBackendOptions& options) {
  auto c = std::make_unique<SqliteCatalog>(path, options);
  WS_RETURN_IF_ERROR(c->Init());
  return std::unique_ptr<CatalogBackend>(std::move(c));
}

Result<std::unique_ptr<CatalogLock>> AcquireSqliteLock(const std::string& catalog_path, const std::string& name,
                                                       bool wait) {
  std::string dir = std::filesystem::path(catalog_path).parent_path().string();
  std::string path = (dir.empty() ? std::string(".") : dir) + "/." + name + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open " + path);
  if (::flock(fd, wait ? LOCK_EX : (LOCK_EX | LOCK_NB)) != 0) {
    ::close(fd);
    return Status::Conflict(fmt::format("another process holds the {} lock ({})", name, path));
  }
  return std::unique_ptr<CatalogLock>(new FlockLock(fd));
}

}  // namespace ws::table
