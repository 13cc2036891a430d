#include "wikistream/runtime/config.h"

#include <filesystem>
#include <thread>
#include <vector>

#include "wikistream/source/eventstreams_source.h"
#include "wikistream/storage/open_file_system.h"

#ifndef WIKISTREAM_VERSION
#define WIKISTREAM_VERSION "dev"
#endif

namespace ws::runtime {

using source::MakeEventStreamsUserAgent;

table::CatalogOptions CatalogOf(const Config& config) {
  table::CatalogOptions options;
  options.uri = config.catalog;
  options.catalog_name = config.catalog_name;
  return options;
}

Result<std::unique_ptr<warehouse::Warehouse>> OpenWarehouse(const Config& config, bool create) {
  WS_ASSIGN_OR_RETURN(storage::OpenedFileSystem store, storage::OpenFileSystem(config.warehouse));
  return warehouse::Warehouse::Open(std::move(store.fs), store.path, create, CatalogOf(config));
}

int WorkerThreads(const Config& config) {
  if (config.threads > 0) return config.threads;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::string DefaultWebRoot(const Config& config) { return config.web_root; }

std::string UserAgent(const Config& config) { return MakeEventStreamsUserAgent(WIKISTREAM_VERSION, config.contact); }

}  // namespace ws::runtime
