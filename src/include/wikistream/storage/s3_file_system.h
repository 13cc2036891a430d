// S3FileSystem: ws::FileSystem over an S3-compatible object store, for
// paths "s3://BUCKET/KEY". Object stores are not file systems; this is what
// each FileSystem method honestly means here.
//
// - Writes: a WritableFile buffers what is appended and the object appears
//   on Sync() or Close(), whichever comes first, in one PUT (readers never
//   see a partial object). Once a file has grown past
//   S3Options::multipart_threshold it becomes a multipart upload: each full
//   part (S3Options::part_size) is sent on a background thread while the
//   writer keeps appending, at most max_parts_in_flight at once, and
//   Sync/Close sends the last part and completes the upload. After Sync the
//   object is final: a further Append fails (NotSupported). Destroying a file
//   that was never synced or closed discards it (a multipart upload is
//   aborted) instead of publishing half an object.
// - CreateNoClobber: with a store that honours If-None-Match (AWS S3, MinIO,
//   R2) the final PUT/CompleteMultipartUpload is conditional and a lost race
//   is AlreadyExists at Sync/Close. Otherwise (s3rver, older stores) the
//   object's absence is checked with a HEAD when the file is created and the
//   PUT is unconditional, which leaves a window in which two writers can both
//   succeed. S3Options::conditional_put chooses; by default a throwaway object
//   next to the first no-clobber file of each bucket finds out. Correctness of
//   table commits therefore never rests on overwrite protection: every data,
//   manifest and metadata object has a unique name, and a commit becomes
//   visible only through the catalog's compare-and-swap.
// - ReplaceFileAtomically is one PUT: readers see the old or the new object,
//   never a mix (S3 has strong read-after-write consistency since 2020).
//   Rename is copy + delete and is NOT atomic: a reader may see both names
//   or, after a failure between the two steps, both objects remain.
// - Remove reports NotFound for a missing object (a HEAD precedes the DELETE).
// - Directories do not exist: CreateDirs and SyncDir do nothing; a
//   "directory" exists while some key starts with its path + "/"; List
//   returns the objects directly under a path and the common prefixes (as
//   is_directory entries), ListRecursive every object below it (ListObjectsV2
//   with continuation), and both report NotFound when nothing is there.
// - OpenForRead costs one HEAD (the size); each ReadAt is one ranged GET, so
//   Parquet footers and column chunks are fetched by range, not whole files.
// - Thread-safe; requests from many threads share the client's connections.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "wikistream/common/file_system.h"
#include "wikistream/storage/s3_client.h"

namespace ws::storage {

struct S3Path {
  std::string bucket;
  std::string key;  // without a leading or trailing '/'; empty for the bucket itself
};

// Splits "s3://bucket/a/b" into {"bucket", "a/b"}; InvalidArgument otherwise.
Result<S3Path> ParseS3Path(std::string_view path);

class S3FileSystem : public FileSystem {
 public:
  static Result<std::unique_ptr<S3FileSystem>> Make(S3Options options);
  explicit S3FileSystem(std::shared_ptr<S3Client> client);

  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) override;
  Result<std::string> ReadAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<std::vector<FileInfo>> List(const std::string& dir) override;
  Result<std::vector<FileInfo>> ListRecursive(const std::string& dir) override;
  Status ReplaceFileAtomically(const std::string& path, std::string_view data) override;
  // True iff the bucket takes conditional PUTs (If-None-Match: *).
  Result<bool> CreatesExclusively(const std::string& path) override;

  S3Client* client() const { return client_.get(); }
  // Whether no-clobber creates in `bucket` use If-None-Match (probing once if
  // the options say kProbe); `near_key` places the probe object.
  Result<bool> ConditionalPutSupported(const std::string& bucket, const std::string& near_key);

 private:
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path, bool no_clobber);
  Result<std::vector<FileInfo>> ListPrefix(const std::string& dir, bool recursive);

  std::shared_ptr<S3Client> client_;
  std::mutex probe_mu_;
  std::map<std::string, bool> conditional_put_;  // bucket -> supported
};

}  // namespace ws::storage
