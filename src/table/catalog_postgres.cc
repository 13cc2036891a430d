// The PostgreSQL catalog backend (libpq): the Iceberg JDBC catalog tables in
// a PostgreSQL database, compare-and-swap commits whose lost answers are
// settled by ending the old session and re-reading the row, and named locks
// as session advisory locks. docs/catalog.md describes the protocol.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <thread>

#include "wikistream/common/logging.h"
#include "wikistream/table/catalog_backend.h"

namespace ws::table {

namespace {

using Clock = std::chrono::steady_clock;

// Advisory lock keys are (kLockClass, hash of catalog name + lock name);
// kLockClass + objid 0 serialises the creation of the tables.
constexpr int32_t kLockClass = 0x5753;  // "WS"

int32_t LockKey(const std::string& catalog_name, const std::string& name) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and hosts
  for (unsigned char c : catalog_name + "/" + name) h = (h ^ c) * 16777619u;
  return static_cast<int32_t>(h & 0x7fffffff) | 1;  // never 0 (the creation lock)
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// The connection URI without its password, for messages.
std::string Redact(const std::string& conninfo) {
  auto scheme = conninfo.find("://");
  auto at = conninfo.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return conninfo;
  auto colon = conninfo.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return conninfo;
  return conninfo.substr(0, colon) + conninfo.substr(at);
}

std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// One connection with reconnection. Not thread-safe (the owner serialises).
class Session {
 public:
  Session(std::string conninfo, CatalogBackendOptions options)
      : conninfo_(std::move(conninfo)), options_(std::move(options)) {}
  ~Session() { Drop(); }

  const std::string& conninfo() const { return conninfo_; }
  int pid() const { return pid_; }
  const std::string& backend_start() const { return backend_start_; }

  // The first connection: one try, every failure final and in one line.
  Status Connect() {
    Status s = TryConnect();
    ever_connected_ = s.ok();
    return s;
  }

  // Connected, reconnecting with backoff for up to the reconnect timeout
  // when the link was lost.
  Status Ensure() {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return Status::OK();
    if (!ever_connected_) return Connect();
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.reconnect_timeout_ms);
    int64_t delay_ms = 50;
    Status last;
    for (;;) {
      last = TryConnect();
      if (last.ok()) {
        log::Info("catalog", "reconnected to {}", Redact(conninfo_));
        return last;
      }
      if (Clock::now() + std::chrono::milliseconds(delay_ms) > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms = std::min<int64_t>(delay_ms * 2, 1000);
    }
    return Status::Unavailable(fmt::format("catalog {} unreachable for {} ms: {}", Redact(conninfo_),
                                           options_.reconnect_timeout_ms, last.message()));
  }

  bool connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

  void Drop() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }

  enum class Failure { kNone, kLink, kStatement };
  struct Outcome {
    PgResult res;
    Failure failure = Failure::kNone;
    Status status;
  };

