// One conformance suite for every catalog backend (SQLite, PostgreSQL on a
// real server started by the test), plus what only a networked catalog can
// suffer: answers lost after the swap was sent, a swap still running on a
// dead session, the server restarting mid-run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "table_test_util.h"
#include "tcp_cut_proxy.h"
#include "testing/postgres_server.h"
#include "testing/test_util.h"
#include "wikistream/common/time.h"
#include "wikistream/format/avro.h"
#include "wikistream/table/catalog_backend.h"

namespace ws::table {
namespace {

using testing::Append;
using testing::EventsSchema;
using testing::FakeFile;
using testing::LiveFiles;
using testing::PostgresServer;
using testing::TempDir;

enum class Backend { kSqlite, kPostgres };

std::string Name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// Runs `body` in a child process; returns its exit code (or 128 + signal).
template <typename F>
int InChild(F body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

class CatalogConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      if (!PostgresServer::Available()) {
        GTEST_SKIP() << "PostgreSQL binaries are not installed (Debian's postgresql; scripts/setup installs it)";
      }
      std::string err;
      ASSERT_TRUE(server_.Start(&err)) << err;
      options_.uri = server_.NewDatabase("lake");
      options_.reconnect_timeout_ms = 20000;
    }
  }

  std::unique_ptr<Catalog> OpenCatalog(CatalogOptions options) {
    auto c = Catalog::Open(DefaultFileSystem(), dir_.str(), std::move(options));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::unique_ptr<Catalog> OpenCatalog() { return OpenCatalog(options_); }
  std::shared_ptr<Table> CreateEvents(Catalog* c) {
    auto t = c->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : nullptr;
  }

  TempDir dir_;
  PostgresServer server_;
  CatalogOptions options_;
};

TEST_P(CatalogConformanceTest, CreateLoadListInTheJdbcCatalogLayout) {
  auto c = OpenCatalog();
  ASSERT_TRUE(c);
  auto t = CreateEvents(c.get());
  ASSERT_TRUE(t);
  ASSERT_TRUE(c->CreateTableIfNotExists("silver", "cleaned_events", EventsSchema(), {"event_date"}).ok());
  auto other = OpenCatalog();
  auto loaded = other->LoadTable("bronze", "raw_events");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->metadata_location(), t->metadata_location());
  EXPECT_TRUE(other->LoadTable("bronze", "nope").status().IsNotFound());
  auto list = other->ListTables();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<TableIdentifier>{{"bronze", "raw_events"}, {"silver", "cleaned_events"}}));
  // The row holds the location as a URI.
  auto row = c->backend()->Load({"bronze", "raw_events"});
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(*row, "file://" + t->metadata_location());
  if (GetParam() == Backend::kPostgres) {
    // An outside client (psql) sees the JDBC catalog's columns.
    std::string out;  // Psql appends
    ASSERT_EQ(server_.Psql("SELECT catalog_name, table_namespace, table_name, metadata_location, "
                           "coalesce(previous_metadata_location, 'null'), iceberg_type FROM iceberg_tables "
                           "ORDER BY table_namespace",
                           &out, "lake"),
              0)
        << out;
    EXPECT_EQ(out.substr(0, out.find('\n')),
              "wikistream|bronze|raw_events|file://" + t->metadata_location() + "|null|TABLE");
    out.clear();
    ASSERT_EQ(server_.Psql("SELECT namespace, property_key, property_value FROM iceberg_namespace_properties "
                           "ORDER BY 1",
                           &out, "lake"),
              0);
    EXPECT_EQ(out, "bronze|exists|true\nsilver|exists|true\n");
  }
}

