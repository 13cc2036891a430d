// OpenFileSystem: the FileSystem for a warehouse location given as a path or
// URI, so callers hold one FileSystem whatever the store.
//
//   /data/wh, wh (relative)         -> the local POSIX file system, path as given
//   file:///data/wh                 -> the local POSIX file system, "/data/wh"
//   s3://BUCKET/PREFIX              -> an S3FileSystem, path "s3://BUCKET/PREFIX"
//   anything else with a scheme     -> InvalidArgument, one line
//
// S3 settings come from the environment (S3Options::FromEnvironment:
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); StorageOptions::s3_endpoint (a
// command-line --s3-endpoint) overrides the endpoint, and StorageOptions::s3
// replaces the environment altogether. Opening does not contact the store.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/storage/s3_client.h"

namespace ws::storage {

struct StorageOptions {
  std::string s3_endpoint;        // overrides AWS_ENDPOINT_URL(_S3) when set
  std::optional<S3Options> s3;    // complete S3 settings; the environment is not read
};

struct OpenedFileSystem {
  std::shared_ptr<FileSystem> fs;  // the local one is process-wide and never freed
  std::string path;                // the location as `fs` names it
  bool is_local = false;
};

Result<OpenedFileSystem> OpenFileSystem(std::string_view uri, const StorageOptions& options = {});

}  // namespace ws::storage
