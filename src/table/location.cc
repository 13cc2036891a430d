// Locations as URIs in metadata, FileSystem paths in memory (table_internal.h).
#include <cctype>
#include <filesystem>

#include "table_internal.h"

namespace ws::table {

bool HasUriScheme(const std::string& location) {
  // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" — and at least two
  // letters, so that a Windows-like "C:" never counts.
  size_t i = 0;
  while (i < location.size() &&
         (std::isalpha(static_cast<unsigned char>(location[i])) ||
          (i > 0 && (std::isdigit(static_cast<unsigned char>(location[i])) || location[i] == '+' ||
                     location[i] == '-' || location[i] == '.')))) {
    ++i;
  }
  return i >= 2 && i < location.size() && location[i] == ':';
}

std::string ToLocationUri(const std::string& path) {
  if (path.empty() || path[0] != '/') return path;  // a URI already (or a relative path: left alone)
  return "file://" + path;
}

std::string FromLocationUri(const std::string& location) {
  if (location.rfind("file:", 0) != 0) return location;
  std::string rest = location.substr(5);
  if (rest.rfind("//", 0) == 0) {
    rest = rest.substr(2);
    // file://localhost/x names the local /x; file:///x has an empty authority.
    if (rest.rfind("localhost/", 0) == 0) rest = rest.substr(9);
    if (rest.empty() || rest[0] != '/') return location;  // another host: not ours to read
  }
  return rest;
}

std::string NormalizeLocation(const std::string& location) {
  auto scheme = location.find("://");
  if (!HasUriScheme(location) || scheme == std::string::npos) {
    return std::filesystem::path(location).lexically_normal().string();
  }
  auto path_start = location.find('/', scheme + 3);
  if (path_start == std::string::npos) return location;
  return location.substr(0, path_start) +
         std::filesystem::path(location.substr(path_start)).lexically_normal().string();
}

}  // namespace ws::table