TEST_P(CatalogConformanceTest, CommitsAreCompareAndSwap) {
  auto c1 = OpenCatalog();
  auto c2 = OpenCatalog();
  auto t1 = CreateEvents(c1.get());
  auto t2 = *c2->LoadTable("bronze", "raw_events");
  const std::string v1 = t1->metadata_location();
  DataFile a = FakeFile(t1.get(), {"2024-08-22", "10"}, 3);
  ASSERT_TRUE(Append(t1.get(), {a}).ok());
  // t2 still holds v1: its commit loses the swap once, rebases and lands.
  DataFile b = FakeFile(t2.get(), {"2024-08-22", "11"}, 4);
  auto r = Append(t2.get(), {b});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 2);
  ASSERT_TRUE(t1->Refresh().ok());
  EXPECT_EQ(LiveFiles(t1.get()), (std::set<std::string>{a.path, b.path}));
  EXPECT_EQ(t1->current_snapshot()->sequence_number, 2);
  // A local warehouse keeps a version hint for path-based readers, whichever the catalog.
  EXPECT_TRUE(c1->writes_version_hints());
  EXPECT_EQ(testing::ReadFile(dir_.path() / "bronze/raw_events/metadata/version-hint.text"), "3");
  // The backend itself: a stale expectation changes nothing.
  const std::string now = "file://" + t1->metadata_location();
  Status stale = c1->backend()->Swap({"bronze", "raw_events"}, {"file://" + v1}, "file:///elsewhere.json");
  EXPECT_TRUE(stale.IsConflict()) << stale.ToString();
  EXPECT_EQ(*c1->backend()->Load({"bronze", "raw_events"}), now);
  EXPECT_TRUE(c1->backend()->Swap({"bronze", "nope"}, {now}, "file:///x.json").IsConflict());
}

TEST_P(CatalogConformanceTest, CommittersInTwoProcessesLoseNothing) {
  auto c = OpenCatalog();
  ASSERT_TRUE(CreateEvents(c.get()));
  c.reset();
  constexpr int kCommits = 12;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    pid_t pid = fork();
    if (pid == 0) {
      auto catalog = Catalog::Open(DefaultFileSystem(), dir_.str(), options_);
      if (!catalog.ok()) _exit(2);
      auto t = (*catalog)->LoadTable("bronze", "raw_events");
      if (!t.ok()) _exit(3);
      for (int i = 0; i < kCommits; ++i) {
        CommitRequest req;
        req.added_files = {FakeFile(t->get(), {"2024-08-22", std::to_string(p)}, 1)};
        req.max_attempts = 100;
        if (!(*t)->Commit(req).ok()) _exit(4);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  }
  auto fresh = OpenCatalog();
  auto t = *fresh->LoadTable("bronze", "raw_events");
  EXPECT_EQ(LiveFiles(t.get()).size(), 2u * kCommits);
  auto snaps = t->snapshots();
  ASSERT_EQ(snaps.size(), 2u * kCommits);
  for (size_t i = 0; i < snaps.size(); ++i) EXPECT_EQ(snaps[i].sequence_number, static_cast<int64_t>(i) + 1);
}

TEST_P(CatalogConformanceTest, AnErrorAfterTheSwapIsResolvedByRereading) {
  int failures = 1;
  CatalogOptions opts = options_;
  opts.commit_hook = [&](std::string_view step) {
    if (step == "after-swap" && failures > 0) {
      --failures;
      return Status::IOError("answer lost");
    }
    return Status::OK();
  };
  auto c = OpenCatalog(opts);
  auto t = CreateEvents(c.get());
  DataFile f = FakeFile(t.get(), {"2024-08-22", "10"}, 3);
  auto r = Append(t.get(), {f});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 1);
  auto reader = OpenCatalog();
  auto fresh = *reader->LoadTable("bronze", "raw_events");
  EXPECT_EQ(fresh->snapshots().size(), 1u);
  EXPECT_EQ(LiveFiles(fresh.get()), (std::set<std::string>{f.path}));
}

