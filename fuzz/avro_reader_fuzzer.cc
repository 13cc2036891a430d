// Fuzzes the Avro object container reader (manifests, manifest lists) and
// the schema parser. Contract: malformed input gives Corruption, never a
// crash, never an allocation larger than the input justifies. Property:
// every record the reader accepts re-encodes to bytes that decode to a value
// that re-encodes to the same bytes (reader and writer agree).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "wikistream/format/avro.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  // Schema JSON on its own too: the container path only reaches the parser
  // through a valid header.
  if (size > 0 && (data[0] == '{' || data[0] == '[' || data[0] == '"')) (void)ws::format::ParseAvroSchema(bytes);

  auto reader = ws::format::AvroFileReader::FromBytes(std::move(bytes));
  if (!reader.ok()) return 0;
  auto& r = **reader;
  if (!r.schema()) ws::fuzz::Fail("reader opened without a schema");
  for (int n = 0; n < 1000; ++n) {
    ws::format::AvroValue v;
    auto more = r.Next(&v);
    if (!more.ok() || !*more) break;
    std::string once, twice;
    if (ws::Status st = ws::format::AvroEncode(*r.schema(), v, &once); !st.ok()) {
      ws::fuzz::Fail("a decoded record does not encode:", st.ToString());
    }
    ws::format::AvroValue back;
    size_t pos = 0;
    if (ws::Status st = ws::format::AvroDecode(*r.schema(), once, &pos, &back); !st.ok()) {
      ws::fuzz::Fail("an encoded record does not decode:", st.ToString());
    }
    if (pos != once.size()) ws::fuzz::Fail("decoding did not consume the whole encoded record");
    if (ws::Status st = ws::format::AvroEncode(*r.schema(), back, &twice); !st.ok() || twice != once) {
      ws::fuzz::Fail("re-encoding is not stable");
    }
  }
  return 0;
}
