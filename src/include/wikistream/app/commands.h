// The subcommands of `wikistream`, each a function from a validated Config
// to an exit code (0 success, 1 the work failed, 2 usage error).
#pragma once

#include <cstdint>
#include <string>

#include "wikistream/runtime/config.h"

namespace ws::app {

int RunPipeline(const runtime::Config& config);        // wikistream run
int RunProduce(const runtime::Config& config);         // wikistream produce
int RunBronzeConsumer(const runtime::Config& config);  // wikistream bronze
// wikistream batch | silver | dq | gold: stage is "all", "silver", "dq" or "gold".
int RunBatch(const runtime::Config& config, const std::string& stage);
int RunServe(const runtime::Config& config);           // wikistream serve
int RunTables(const runtime::Config& config);          // wikistream tables
int RunSnapshots(const runtime::Config& config, const std::string& table);  // wikistream snapshots TABLE
int RunMaintain(const runtime::Config& config);        // wikistream maintain
int RunGenerate(const runtime::Config& config, int64_t count);  // wikistream generate N

}  // namespace ws::app
