// Fuzzes the Iceberg manifest and manifest-list decoding on top of Avro
// (src/table/manifest.cc): the input is one Avro file read both as a
// manifest list and as a manifest of a table whose metadata is the seed
// bronze raw_events metadata (partitioned by event_date).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "fuzz_util.h"
#include "table/table_internal.h"

namespace {

std::shared_ptr<ws::table::Table::State> LoadState() {
  const std::string path = std::string(WS_FUZZ_CORPUS_DIR) + "/table_metadata_fuzzer/bronze_raw_events.metadata.json";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto st = ws::table::MetadataFromJson(ss.str(), path);
  if (!st.ok()) ws::fuzz::Fail("cannot load the table metadata seed:", path);
  return *st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<ws::table::Table::State> state = LoadState();
  ws::fuzz::MemoryFileSystem fs;
  const std::string path = "/wh/bronze/raw_events/metadata/fuzz.avro";
  fs.Put(path, std::string(reinterpret_cast<const char*>(data), size));

  auto list = ws::table::ReadManifestList(&fs, path);
  ws::table::ManifestFile info;
  if (list.ok() && !list->empty()) info = list->front();
  info.path = path;
  auto entries = ws::table::ReadManifest(&fs, info, *state);
  if (entries.ok()) {
    for (const auto& e : *entries) {
      if (e.file.partition.size() != state->partition_fields.size()) ws::fuzz::Fail("entry partition arity");
    }
  }
  return 0;
}
