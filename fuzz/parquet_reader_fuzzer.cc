// Fuzzes ParquetReader with arbitrary file bytes (held in memory). The
// contract: garbled files give Corruption/NotSupported, never a crash and
// never an allocation driven by file contents beyond the documented caps.
// Property: a row group that reads back is a valid batch of num_rows rows
// matching the file schema.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "wikistream/format/parquet_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ws::fuzz::MemoryFileSystem fs;
  fs.Put("/fuzz.parquet", std::string(reinterpret_cast<const char*>(data), size));
  auto reader = ws::format::ParquetReader::Open(&fs, "/fuzz.parquet");
  if (!reader.ok()) return 0;
  auto& r = **reader;
  int64_t total = 0;
  for (int g = 0; g < r.num_row_groups() && g < 16; ++g) {
    auto batch = r.ReadRowGroup(g);
    if (!batch.ok()) continue;
    if (ws::Status st = batch->Validate(); !st.ok()) ws::fuzz::Fail("row group batch invalid:", st.ToString());
    if (batch->num_columns() != r.file_schema()->num_fields()) ws::fuzz::Fail("batch columns != file schema fields");
    total += static_cast<int64_t>(batch->num_rows());
  }
  // Re-reading must be repeatable (readers keep per-file caches).
  if (r.num_row_groups() > 0) {
    auto a = r.ReadRowGroup(0), b = r.ReadRowGroup(0);
    if (a.ok() != b.ok()) ws::fuzz::Fail("reading row group 0 twice gave different outcomes");
    if (a.ok() && a->num_rows() != b->num_rows()) ws::fuzz::Fail("reading row group 0 twice gave different rows");
  }
  (void)total;
  return 0;
}
