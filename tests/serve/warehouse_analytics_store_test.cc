// WarehouseAnalyticsStore sees what another process commits: serve's store
// reads through one Warehouse handle while a second handle on the same
// directory and catalog (what a separate `batch` process holds) overwrites a
// gold day. The cached rows, the dates and the API's response cache (ETag)
// all follow the catalog's new snapshot, with SQLite and with PostgreSQL.
#include "wikistream/serve/warehouse_analytics_store.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

#include "serve/serve_fixture.h"
#include "testing/postgres_server.h"
#include "testing/test_util.h"
#include "wikistream/alerts/alert_sink.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/serve/api.h"

namespace ws::serve {
namespace {

using ws::testing::TempDir;
using warehouse::Warehouse;

const std::string kSummary = "gold.daily_analytics_summary";

// What a batch cycle's gold commit does to one day: replaces its partition.
void PublishDay(Warehouse* wh, const std::string& date, int64_t total_events) {
  auto t = wh->table(kSummary);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE((*t)->Refresh().ok());
  format::RecordBatch rows = testing::Rows(warehouse::DailySummaryTable(),
                                           nlohmann::json::array({{{"summary_date", date}, {"total_events", total_events}}}));
  auto files = wh->WriteDataFiles(**t, rows);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  table::CommitRequest req;
  req.operation = table::CommitOperation::kOverwrite;
  req.added_files = std::move(*files);
  req.overwrite_partitions = {{date}};
  auto committed = (*t)->Commit(req);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
}

int64_t TotalEvents(AnalyticsStore& store, const std::string& date) {
  auto rows = store.ReadTable(kSummary, date);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok() || rows->num_rows() != 1) return -1;
  return rows->column("total_events").GetInt64(0);
}

class OtherProcessCommit : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Catalogs, OtherProcessCommit, ::testing::Values("sqlite", "postgresql"));

TEST_P(OtherProcessCommit, ServeSeesTheNewGoldSnapshotAtOnce) {
  ws::testing::PostgresServer pg;
  table::CatalogOptions catalog;
  if (GetParam() == "postgresql") {
    if (!ws::testing::PostgresServer::Available()) GTEST_SKIP() << "no PostgreSQL binaries (scripts/setup installs them)";
    std::string error;
    ASSERT_TRUE(pg.Start(&error)) << error;
    catalog.uri = pg.Uri();
  }
  TempDir dir;
  auto batch = Warehouse::Open(DefaultFileSystem(), dir.str(), /*create=*/true, catalog);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  PublishDay(batch->get(), "2021-08-27", 616);
  auto serving = Warehouse::Open(DefaultFileSystem(), dir.str(), /*create=*/false, catalog);
  ASSERT_TRUE(serving.ok()) << serving.status().ToString();
  WarehouseAnalyticsStore store(serving->get());
  live::LiveAggregator live(live::LiveOptions{}, nullptr);
  alerts::AlertSink alerts("");
  prometheus::Registry registry;
  Api api(ApiOptions{}, &store, &live, &alerts, &registry, ServerCallbacks{});
  ApiRequest req;
  req.path = "/api/summary";
  req.query = {{"date", "2021-08-27"}};
  auto summary_total = [&] {
    auto res = api.Handle(req);
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    return res ? nlohmann::json::parse(res->body)["summary"]["total_events"].get<int64_t>() : -1;
  };

  EXPECT_EQ(TotalEvents(store, "2021-08-27"), 616);
  EXPECT_EQ(summary_total(), 616);  // cached now: rows and response
  PublishDay(batch->get(), "2021-08-27", 783);
  EXPECT_EQ(TotalEvents(store, "2021-08-27"), 783);
  EXPECT_EQ(summary_total(), 783) << "the response cache served the old snapshot";
  PublishDay(batch->get(), "2021-08-28", 5);
  auto dates = store.Dates(kSummary);
  ASSERT_TRUE(dates.ok());
  EXPECT_EQ(*dates, (std::vector<std::string>{"2021-08-27", "2021-08-28"}));
}

}  // namespace
}  // namespace ws::serve
