// Subcommands whose components have not landed yet.
#include <cstdio>

#include "wikistream/app/commands.h"

namespace ws::app {
namespace {
int Pending(const char* what) {
  std::fprintf(stderr, "wikistream: %s is not available in this build yet\n", what);
  return 2;
}
}  // namespace

int RunPipeline(const Config&) { return Pending("run"); }
int RunProduce(const Config&) { return Pending("produce"); }
int RunBronzeConsumer(const Config&) { return Pending("bronze"); }
int RunBatch(const Config&, const std::string&) { return Pending("batch"); }
int RunServe(const Config&) { return Pending("serve"); }
int RunTables(const Config&) { return Pending("tables"); }
int RunSnapshots(const Config&, const std::string&) { return Pending("snapshots"); }
int RunMaintain(const Config&) { return Pending("maintain"); }
int RunGenerate(const Config&, int64_t) { return Pending("generate"); }

}  // namespace ws::app
