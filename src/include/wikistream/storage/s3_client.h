// S3Client: the S3 REST operations WikiStream needs, over libcurl, signed
// with SigV4 (sigv4.h), on any S3-compatible store (AWS S3, MinIO, Ceph RGW,
// R2, s3rver).
//
// Contract:
// - Every failure is a Status with a one-line message naming the object
//   ("s3://lake/wh/x: access denied (InvalidAccessKeyId)", "bucket 'lake'
//   does not exist"); nothing throws.
// - Transient failures are retried with exponential backoff and full jitter
//   (sleep uniform in [0, min(max_delay, base_delay * 2^attempt)]): HTTP 5xx
//   (503 SlowDown included), 429, 408, S3's 400 RequestTimeout, an error
//   document inside a 200 (CompleteMultipartUpload, CopyObject), connection
//   refused or reset, timeouts, and a body shorter or longer than its
//   Content-Length. Each request stops after RetryPolicy::max_attempts tries or
//   once RetryPolicy::max_elapsed has passed since its first try, whichever
//   comes first, with Status::Unavailable saying how many tries it made and
//   the last failure. Other 4xx answers are final and are not retried.
// - A retried request whose first try may have been applied (a conditional
//   PUT answered 412, a CompleteMultipartUpload answered NoSuchUpload) is
//   resolved by reading the object back and comparing its ETag with what was
//   sent, never by guessing.
// - Addressing: path-style (ENDPOINT/BUCKET/KEY) when an endpoint is set,
//   virtual-host (https://BUCKET.s3.REGION.amazonaws.com/KEY) otherwise;
//   S3Options::addressing overrides.
// - Connections are reused: idle curl handles (each keeping its connection
//   open) wait in a pool for the next request.
// - Thread-safe: any number of threads may issue requests at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/common/status.h"
#include "wikistream/storage/sigv4.h"

namespace ws::storage {

struct RetryPolicy {
  int max_attempts = 8;                                // tries per request, the first one included
  std::chrono::milliseconds base_delay{100};           // backoff cap before the first retry
  std::chrono::milliseconds max_delay{5000};           // backoff cap never grows past this
  std::chrono::milliseconds max_elapsed{120000};       // no new try starts later than this after the first
};

enum class Addressing { kAuto, kPathStyle, kVirtualHost };

// How the body of a PUT/POST is covered by the signature.
enum class PayloadSigning {
  kAuto,      // hashed over http, UNSIGNED-PAYLOAD over https (TLS protects the body)
  kSigned,    // always hash the body into the signature
  kUnsigned,  // always UNSIGNED-PAYLOAD
};

// Whether PUT honours If-None-Match: * (AWS S3 since 2024, MinIO, R2 do;
// s3rver and older stores ignore it and overwrite).
enum class ConditionalPut {
  kProbe,        // find out once per bucket with a throwaway object (S3FileSystem)
  kSupported,    // send If-None-Match: * and trust the 412
  kUnsupported,  // HEAD first, then a plain PUT (a race window remains; see s3_file_system.h)
};

struct S3Options {
  std::string endpoint;             // "http://127.0.0.1:9000"; empty = AWS
  std::string region = "us-east-1";
  Credentials credentials;
  Addressing addressing = Addressing::kAuto;
  PayloadSigning payload_signing = PayloadSigning::kAuto;
  ConditionalPut conditional_put = ConditionalPut::kProbe;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{300000};  // one try, body included
  std::chrono::seconds low_speed_time{30};            // a try moving < 1 KiB/s for this long is cut
  uint64_t multipart_threshold = 16ull << 20;         // objects this large upload in parts
  uint64_t part_size = 8ull << 20;                    // >= 5 MiB (S3's minimum for all but the last)
  int max_parts_in_flight = 4;                        // per file being written
  int list_page_size = 1000;                          // ListObjectsV2 max-keys
  size_t max_idle_connections = 16;

  // Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  // AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1) and
  // AWS_ENDPOINT_URL_S3 (else AWS_ENDPOINT_URL). Missing keys are an
  // InvalidArgument naming the variables.
  static Result<S3Options> FromEnvironment();
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t modified_micros = 0;
  std::string etag;  // without quotes
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;  // with the delimiter at the end, as S3 returns them
  std::string next_token;                    // empty on the last page
};

struct CompletedPart {
  int number = 0;
  std::string etag;  // without quotes
  uint64_t size = 0;
};

// Counters for tests and metrics.
struct S3ClientStats {
  int64_t requests = 0;         // tries sent, retries included
  int64_t retries = 0;          // tries after the first of a request
  int64_t connections = 0;      // TCP connections opened
};

class S3Client {
 public:
  static Result<std::unique_ptr<S3Client>> Make(S3Options options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // PUT. With if_none_match the store refuses (AlreadyExists) when the key exists.
  Status PutObject(const std::string& bucket, const std::string& key, std::string_view data,
                   bool if_none_match = false);
  Result<std::string> GetObject(const std::string& bucket, const std::string& key);
  // Exactly n bytes at offset into dst (ranged GET); a short object is Corruption.
  Status GetRange(const std::string& bucket, const std::string& key, uint64_t offset, size_t n, char* dst);
  Result<ObjectInfo> HeadObject(const std::string& bucket, const std::string& key);
  // OK if the bucket exists and the credentials may list it (a one-key
  // ListObjectsV2, not a HEAD, so that a refusal carries S3's error code).
  Status CheckBucket(const std::string& bucket);
  Status DeleteObject(const std::string& bucket, const std::string& key);  // OK if absent (S3 semantics)
  // One DeleteObjects request per 1000 keys; fails if any key could not be deleted.
  Status DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys);
  Status CopyObject(const std::string& bucket, const std::string& from_key, const std::string& to_key);
  // One ListObjectsV2 page; max_keys <= 0 uses options().list_page_size.
  Result<ListPage> ListObjectsPage(const std::string& bucket, const std::string& prefix,
                                   const std::string& delimiter, const std::string& continuation_token,
                                   int max_keys = 0);
  // Every page, following continuation tokens.
  Result<ListPage> ListObjects(const std::string& bucket, const std::string& prefix, const std::string& delimiter);

  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key);
  Result<std::string> UploadPart(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                 int part_number, std::string_view data);  // returns the part's ETag
  Status CompleteMultipartUpload(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                 const std::vector<CompletedPart>& parts, bool if_none_match = false);
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key, const std::string& upload_id);

  const S3Options& options() const { return options_; }
  S3ClientStats stats() const;

  // "s3://bucket/key": how objects are named in messages and FileInfo paths.
  static std::string Uri(const std::string& bucket, const std::string& key);

  struct Request;
  struct Response;

 private:
  explicit S3Client(S3Options options);
  Status Execute(const Request& request, Response* response);
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  S3Options options_;
  std::string scheme_;     // "http" or "https"
  std::string authority_;  // "127.0.0.1:9000" or "s3.us-east-1.amazonaws.com"
  std::string base_path_;  // an endpoint's own path prefix, usually empty
  bool path_style_ = true;
  bool sign_payload_ = true;
  std::mutex pool_mu_;
  std::vector<void*> idle_;  // CURL* handles
  std::atomic<int64_t> requests_{0}, retries_{0}, connections_{0};
};

}  // namespace ws::storage
