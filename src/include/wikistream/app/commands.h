// The subcommands of `wikistream`, each a function from a validated Config
// to an exit code (0 success, 1 the work failed, 2 usage error).
#pragma once

#include <string>

#include "wikistream/app/config.h"

namespace ws::app {

int RunPipeline(const Config& config);           // wikistream run
int RunProduce(const Config& config);            // wikistream produce
int RunBronzeConsumer(const Config& config);     // wikistream bronze
// wikistream batch | silver | dq | gold: stage is "all", "silver", "dq" or "gold".
int RunBatch(const Config& config, const std::string& stage);
int RunServe(const Config& config);              // wikistream serve
int RunTables(const Config& config);             // wikistream tables
int RunSnapshots(const Config& config, const std::string& table);  // wikistream snapshots TABLE
int RunMaintain(const Config& config);           // wikistream maintain
int RunGenerate(const Config& config, int64_t count);  // wikistream generate N

}  // namespace ws::app