TEST_P(CatalogConformanceTest, TheBatchLockExcludesOtherProcessesAndDiesWithItsHolder) {
  ASSERT_TRUE(OpenCatalog());
  auto held = AcquireCatalogLock(options_.uri, dir_.str(), "batch", /*wait=*/false, options_.backend_options());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_TRUE((*held)->Check().ok());
  auto try_lock = [&] {
    auto l = AcquireCatalogLock(options_.uri, dir_.str(), "batch", false, options_.backend_options());
    return l.ok() ? 0 : l.status().IsConflict() ? 3 : 4;
  };
  EXPECT_EQ(InChild(try_lock), 3);
  // Another name is another lock.
  EXPECT_TRUE(AcquireCatalogLock(options_.uri, dir_.str(), "maintenance", false, options_.backend_options()).ok());
  held->reset();
  EXPECT_EQ(InChild(try_lock), 0);

  // A holder that dies (SIGKILL) frees the lock; a waiter then gets it.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t holder = fork();
  if (holder == 0) {
    auto l = AcquireCatalogLock(options_.uri, dir_.str(), "batch", false, options_.backend_options());
    char c = l.ok() ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(5);
    for (;;) pause();
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_EQ(InChild(try_lock), 3);
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  const auto start = std::chrono::steady_clock::now();
  auto waited = AcquireCatalogLock(options_.uri, dir_.str(), "batch", /*wait=*/true, options_.backend_options());
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  close(ready[0]);
  close(ready[1]);
}

// Rewrites every location in a table's metadata, manifest lists, manifests
// and catalog row to a bare path, as versions before URIs wrote them.
void StripUris(format::AvroValue* v) {
  if (v->kind == format::AvroType::kString && v->bytes.rfind("file://", 0) == 0) v->bytes = v->bytes.substr(7);
  for (auto& item : v->items) StripUris(&item);
}
void StripUris(nlohmann::json* j) {
  if (j->is_string() && j->get<std::string>().rfind("file://", 0) == 0) *j = j->get<std::string>().substr(7);
  if (j->is_structured()) {
    for (auto& item : *j) StripUris(&item);
  }
}
void MakeLegacy(const std::string& table_dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(table_dir + "/metadata")) files.push_back(e.path().string());
  for (const std::string& p : files) {
    if (p.size() > 5 && p.substr(p.size() - 5) == ".avro") {
      auto r = format::AvroFileReader::Open(DefaultFileSystem(), p);
      ASSERT_TRUE(r.ok());
      auto rows = (*r)->ReadAll();
      ASSERT_TRUE(rows.ok());
      std::vector<std::pair<std::string, std::string>> meta;
      for (const auto& [k, v] : (*r)->metadata()) {
        if (k != "avro.schema" && k != "avro.codec") meta.emplace_back(k, v);
      }
      std::string schema = (*r)->schema_json();
      std::filesystem::remove(p);
      auto file = DefaultFileSystem()->Create(p);
      ASSERT_TRUE(file.ok());
      auto w = format::AvroFileWriter::Open(std::move(*file), schema, meta);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      for (auto& row : *rows) {
        StripUris(&row);
        ASSERT_TRUE((*w)->Append(row).ok());
      }
      ASSERT_TRUE((*w)->Close().ok());
    } else if (p.find(".metadata.json") != std::string::npos) {
      auto j = nlohmann::json::parse(testing::ReadFile(p));
      StripUris(&j);
      std::filesystem::remove(p);
      ASSERT_TRUE(DefaultFileSystem()->WriteFileDurably(p, j.dump(2), true).ok());
    }
  }
}

TEST_P(CatalogConformanceTest, WarehousesWithBarePathsStillOpenAndCommit) {
  auto c = OpenCatalog();
  auto t = CreateEvents(c.get());
  DataFile a = FakeFile(t.get(), {"2024-08-22", "10"}, 3);
  DataFile b = FakeFile(t.get(), {"2024-08-22", "11"}, 5);
  ASSERT_TRUE(Append(t.get(), {a}).ok());
  ASSERT_TRUE(Append(t.get(), {b}).ok());
  const std::string current = t->metadata_location();
  c.reset();
  MakeLegacy(dir_.str() + "/bronze/raw_events");
  {
    auto raw = OpenCatalog();
    const std::string uri = "file://" + current;
    ASSERT_TRUE(raw->backend()->Swap({"bronze", "raw_events"}, {uri}, current).ok());
    ASSERT_EQ(*raw->backend()->Load({"bronze", "raw_events"}), current);
    ASSERT_EQ(testing::ReadFile(current).find("file://"), std::string::npos);
  }
  auto reopened = OpenCatalog();
  auto legacy = *reopened->LoadTable("bronze", "raw_events");
  EXPECT_EQ(LiveFiles(legacy.get()), (std::set<std::string>{a.path, b.path}));
  // A commit on top swaps the bare row and writes URIs from then on.
  DataFile d = FakeFile(legacy.get(), {"2024-08-22", "10"}, 7);
  CommitRequest ow;
  ow.operation = CommitOperation::kOverwrite;
  ow.overwrite_partitions = {{"2024-08-22", "10"}};
  ow.added_files = {d};
  auto r = legacy->Commit(ow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(*reopened->backend()->Load({"bronze", "raw_events"}), "file://" + legacy->metadata_location());
  EXPECT_EQ(LiveFiles(legacy.get()), (std::set<std::string>{b.path, d.path}));
  // Maintenance compares locations of both spellings: nothing live is removed.
  ExpireOptions keep_one;
  keep_one.retain_last = 1;
  ASSERT_TRUE(legacy->ExpireSnapshots(keep_one).ok());
  ASSERT_TRUE(legacy->RemoveOrphanFiles(NowMicros() / 1000 + 60000).ok());
  auto reader = OpenCatalog();
  auto fresh = *reader->LoadTable("bronze", "raw_events");
  EXPECT_EQ(LiveFiles(fresh.get()), (std::set<std::string>{b.path, d.path}));
  EXPECT_TRUE(std::filesystem::exists(b.path));
  EXPECT_FALSE(std::filesystem::exists(a.path));
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogConformanceTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         Name);

TEST(CatalogUriTest, SchemesAndDefaults) {
  auto def = ParseCatalogUri("", "/data/wh");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->kind, CatalogUri::Kind::kSqlite);
  EXPECT_EQ(def->target, "/data/wh/catalog.db");
  EXPECT_EQ(ParseCatalogUri("", "file:///data/wh")->target, "/data/wh/catalog.db");
  EXPECT_EQ(ParseCatalogUri("sqlite:/var/lib/ws/catalog.db", "s3://lake/wh")->target, "/var/lib/ws/catalog.db");
  EXPECT_EQ(ParseCatalogUri("sqlite:rel.db", "/wh")->target, "rel.db");
  EXPECT_EQ(ParseCatalogUri("sqlite:////abs/c.db", "/wh")->target, "/abs/c.db");
  auto pg = ParseCatalogUri("postgresql://u:p@db:5432/lake", "s3://lake/wh");
  ASSERT_TRUE(pg.ok());
  EXPECT_EQ(pg->kind, CatalogUri::Kind::kPostgres);
  EXPECT_EQ(ParseCatalogUri("postgres://u@db/lake", "/wh")->kind, CatalogUri::Kind::kPostgres);
  auto bad = ParseCatalogUri("mysql://u@db/lake", "/wh");
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("unknown catalog URI scheme 'mysql'"), std::string::npos);
  auto remote_default = ParseCatalogUri("", "s3://lake/wh");
  EXPECT_EQ(remote_default.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(remote_default.status().message().find("--catalog"), std::string::npos);
}