  // One try of one statement on the current connection (which must exist).
  Outcome Run(const char* sql, std::initializer_list<std::string> params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    Outcome out;
    out.res.reset(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    ExecStatusType st = out.res ? PQresultStatus(out.res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return out;
    const char* state = out.res ? PQresultErrorField(out.res.get(), PG_DIAG_SQLSTATE) : nullptr;
    std::string code = state ? state : "";
    std::string msg = OneLine(out.res && *PQresultErrorMessage(out.res.get()) ? PQresultErrorMessage(out.res.get())
                                                                             : PQerrorMessage(conn_));
    // Lost link, server shutting down or restarting: the statement may or may not have run.
    bool link = PQstatus(conn_) != CONNECTION_OK || code.empty() || code.rfind("08", 0) == 0 ||
                code.rfind("57P", 0) == 0;
    out.failure = link ? Failure::kLink : Failure::kStatement;
    if (link) {
      Drop();
      out.status = Status::Unavailable(fmt::format("catalog {}: connection lost: {}", Redact(conninfo_), msg));
    } else if (code == "40001" || code == "40P01") {
      out.status = Status::Conflict(fmt::format("catalog {}: {}", Redact(conninfo_), msg));
    } else {
      out.status = Status::IOError(fmt::format("catalog {}: {} (SQLSTATE {})", Redact(conninfo_), msg, code));
    }
    return out;
  }

  // Runs a script of several statements (no parameters) once.
  Status Script(const std::string& sql) {
    WS_RETURN_IF_ERROR(Ensure());
    PgResult r(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(r.get()) == PGRES_COMMAND_OK || PQresultStatus(r.get()) == PGRES_TUPLES_OK) return Status::OK();
    std::string msg = OneLine(PQerrorMessage(conn_));
    Drop();
    return Status::IOError(fmt::format("catalog {}: {}", Redact(conninfo_), msg));
  }

  // Runs an idempotent statement, reconnecting and running it again after a
  // lost link, for up to the reconnect timeout.
  Result<PgResult> RunIdempotent(const char* sql, std::initializer_list<std::string> params) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.reconnect_timeout_ms);
    for (;;) {
      WS_RETURN_IF_ERROR(Ensure());
      Outcome out = Run(sql, params);
      if (out.failure == Failure::kNone) return std::move(out.res);
      if (out.failure == Failure::kStatement || Clock::now() > deadline) return out.status;
      log::Warn("catalog", "{}; reconnecting", out.status.message());
    }
  }

 private:
  Status TryConnect() {
    Drop();
    // Defaults first: the URI's own parameters override them.
    const char* keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "dbname", nullptr};
    const char* vals[] = {"5", "wikistream", "1", "10", "5", "3", conninfo_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, vals, /*expand_dbname=*/1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = conn_ ? OneLine(PQerrorMessage(conn_)) : "out of memory";
      Drop();
      return Status::Unavailable(fmt::format("cannot connect to catalog {}: {}", Redact(conninfo_), msg));
    }
    PgResult r(PQexec(conn_, "SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()"));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
      std::string msg = OneLine(PQerrorMessage(conn_));
      Drop();
      return Status::Unavailable(fmt::format("catalog {}: cannot identify the session: {}", Redact(conninfo_), msg));
    }
    pid_ = PQbackendPID(conn_);
    backend_start_ = PQgetvalue(r.get(), 0, 0);
    return Status::OK();
  }

  std::string conninfo_;
  CatalogBackendOptions options_;
  PGconn* conn_ = nullptr;
  bool ever_connected_ = false;
  int pid_ = 0;
  std::string backend_start_;
};

class PostgresCatalog : public CatalogBackend {
 public:
  PostgresCatalog(std::string conninfo, CatalogBackendOptions options)
      : session_(std::move(conninfo), options), options_(std::move(options)) {}

  Status Init() {
    WS_RETURN_IF_ERROR(session_.Connect());
    WS_ASSIGN_OR_RETURN(PgResult r, session_.RunIdempotent(
                                        "SELECT to_regclass('iceberg_tables') IS NOT NULL AND "
                                        "to_regclass('iceberg_namespace_properties') IS NOT NULL",
                                        {}));
    if (std::strcmp(PQgetvalue(r.get(), 0, 0), "t") == 0) return Status::OK();
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's
    // own catalogs; a transaction-scoped advisory lock serialises creators.
    Status created =
        session_.Script(fmt::format("BEGIN; SELECT pg_advisory_xact_lock({}, 0); {} COMMIT;", kLockClass, kJdbcCatalogTables));
    return created.WithContext("creating the catalog tables");
  }

  std::string Describe() const override { return Redact(session_.conninfo()); }

  Result<std::string> Load(const TableIdentifier& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return LoadLocked(id);
  }

  Status Register(const TableIdentifier& id, const std::string& location) override {
    std::lock_guard<std::mutex> lock(mu_);
    WS_RETURN_IF_ERROR(session_
                           .RunIdempotent("INSERT INTO iceberg_namespace_properties (catalog_name, namespace, "
                                          "property_key, property_value) VALUES ($1, $2, 'exists', 'true') "
                                          "ON CONFLICT DO NOTHING",
                                          {options_.catalog_name, id.ns})
                           .status());
    return session_
        .RunIdempotent("INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, "
                       "previous_metadata_location, iceberg_type) VALUES ($1, $2, $3, $4, NULL, 'TABLE') "
                       "ON CONFLICT DO NOTHING",
                       {options_.catalog_name, id.ns, id.name, location})
        .status();
  }

