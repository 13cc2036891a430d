// Shared by the storage tests: S3 options for a test server, and the
// environments the FileSystem conformance suite runs against.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/s3_server.h"
#include "testing/test_util.h"
#include "wikistream/common/file_system.h"
#include "wikistream/common/uuid.h"
#include "wikistream/storage/s3_file_system.h"

namespace ws::storage {

// Options for a loopback test server: its keys, path-style, and retries
// short enough for tests (but still several).
inline S3Options TestOptions(const std::string& endpoint) {
  S3Options o;
  o.endpoint = endpoint;
  o.credentials = {testing::S3Server::kAccessKey, testing::S3Server::kSecretKey, ""};
  o.retry.max_attempts = 6;
  o.retry.base_delay = std::chrono::milliseconds(10);
  o.retry.max_delay = std::chrono::milliseconds(200);
  o.retry.max_elapsed = std::chrono::milliseconds(20000);
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.request_timeout = std::chrono::milliseconds(10000);
  o.multipart_threshold = 5ull << 20;
  o.part_size = 5ull << 20;
  return o;
}

// What the conformance suite needs from an implementation: the file system,
// an empty location to work in, and the documented ways it departs from
// POSIX (cf. Arrow's GenericFileSystemTest capability flags).
class FileSystemEnv {
 public:
  virtual ~FileSystemEnv() = default;
  virtual FileSystem* fs() = 0;
  virtual std::string root() = 0;
  virtual bool ok() const { return true; }
  virtual std::string error() const { return ""; }
  // Directories exist only while something lies below them (CreateDirs is a no-op).
  virtual bool implicit_directories() const { return false; }
  // Append after Sync works (POSIX) or the object is final after Sync (S3).
  virtual bool appends_after_sync() const { return true; }
  // A file destroyed without Close keeps what was appended (POSIX) or is discarded (S3).
  virtual bool unclosed_files_persist() const { return true; }
};

class PosixEnv : public FileSystemEnv {
 public:
  FileSystem* fs() override { return DefaultFileSystem(); }
  std::string root() override { return dir_.str(); }

 private:
  testing::TempDir dir_;
};

class FaultPosixEnv : public PosixEnv {
 public:
  FileSystem* fs() override { return &fi_; }

 private:
  FaultInjectionFileSystem fi_{DefaultFileSystem()};
};

class S3Env : public FileSystemEnv {
 public:
  S3Env() {
    if (!server_.ok()) return;
    S3Options o = TestOptions(server_.endpoint());
    o.list_page_size = 7;  // many pages from few keys: continuation tokens in every listing test
    auto fs = S3FileSystem::Make(o);
    if (fs.ok()) fs_ = std::move(fs).value();
  }
  FileSystem* fs() override { return fs_.get(); }
  std::string root() override { return "s3://" + server_.bucket() + "/t-" + NewUuid().substr(0, 8); }
  bool ok() const override { return fs_ != nullptr; }
  std::string error() const override { return server_.error(); }
  bool implicit_directories() const override { return true; }
  bool appends_after_sync() const override { return false; }
  bool unclosed_files_persist() const override { return false; }
  S3FileSystem* s3() { return fs_.get(); }
  const testing::S3Server& server() const { return server_; }

 private:
  testing::S3Server server_;
  std::unique_ptr<S3FileSystem> fs_;
};

class FaultS3Env : public S3Env {
 public:
  FileSystem* fs() override { return &fi_; }

 private:
  FaultInjectionFileSystem fi_{s3()};
};

}  // namespace ws::storage