// --- PostgreSQL only -----------------------------------------------------------

class PostgresCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresServer::Available()) {
      GTEST_SKIP() << "PostgreSQL binaries are not installed (Debian's postgresql; scripts/setup installs it)";
    }
    std::string err;
    ASSERT_TRUE(server_.Start(&err)) << err;
    server_.NewDatabase("lake");
    proxy_ = std::make_unique<testing::TcpCutProxy>(server_.port());
    options_.uri = "postgresql://postgres@127.0.0.1:" + std::to_string(proxy_->port()) + "/lake";
    options_.reconnect_timeout_ms = 20000;
    auto c = Catalog::Open(DefaultFileSystem(), dir_.str(), options_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    auto t = catalog_->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
    ASSERT_TRUE(t.ok());
    table_ = *t;
  }

  // What a fresh reader (its own catalog) sees.
  std::shared_ptr<Table> Fresh() {
    CatalogOptions direct;
    direct.uri = server_.Uri("lake");
    auto c = Catalog::Open(DefaultFileSystem(), dir_.str(), direct);
    EXPECT_TRUE(c.ok());
    readers_.push_back(std::move(*c));
    return *readers_.back()->LoadTable("bronze", "raw_events");
  }

  // Appends `f` with the next swap's connection cut (forwarding the swap to
  // the server or not) and checks that exactly one append landed.
  void AppendThroughCut(const DataFile& f, bool forward, int expected_attempts) {
    proxy_->ArmCut("UPDATE iceberg_tables", forward);
    auto r = Append(table_.get(), {f});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(proxy_->cuts(), 1);
    EXPECT_EQ(r->attempts, expected_attempts);
    auto fresh = Fresh();
    EXPECT_EQ(fresh->snapshots().size(), 1u);
    EXPECT_EQ(fresh->SummaryValue("wikistream.commit-id"), r->commit_id);
    EXPECT_EQ(LiveFiles(fresh.get()), (std::set<std::string>{f.path}));
  }

  TempDir dir_;
  PostgresServer server_;
  std::unique_ptr<testing::TcpCutProxy> proxy_;
  CatalogOptions options_;
  std::unique_ptr<Catalog> catalog_;
  std::shared_ptr<Table> table_;
  std::vector<std::unique_ptr<Catalog>> readers_;
};

// The UPDATE reached the server and committed; its answer never came back.
TEST_F(PostgresCatalogTest, LostAnswerOfASwapThatLandedIsNotRetried) {
  AppendThroughCut(FakeFile(table_.get(), {"2024-08-22", "10"}, 3), /*forward=*/true, /*expected_attempts=*/1);
}