  Status Swap(const TableIdentifier& id, const std::vector<std::string>& expected,
              const std::string& desired) override {
    if (expected.empty()) return Status::InvalidArgument("swap without an expected location");
    std::lock_guard<std::mutex> lock(mu_);
    // Not sent yet: reconnecting first is safe.
    WS_RETURN_IF_ERROR(session_.Ensure());
    const int old_pid = session_.pid();
    const std::string old_start = session_.backend_start();
    Session::Outcome out =
        session_.Run("UPDATE iceberg_tables SET metadata_location = $4, previous_metadata_location = $5 "
                     "WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 "
                     "AND metadata_location IN ($5, $6)",
                     {options_.catalog_name, id.ns, id.name, desired, expected[0],
                      expected.size() > 1 ? expected[1] : expected[0]});
    if (out.failure == Session::Failure::kNone) {
      if (std::strcmp(PQcmdTuples(out.res.get()), "1") == 0) return Status::OK();
      return Status::Conflict(fmt::format("table {}.{} changed since {} was read", id.ns, id.name, expected[0]));
    }
    if (out.failure == Session::Failure::kStatement) return out.status;
    return SettleLostSwap(id, expected, desired, old_pid, old_start, out.status);
  }

  Result<std::vector<TableIdentifier>> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    WS_ASSIGN_OR_RETURN(PgResult r, session_.RunIdempotent("SELECT table_namespace, table_name FROM iceberg_tables "
                                                           "WHERE catalog_name = $1 ORDER BY 1, 2",
                                                           {options_.catalog_name}));
    std::vector<TableIdentifier> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back({PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1)});
    return out;
  }

 private:
  Result<std::string> LoadLocked(const TableIdentifier& id) {
    WS_ASSIGN_OR_RETURN(PgResult r, session_.RunIdempotent(
                                        "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 "
                                        "AND table_namespace = $2 AND table_name = $3",
                                        {options_.catalog_name, id.ns, id.name}));
    if (PQntuples(r.get()) == 0) return Status::NotFound(fmt::format("table {}.{} does not exist", id.ns, id.name));
    return std::string(PQgetvalue(r.get(), 0, 0));
  }

  // The UPDATE was sent and the link died before its answer came back: it
  // may have committed, may not have, or may still be running on the old
  // session. Reading the row now could miss a commit that lands a moment
  // later, so first the old session is ended (pg_terminate_backend) and
  // waited for; once it is gone its statement is settled, and the row says
  // which way. A server restart ends every old session by itself.
  Status SettleLostSwap(const TableIdentifier& id, const std::vector<std::string>& expected,
                        const std::string& desired, int old_pid, const std::string& old_start, const Status& cause) {
    log::Warn("catalog", "swap of {}.{} to {}: {}; settling", id.ns, id.name, desired, cause.message());
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.reconnect_timeout_ms);
    for (;;) {
      auto r = session_.RunIdempotent(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND backend_start::text = $2",
          {std::to_string(old_pid), old_start});
      if (!r.ok()) {
        return Status::Unavailable(fmt::format("commit of {}.{} has an unknown outcome: {}; then: {}", id.ns, id.name,
                                               cause.message(), r.status().message()));
      }
      log::Debug("catalog", "ending session {} ({}): {} found", old_pid, old_start, PQntuples(r->get()));
      if (PQntuples(r->get()) == 0) break;  // the old session is gone
      if (Clock::now() > deadline) {
        return Status::Unavailable(fmt::format("commit of {}.{} has an unknown outcome: {}; session {} still alive",
                                               id.ns, id.name, cause.message(), old_pid));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto row = LoadLocked(id);
    if (!row.ok()) {
      return Status::Unavailable(fmt::format("commit of {}.{} has an unknown outcome: {}; then: {}", id.ns, id.name,
                                             cause.message(), row.status().message()));
    }
    if (*row == desired) {
      log::Info("catalog", "swap of {}.{} to {} had landed", id.ns, id.name, desired);
      return Status::OK();
    }
    if (std::find(expected.begin(), expected.end(), *row) != expected.end()) {
      return Status::Conflict(fmt::format("swap of {}.{} did not land ({})", id.ns, id.name, cause.message()));
    }
    // Moved on: ours may be underneath; the table's commit id decides.
    return Status::IOError(fmt::format("swap of {}.{}: {}; the row has moved on to {}", id.ns, id.name,
                                       cause.message(), *row));
  }

  Session session_;
  CatalogBackendOptions options_;
  std::mutex mu_;  // serialises use of session_
};

