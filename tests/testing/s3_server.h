// S3Server: an s3rver process (npm s3rver, pinned in package-lock.json) on a
// free 127.0.0.1 port, its data in a fresh temporary directory, with one
// bucket. The process is killed when the object dies, and also if the test
// process dies first (PR_SET_PDEATHSIG). s3rver accepts the keys
// S3RVER/S3RVER, requires x-amz-content-sha256, and does not check SigV4
// signatures (tests/storage/sigv4_test.cc proves those against AWS's
// published examples). Known gaps: it ignores If-None-Match on PUT and
// cannot abort a multipart upload (405). If it cannot start, ok() is false and error() says
// why; tests should ASSERT on it.
#pragma once

#include <sys/types.h>

#include <string>

#include "testing/test_util.h"

namespace ws::testing {

class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  explicit S3Server(std::string bucket = "lake");
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  bool ok() const { return port_ > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }
  std::string log() const;  // what s3rver printed

 private:
  TempDir dir_;
  std::string bucket_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace ws::testing