// The connection died before the UPDATE reached the server.
TEST_F(PostgresCatalogTest, LostSwapThatNeverArrivedIsRetriedOnce) {
  AppendThroughCut(FakeFile(table_.get(), {"2024-08-22", "10"}, 3), /*forward=*/false, /*expected_attempts=*/2);
}

// The UPDATE reached the server but waits behind a row lock when the link
// dies: re-reading at once would see the old row and retry, and the first
// UPDATE would land later as well (a duplicate append). The catalog ends the
// old session before it reads, so exactly one append lands.
TEST_F(PostgresCatalogTest, ASwapStillRunningOnTheLostSessionIsEndedBeforeTheRowIsRead) {
  DataFile f = FakeFile(table_.get(), {"2024-08-22", "10"}, 3);
  std::thread holder([&] {
    std::string out;
    server_.Psql("BEGIN; SELECT 1 FROM iceberg_tables WHERE table_name = 'raw_events' FOR UPDATE; "
                 "SELECT pg_sleep(3); ROLLBACK;",
                 &out, "lake");
  });
  for (int i = 0; i < 200; ++i) {
    std::string n;
    server_.Psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()",
                 &n, "lake");
    if (n == "1\n") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  AppendThroughCut(f, /*forward=*/true, /*expected_attempts=*/2);
  holder.join();
}

TEST_F(PostgresCatalogTest, ServerRestartMidRunIsRidenOutAndLosesTheLock) {
  auto lock = AcquireCatalogLock(options_.uri, dir_.str(), "batch", false, options_.backend_options());
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  DataFile a = FakeFile(table_.get(), {"2024-08-22", "10"}, 1);
  ASSERT_TRUE(Append(table_.get(), {a}).ok());
  server_.Stop(/*immediate=*/true);
  std::thread restarter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    std::string err;
    EXPECT_TRUE(server_.Restart(&err)) << err;
  });
  DataFile b = FakeFile(table_.get(), {"2024-08-22", "11"}, 1);
  auto r = Append(table_.get(), {b});
  restarter.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(LiveFiles(Fresh().get()), (std::set<std::string>{a.path, b.path}));
  // The lock's session died with the server: its holder is told.
  Status held = (*lock)->Check();
  EXPECT_EQ(held.code(), Status::Code::kUnavailable) << held.ToString();
  EXPECT_TRUE(AcquireCatalogLock(options_.uri, dir_.str(), "batch", false, options_.backend_options()).ok());

  // Down for longer than the reconnect timeout: the commit fails in one line
  // and changes nothing; once the server is back the next one lands.
  CatalogOptions impatient = options_;
  impatient.reconnect_timeout_ms = 500;
  auto c = Catalog::Open(DefaultFileSystem(), dir_.str(), impatient);
  ASSERT_TRUE(c.ok());
  auto t = *(*c)->LoadTable("bronze", "raw_events");
  server_.Stop(/*immediate=*/true);
  DataFile lost = FakeFile(t.get(), {"2024-08-22", "12"}, 1);
  auto failed = Append(t.get(), {lost});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message().find('\n'), std::string::npos) << failed.status().ToString();
  std::string err;
  ASSERT_TRUE(server_.Restart(&err)) << err;
  DataFile later = FakeFile(t.get(), {"2024-08-22", "13"}, 1);
  ASSERT_TRUE(Append(t.get(), {later}).ok());
  EXPECT_EQ(LiveFiles(Fresh().get()), (std::set<std::string>{a.path, b.path, later.path}));
}

TEST_F(PostgresCatalogTest, BadUrlsFailAtOnceInOneLine) {
  auto check = [&](const std::string& uri, const std::string& expect) {
    CatalogOptions o;
    o.uri = uri;
    const auto start = std::chrono::steady_clock::now();
    auto c = Catalog::Open(DefaultFileSystem(), dir_.str(), o);
    ASSERT_FALSE(c.ok()) << uri;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8)) << uri;
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos) << c.status().ToString();
    EXPECT_NE(c.status().message().find(expect), std::string::npos) << c.status().ToString();
  };
  const int dead_port = PostgresServer::FreePort();
  check("postgresql://postgres@127.0.0.1:" + std::to_string(dead_port) + "/lake", "cannot connect");
  check(server_.Uri("no_such_db"), "no_such_db");
  check("postgresql://nobody@127.0.0.1:" + std::to_string(server_.port()) + "/lake", "nobody");
  // A role without rights on the catalog tables.
  std::string out;
  ASSERT_EQ(server_.Psql("CREATE ROLE reader LOGIN", &out, "lake"), 0) << out;
  CatalogOptions o;
  o.uri = "postgresql://reader@127.0.0.1:" + std::to_string(server_.port()) + "/lake";
  auto c = Catalog::Open(DefaultFileSystem(), dir_.str(), o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();  // the tables exist: nothing to create
  auto t = (*c)->LoadTable("bronze", "raw_events");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("permission denied"), std::string::npos) << t.status().ToString();
  EXPECT_EQ(t.status().message().find('\n'), std::string::npos);
}