// A session advisory lock on a connection of its own.
class AdvisoryLock : public CatalogLock {
 public:
  AdvisoryLock(std::string conninfo, const CatalogBackendOptions& options, std::string name)
      : session_(std::move(conninfo), options), name_(std::move(name)),
        key_(LockKey(options.catalog_name, name_)) {}
  ~AdvisoryLock() override {
    // Closing the session releases the lock as well; unlocking first frees it
    // at once even if the server is slow to notice the disconnect.
    if (held_ && session_.connected()) {
      auto r = session_.Run("SELECT pg_advisory_unlock($1, $2)", {std::to_string(kLockClass), std::to_string(key_)});
      if (!r.status.ok()) log::Warn("catalog", "unlock {}: {}", name_, r.status.message());
    }
  }

  Status Take(bool wait) {
    WS_RETURN_IF_ERROR(session_.Connect());
    int64_t delay_ms = 10;
    for (;;) {
      Session::Outcome out =
          session_.Run("SELECT pg_try_advisory_lock($1, $2)", {std::to_string(kLockClass), std::to_string(key_)});
      if (out.failure != Session::Failure::kNone) return out.status;
      if (std::strcmp(PQgetvalue(out.res.get(), 0, 0), "t") == 0) break;
      if (!wait) {
        return Status::Conflict(fmt::format("another process holds the {} lock of catalog {}", name_,
                                            Redact(session_.conninfo())));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms = std::min<int64_t>(delay_ms * 2, 500);
    }
    held_ = true;
    pid_ = session_.pid();
    return Status::OK();
  }

  Status Check() override {
    // Only the session that took it holds it: never reconnect here.
    Session::Outcome out = session_.pid() == pid_ && held_
                               ? session_.Run("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                                              "pid = pg_backend_pid() AND granted AND classid = $1 AND objid = $2",
                                              {std::to_string(kLockClass), std::to_string(key_)})
                               : Session::Outcome{};
    if (!held_ || session_.pid() != pid_ || out.failure != Session::Failure::kNone ||
        std::strcmp(PQgetvalue(out.res.get(), 0, 0), "1") != 0) {
      held_ = false;
      return Status::Unavailable(fmt::format("the {} lock of catalog {} was lost{}", name_, Redact(session_.conninfo()),
                                             out.status.ok() ? "" : ": " + out.status.message()));
    }
    return Status::OK();
  }

 private:
  Session session_;
  std::string name_;
  int32_t key_;
  bool held_ = false;
  int pid_ = 0;
};

}  // namespace

Result<std::unique_ptr<CatalogBackend>> OpenPostgresCatalog(const std::string& conninfo,
                                                            const CatalogBackendOptions& options) {
  auto c = std::make_unique<PostgresCatalog>(conninfo, options);
  WS_RETURN_IF_ERROR(c->Init());
  return std::unique_ptr<CatalogBackend>(std::move(c));
}

Result<std::unique_ptr<CatalogLock>> AcquirePostgresLock(const std::string& conninfo, const std::string& name,
                                                         bool wait, const CatalogBackendOptions& options) {
  auto lock = std::make_unique<AdvisoryLock>(conninfo, options, name);
  WS_RETURN_IF_ERROR(lock->Take(wait));
  return std::unique_ptr<CatalogLock>(std::move(lock));
}

}  // namespace ws::table
