// Fuzzes the Iceberg table metadata parser (vN.metadata.json), which every
// table open and every commit goes through. Property: whatever parses
// serialises back to JSON that parses to the same serialisation (the writer
// and the parser agree, so a commit never writes metadata it cannot read).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "table/table_internal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string location = "/wh/bronze/raw_events/metadata/v3.metadata.json";
  auto state = ws::table::MetadataFromJson(text, location);
  if (!state.ok()) return 0;
  const std::string once = ws::table::MetadataToJson(**state);
  auto again = ws::table::MetadataFromJson(once, location);
  if (!again.ok()) ws::fuzz::Fail("serialised metadata does not parse:", again.status().ToString());
  const std::string twice = ws::table::MetadataToJson(**again);
  if (once != twice) ws::fuzz::Fail("metadata round trip is not stable:", once + "\n---\n" + twice);
  // The helpers commits use on a parsed state must not crash either.
  if ((*state)->current_snapshot_id) (void)(*state)->Ancestry(*(*state)->current_snapshot_id);
  (void)(*state)->Current();
  return 0;
}
