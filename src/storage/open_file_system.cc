#include "wikistream/storage/open_file_system.h"

#include "wikistream/storage/s3_file_system.h"

namespace ws::storage {
namespace {

// "s3" of "s3://x"; empty when `uri` has no scheme (a plain path).
std::string_view Scheme(std::string_view uri) {
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos || sep == 0) return {};
  for (size_t i = 0; i < sep; ++i) {
    char c = uri[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && ((c >= '0' && c <= '9') || c == '+' ||
                                                                           c == '-' || c == '.'));
    if (!ok) return {};
  }
  return uri.substr(0, sep);
}

}  // namespace

Result<OpenedFileSystem> OpenFileSystem(std::string_view uri, const StorageOptions& options) {
  if (uri.empty()) return Status::InvalidArgument("empty storage location");
  const std::string_view scheme = Scheme(uri);
  OpenedFileSystem out;
  if (scheme.empty() || scheme == "file") {
    std::string path(scheme.empty() ? uri : uri.substr(7));
    if (!scheme.empty()) {
      if (path.rfind("localhost/", 0) == 0) path.erase(0, 9);
      if (path.empty() || path[0] != '/') {
        return Status::InvalidArgument("'" + std::string(uri) + "': a file:// URI needs an absolute path (file:///dir)");
      }
    }
    out.fs = std::shared_ptr<FileSystem>(DefaultFileSystem(), [](FileSystem*) {});
    out.path = std::move(path);
    out.is_local = true;
    return out;
  }
  if (scheme == "s3") {
    WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(uri));
    S3Options s3;
    if (options.s3) {
      s3 = *options.s3;
    } else {
      WS_ASSIGN_OR_RETURN(s3, S3Options::FromEnvironment());
    }
    if (!options.s3_endpoint.empty()) s3.endpoint = options.s3_endpoint;
    WS_ASSIGN_OR_RETURN(std::unique_ptr<S3FileSystem> fs, S3FileSystem::Make(std::move(s3)));
    out.fs = std::move(fs);
    out.path = S3Client::Uri(p.bucket, p.key);
    return out;
  }
  return Status::InvalidArgument("unsupported storage scheme '" + std::string(scheme) + "' in '" + std::string(uri) +
                                 "' (use a local path, file:///path or s3://bucket/prefix)");
}

}  // namespace ws::storage
