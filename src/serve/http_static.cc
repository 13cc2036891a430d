// The dashboard's files: the copy embedded in the binary, or (development)
// web_root (canonical, no way out of it) and the chart library.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "http_core.h"
#include "web_assets.h"
#include "wikistream/common/logging.h"

namespace ws::serve {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxStaticFileBytes = 16 << 20;

constexpr const char* kHtmlPolicy =
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

std::string MimeType(const fs::path& p) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".map", "application/json"}, {".txt", "text/plain; charset=utf-8"}};
  auto it = kTypes.find(p.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

bool IsInside(const fs::path& root, const fs::path& p) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

}  // namespace

void HttpCore::ResolveWebRoot() {
  std::error_code ec;
  if (!opts_.web_root.empty()) {
    web_root_ = fs::canonical(opts_.web_root, ec);
    if (ec || !fs::is_directory(web_root_)) {
      log::Warn("http", "web root {} is not a directory; the dashboard is not served", opts_.web_root);
      web_root_.clear();
    }
  }
  if (!opts_.chart_js_path.empty()) {
    chart_js_ = opts_.chart_js_path;
  } else if (!web_root_.empty()) {
    chart_js_ = web_root_ / "vendor" / "chart.umd.js";
    if (!fs::exists(chart_js_, ec)) chart_js_ = web_root_.parent_path() / "node_modules" / "chart.js" / "dist" / "chart.umd.js";
  }
}

namespace {

ApiResponse FileResponse(std::string body, const std::string& mime) {
  ApiResponse res;
  res.content_type = mime;
  if (mime.rfind("text/html", 0) == 0) res.headers.emplace_back("Content-Security-Policy", kHtmlPolicy);
  // no-cache: browsers revalidate (the embedded copy's ETag makes that a 304).
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.body = std::move(body);
  return res;
}

}  // namespace

ApiResponse HttpCore::Static(const ApiRequest& req) {
  const std::string& path = req.path;  // already percent-decoded
  std::error_code exists_ec;
  const bool chart = path == "/assets/chart.umd.js";
  if (chart ? chart_js_.empty() || !fs::exists(chart_js_, exists_ec) : web_root_.empty()) return Embedded(req);
  fs::path file;
  if (chart) {
    file = chart_js_;
  } else {
    std::string rel = path == "/" ? "index.html" : path.substr(1);
    // Reject traversal before touching the file system; canonical() below
    // also catches symlinks that lead out of the root.
    bool bad = rel.empty() || rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos ||
               rel.front() == '/';
    for (size_t start = 0; !bad && start <= rel.size();) {
      size_t end = rel.find('/', start);
      if (end == std::string::npos) end = rel.size();
      std::string_view seg(rel.data() + start, end - start);
      if (seg == ".." || seg == "." || (seg.empty() && end != rel.size())) bad = true;
      start = end + 1;
    }
    if (bad) return ErrorResponse(404, "not found");
    std::error_code ec;
    file = fs::canonical(web_root_ / rel, ec);
    if (ec || !IsInside(web_root_, file)) return ErrorResponse(404, "not found");
  }
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec) || fs::file_size(file, ec) > kMaxStaticFileBytes) {
    return ErrorResponse(404, "not found");
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in && !in.eof()) return ErrorResponse(500, "cannot read file");
  return FileResponse(std::move(content).str(), MimeType(file));
}

ApiResponse HttpCore::Embedded(const ApiRequest& req) {
  static const auto* kByPath = [] {
    auto* m = new std::map<std::string_view, const EmbeddedAsset*>();
    for (const EmbeddedAsset& a : EmbeddedAssets()) (*m)[a.path] = &a;
    return m;
  }();
  const std::string_view path = req.path == "/" ? std::string_view("/index.html") : std::string_view(req.path);
  auto it = kByPath->find(path);
  if (it == kByPath->end()) return ErrorResponse(404, "not found");
  const EmbeddedAsset& asset = *it->second;
  const bool fresh = req.if_none_match == asset.etag;
  ApiResponse res = FileResponse(fresh ? std::string() : std::string(asset.data), MimeType(fs::path(std::string(asset.path))));
  res.headers.emplace_back("ETag", std::string(asset.etag));
  if (fresh) {
    res.status = 304;
    res.content_type.clear();
  }
  return res;
}

}  // namespace ws::serve