// Two warehouses share one database under two catalog names: neither sees
// the other's tables, and each has its own batch lock.
TEST_F(PostgresCatalogTest, CatalogNamesKeepWarehousesInOneDatabaseApart) {
  TempDir other_dir;
  CatalogOptions other;
  other.uri = server_.Uri("lake");
  other.catalog_name = "staging";
  auto staging = Catalog::Open(DefaultFileSystem(), other_dir.str(), other);
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  auto listed = (*staging)->ListTables();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ((*staging)->LoadTable("bronze", "raw_events").status().code(), Status::Code::kNotFound);
  ASSERT_TRUE((*staging)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"}).ok());
  ASSERT_TRUE((*staging)->CreateTableIfNotExists("silver", "cleaned", EventsSchema(), {"event_date", "event_hour"}).ok());
  auto mine = catalog_->ListTables();
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(*mine, (std::vector<TableIdentifier>{{"bronze", "raw_events"}}));
  // The same table name: each catalog's row points into its own warehouse.
  std::string out;
  ASSERT_EQ(server_.Psql("SELECT catalog_name || '.' || table_namespace || '.' || table_name || ' ' || "
                         "(metadata_location LIKE '%' || '" + other_dir.str() + "' || '%') FROM iceberg_tables ORDER BY 1",
                         &out, "lake"),
            0)
      << out;
  EXPECT_EQ(out, "staging.bronze.raw_events true\nstaging.silver.cleaned true\nwikistream.bronze.raw_events false\n");
  // The batch lock is per catalog name.
  auto a = AcquireCatalogLock(server_.Uri("lake"), dir_.str(), "batch", false, options_.backend_options());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = AcquireCatalogLock(other.uri, other_dir.str(), "batch", false, other.backend_options());
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  auto again = AcquireCatalogLock(other.uri, other_dir.str(), "batch", false, other.backend_options());
  EXPECT_EQ(again.status().code(), Status::Code::kConflict);
}

// A crashed test leaves its server running and its directory behind: the
// next test process's first Start() (CleanStale) stops that server and
// deletes the directory, and leaves a running test's directory alone.
TEST(PostgresServerTest, DirectoriesOfCrashedTestsAreRemovedAndLiveOnesKept) {
  if (!PostgresServer::Available()) GTEST_SKIP() << "no PostgreSQL binaries (scripts/setup installs them)";
  namespace fs = std::filesystem;
  PostgresServer server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  const std::string dir = server.dir();
  PostgresServer::CleanStale(PostgresServer::BinDir());
  ASSERT_TRUE(fs::exists(dir)) << "the directory of a running test was deleted";
  std::string out;
  ASSERT_EQ(server.Psql("SELECT 1", &out), 0) << out;

  // Pretend its test crashed: the owner file names a process that is gone.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  std::ofstream(dir + "/owner") << dead << "\n";
  int postmaster = 0;
  std::ifstream(dir + "/data/postmaster.pid") >> postmaster;
  ASSERT_GT(postmaster, 0);
  // And a leftover whose server is already down.
  char tmpl[] = "/tmp/wikistream-pg-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::ofstream(std::string(tmpl) + "/owner") << dead << "\n";

  PostgresServer::CleanStale(PostgresServer::BinDir());
  std::string left;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) left += " " + e.path().string();
  EXPECT_FALSE(fs::exists(dir)) << "left:" << left;
  EXPECT_FALSE(fs::exists(tmpl));
  bool postmaster_gone = false;
  for (int i = 0; i < 100 && !postmaster_gone; ++i) {  // a zombie counts: its new parent reaps it
    std::ifstream stat("/proc/" + std::to_string(postmaster) + "/stat");
    std::string pid, comm, state;
    postmaster_gone = !(stat >> pid >> comm >> state) || state == "Z";
    if (!postmaster_gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(postmaster_gone) << "the orphaned postmaster still runs";
}

}  // namespace
}  // namespace ws::table
