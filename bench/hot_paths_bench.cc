// Micro-benchmarks of the hot paths of a replay: event parsing alone, the
// ingest rules (parse + validate + column building), column building alone,
// Parquet encoding + zstd of bronze rows, the event-id dedup index, silver
// derivation and gold aggregation.
// Run: build/bench/ws_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/uuid.h"
#include "wikistream/format/parquet_writer.h"
#include "wikistream/ingest/event_id_index.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/source/synthetic_source.h"
#include "wikistream/transform/gold.h"
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws {

namespace bronze = warehouse::bronze;
using format::ParquetWriterOptions;
using format::RecordBatch;
using format::WriteParquetFile;
using ingest::EventIdIndex;
using ingest::EventIngestor;
using model::DomainFilter;
using source::SourceRecord;
using source::SyntheticGenerator;

namespace {

constexpr int kEvents = 20000;

const std::vector<SourceRecord>& Records() {
  static const std::vector<SourceRecord> records = [] {
    std::vector<SourceRecord> v;
    SyntheticGenerator gen(7);
    for (int i = 0; i < kEvents; ++i) v.push_back(SourceRecord{gen.Next(), 0, std::to_string(i)});
    return v;
  }();
  return records;
}

RecordBatch BronzeRows() {
  EventIngestor ing(DomainFilter::All(), "bench");
  RecordBatch acc(bronze::RawEventsSchema()), dlq(bronze::DlqEventsSchema());
  for (const auto& r : Records()) ing.Ingest(r, &acc, &dlq);
  return acc;
}

int64_t PayloadBytes() {
  int64_t bytes = 0;
  for (const auto& r : Records()) bytes += static_cast<int64_t>(r.payload.size());
  return bytes;
}

// The parse share of the rules: simdjson's DOM over each payload.
void BM_ParseEvents(benchmark::State& state) {
  const auto& records = Records();
  simdjson::dom::parser parser;
  for (auto _ : state) {
    size_t fields = 0;
    for (const auto& r : records) {
      simdjson::dom::object obj;
      if (!parser.parse(r.payload).get(obj)) fields += obj.size();
    }
    benchmark::DoNotOptimize(fields);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records.size()));
  state.SetBytesProcessed(state.iterations() * PayloadBytes());
}
BENCHMARK(BM_ParseEvents)->Unit(benchmark::kMillisecond);

void BM_IngestRules(benchmark::State& state) {
  const auto& records = Records();
  EventIngestor ing(DomainFilter::All(), "bench");
  for (auto _ : state) {
    RecordBatch acc(bronze::RawEventsSchema()), dlq(bronze::DlqEventsSchema());
    acc.Reserve(records.size());
    for (const auto& r : records) ing.Ingest(r, &acc, &dlq);
    benchmark::DoNotOptimize(acc.num_rows());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records.size()));
  state.SetBytesProcessed(state.iterations() * PayloadBytes());
}
BENCHMARK(BM_IngestRules)->Unit(benchmark::kMillisecond);

// The column-building share of the rules: the bronze columns appended one
// row at a time, as the rules append them.
void BM_BuildBronzeColumns(benchmark::State& state) {
  RecordBatch rows = BronzeRows();
  for (auto _ : state) {
    RecordBatch out(bronze::RawEventsSchema());
    out.Reserve(rows.num_rows());
    for (size_t r = 0; r < rows.num_rows(); ++r) out.AppendRow(rows, r);
    benchmark::DoNotOptimize(out.num_rows());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows.num_rows()));
}
BENCHMARK(BM_BuildBronzeColumns)->Unit(benchmark::kMillisecond);

// Writes to /dev/null-like temp files: measures encoding + compression.
void BM_ParquetWriteBronze(benchmark::State& state) {
  RecordBatch rows = BronzeRows();
  ParquetWriterOptions options;
  options.zstd_level = static_cast<int>(state.range(0));
  std::string path = "/tmp/ws-bench-" + NewUuid() + ".parquet";
  for (auto _ : state) {
    auto stats = WriteParquetFile(DefaultFileSystem(), path, rows, options);
    benchmark::DoNotOptimize(stats.ok());
  }
  DefaultFileSystem()->RemoveLeftover(path);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows.num_rows()));
}
BENCHMARK(BM_ParquetWriteBronze)->Arg(1)->Arg(-1)->Arg(-5)->Unit(benchmark::kMillisecond);

void BM_EventIdDedup(benchmark::State& state) {
  std::vector<std::string> ids;
  for (int i = 0; i < kEvents; ++i) ids.push_back(NewUuid());
  for (auto _ : state) {
    EventIdIndex index([](const std::string&, int32_t, std::vector<std::string>*) { return Status::OK(); });
    for (const auto& id : ids) benchmark::DoNotOptimize(index.InsertIfNew("2026-01-01", 1, id).ok());
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_EventIdDedup)->Unit(benchmark::kMillisecond);

RecordBatch SilverRows(const RecordBatch& bronze) {
  return transform::BuildSilver(bronze, [](std::string_view) { return false; }, 0);
}

void BM_BuildSilver(benchmark::State& state) {
  RecordBatch bronze = BronzeRows();
  for (auto _ : state) benchmark::DoNotOptimize(SilverRows(bronze).num_rows());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(bronze.num_rows()));
}
BENCHMARK(BM_BuildSilver)->Unit(benchmark::kMillisecond);

// All five gold tables of one day, in one pass and in four.
void BM_GoldAggregate(benchmark::State& state) {
  RecordBatch silver = SilverRows(BronzeRows());
  const int passes = static_cast<int>(state.range(0));
  for (auto _ : state) {
    transform::GoldAccumulator acc({"2026-01-01"}, 0, passes);
    for (int p = 0; p < passes; ++p) {
      acc.Add(silver, p);
      acc.EndPass(p);
    }
    benchmark::DoNotOptimize(acc.Finish().hourly_stats.num_rows());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(silver.num_rows()));
}
BENCHMARK(BM_GoldAggregate)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ws
