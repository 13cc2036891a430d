// The practical limit for the ingest path: simdjson DOM parsing of every line
// of an NDJSON file, reading the four fields every event needs, nothing else.
// Usage: ws_parse_only FILE.ndjson
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ws_parse_only FILE.ndjson\n");
    return 2;
  }
  simdjson::padded_string file;
  if (simdjson::padded_string::load(argv[1]).get(file)) {
    std::fprintf(stderr, "ws_parse_only: cannot read %s\n", argv[1]);
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  simdjson::dom::parser parser;
  std::string_view all(file.data(), file.size());
  size_t lines = 0, ok = 0, checksum = 0;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\n', pos);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    ++lines;
    simdjson::dom::element doc;
    // The file buffer is padded at its end; lines inside it are followed by
    // real bytes, so parsing in place is safe without a copy.
    if (parser.parse(line.data(), line.size(), false).get(doc)) continue;
    std::string_view id, domain, type;
    int64_t ts = 0;
    if (!doc["meta"]["id"].get(id) && !doc["meta"]["domain"].get(domain) && !doc["type"].get(type)) {
      if (doc["timestamp"].get(ts)) ts = 0;
      checksum += id.size() + domain.size() + type.size() + static_cast<size_t>(ts & 1);
      ++ok;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"lines\":%zu,\"parsed\":%zu,\"seconds\":%.3f,\"implementation\":\"%s\",\"checksum\":%zu}\n", lines,
              ok, secs, simdjson::get_active_implementation()->name().c_str(), checksum);
  return 0;
}
