// Config: every setting of every subcommand, after flags, the config file,
// environment variables and defaults have been merged.
//
// Contract: precedence is command line > environment variable
// (WIKISTREAM_<OPTION>, upper-case, dashes as underscores) > config file
// (--config FILE or WIKISTREAM_CONFIG, INI/TOML `key = value` lines using the
// long option names) > built-in default.
// Values are validated before any work starts; a bad value is a usage error.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "wikistream/common/result.h"
#include "wikistream/table/catalog.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::runtime {

inline constexpr const char* kProduceHttp = "127.0.0.1:8081";
inline constexpr const char* kBronzeHttp = "127.0.0.1:8082";
inline constexpr const char* kBatchHttp = "127.0.0.1:8083";

struct Config {
  // Where events come from: eventstreams | replay:PATH | synthetic[:N] | kafka://BROKERS[/TOPIC]
  std::string source = "eventstreams";
  std::string warehouse = "./warehouse";
  // Where the warehouse's catalog lives: "" = WAREHOUSE/catalog.db; sqlite:PATH;
  // postgresql://USER[:PASS]@HOST[:PORT]/DB (docs/catalog.md).
  std::string catalog;
  // The catalog_name column of the catalog's rows (Iceberg's JDBC catalog
  // name): several warehouses can share one catalog database.
  std::string catalog_name = table::kDefaultCatalogName;
  // "off" disables; port 0 picks a free port. Unless given, the roles that
  // are not the dashboard listen on their own ports (kProduceHttp, ...), so
  // run/serve, produce, bronze and a batch loop fit on one host.
  std::string http = "127.0.0.1:8080";
  // The HTTP transport (serve::HttpTransport): "beast" | "httplib".
  std::string http_transport = "beast";
  bool once = false;
  bool http_given = false;  // --http (or its env/config key) was set explicitly
  double speed = 0;  // replay pacing: 0 = as fast as possible, N = N x real time
  std::string eventstreams_url = "https://stream.wikimedia.org/v2/stream/recentchange";
  std::string contact = "https://github.com/wikistream/wikistream";
  std::string since;  // ISO-8601 start for a first EventStreams connection
  double commit_interval_s = 10;
  int64_t commit_max_events = 100000;
  double batch_interval_s = 30;
  double batch_every_s = 0;  // `batch --every`: seconds between cycles; 0 = one cycle and exit
  // Warehouse maintenance (docs/operations.md, "Maintenance"). `run` and
  // `batch --every` maintain after the first cycle that ends at least
  // maintain_every_s after the previous maintenance (or the start); 0 = never.
  double maintain_every_s = 3600;
  double snapshot_retention_s = 24 * 3600;  // snapshots older than this are expired...
  int retain_snapshots = 20;                // ...except the newest this many of each table
  int compact_min_files = 4;                // a partition with this many files...
  double compact_small_file_mb = 64;        // ...averaging at most this size is compacted
  std::string domains = "default";  // "default", "all", or a comma-separated list
  std::string alert_webhook;
  std::string admin_token;
  std::string kafka_brokers;
  std::string kafka_group = "wikistream-bronze";
  std::map<std::string, std::string> kafka_properties;  // --kafka-property KEY=VALUE: librdkafka properties
  std::string position_file = "wikistream-produce.position";  // produce's resume position
  int threads = 0;  // 0 = number of cores
  uint64_t seed = 42;
  std::string log_level = "info";
  std::string web_root;  // dashboard assets; default ("") the copy embedded in the binary
  double stage_timeout_s = 300;
  int stage_attempts = 3;
};

// The catalog settings of --catalog.
table::CatalogOptions CatalogOf(const Config& config);

// Opens the warehouse at --warehouse (a path, file:// or s3:// URI: the store
// comes from storage::OpenFileSystem) with the catalog of --catalog. Every
// command that reads or writes tables opens it here, so they agree on both.
Result<std::unique_ptr<warehouse::Warehouse>> OpenWarehouse(const Config& config, bool create);

// --threads, with 0 meaning one per core.
int WorkerThreads(const Config& config);

// `wikistream/<version> (<contact>)`.
std::string UserAgent(const Config& config);

// The dashboard's directory: --web-root if given, else the first of
// <exe dir>/web, <exe dir>/../web, <exe dir>/../share/wikistream/web and the
// source checkout's web/ (compiled in) that holds index.html.
std::string DefaultWebRoot(const Config& config);

}  // namespace ws::runtime
