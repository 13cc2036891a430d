#include "wikistream/storage/s3_file_system.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <future>
#include <utility>

#include "wikistream/common/logging.h"
#include "wikistream/common/uuid.h"

namespace ws::storage {
namespace {

// Buffers appends; one PUT on Sync/Close, or a multipart upload whose parts
// are sent in the background once the file outgrows the threshold.
class S3WritableFile : public WritableFile {
 public:
  S3WritableFile(std::shared_ptr<S3Client> client, S3Path path, bool conditional)
      : client_(std::move(client)), path_(std::move(path)), conditional_(conditional) {}

  ~S3WritableFile() override {
    if (!finished_) AbortUpload();  // never synced or closed: publish nothing
  }

  Status Append(std::string_view data) override {
    if (!error_.ok()) return error_;
    if (finished_) {
      return Status::NotSupported("append to " + Uri() + " after Sync/Close: the object is already uploaded");
    }
    buffer_.append(data);
    size_ += data.size();
    const S3Options& o = client_->options();
    if (upload_id_.empty() && size_ >= o.multipart_threshold) {
      auto id = client_->CreateMultipartUpload(path_.bucket, path_.key);
      if (!id.ok()) return Fail(id.status());
      upload_id_ = std::move(id).value();
    }
    while (!upload_id_.empty() && buffer_.size() >= o.part_size) {
      Status s = SendPart(o.part_size);
      if (!s.ok()) return Fail(s);
    }
    return Status::OK();
  }

  Status Sync() override { return Finish(); }

  Status Close() override {
    if (finished_) return Status::OK();
    return Finish();
  }

  uint64_t Size() const override { return size_; }

 private:
  std::string Uri() const { return S3Client::Uri(path_.bucket, path_.key); }

  Status Fail(Status s) {
    error_ = s;
    AbortUpload();
    return s;
  }

  // Starts uploading the first n buffered bytes as the next part.
  Status SendPart(size_t n) {
    if (static_cast<int>(in_flight_.size()) >= std::max(1, client_->options().max_parts_in_flight)) {
      WS_RETURN_IF_ERROR(WaitOldest());
    }
    std::string part = buffer_.substr(0, n);
    buffer_.erase(0, n);
    const int number = next_part_++;
    const uint64_t size = part.size();
    in_flight_.push_back(
        {CompletedPart{number, "", size},
         std::async(std::launch::async, [client = client_, bucket = path_.bucket, key = path_.key,
                                         id = upload_id_, number, data = std::move(part)] {
           return client->UploadPart(bucket, key, id, number, data);
         })});
    return Status::OK();
  }

  Status WaitOldest() {
    auto [part, etag] = std::move(in_flight_.front());
    in_flight_.pop_front();
    Result<std::string> r = etag.get();
    if (!r.ok()) return r.status();
    part.etag = std::move(r).value();
    parts_.push_back(std::move(part));
    return Status::OK();
  }

  Status Finish() {
    if (finished_) return final_;
    finished_ = true;
    final_ = error_.ok() ? Upload() : error_;
    if (!final_.ok()) AbortUpload();
    buffer_.clear();
    buffer_.shrink_to_fit();
    return final_;
  }

  Status Upload() {
    if (upload_id_.empty()) return client_->PutObject(path_.bucket, path_.key, buffer_, conditional_);
    if (!buffer_.empty()) WS_RETURN_IF_ERROR(SendPart(buffer_.size()));
    while (!in_flight_.empty()) WS_RETURN_IF_ERROR(WaitOldest());
    std::sort(parts_.begin(), parts_.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
    WS_RETURN_IF_ERROR(client_->CompleteMultipartUpload(path_.bucket, path_.key, upload_id_, parts_, conditional_));
    upload_id_.clear();  // complete: nothing to abort
    return Status::OK();
  }

  void AbortUpload() {
    for (auto& f : in_flight_) f.second.wait();
    in_flight_.clear();
    if (upload_id_.empty()) return;
    Status s = client_->AbortMultipartUpload(path_.bucket, path_.key, upload_id_);
    if (!s.ok()) log::Warn("s3", "abort multipart upload of {}: {}", Uri(), s.ToString());
    upload_id_.clear();
  }

  std::shared_ptr<S3Client> client_;
  S3Path path_;
  bool conditional_;
  std::string buffer_;
  uint64_t size_ = 0;
  bool finished_ = false;
  Status error_;  // the first failure; every later call returns it
  Status final_;  // the outcome of the upload
  std::string upload_id_;
  int next_part_ = 1;
  std::deque<std::pair<CompletedPart, std::future<Result<std::string>>>> in_flight_;
  std::vector<CompletedPart> parts_;
};

class S3RandomAccessFile : public RandomAccessFile {
 public:
  S3RandomAccessFile(std::shared_ptr<S3Client> client, S3Path path, uint64_t size)
      : client_(std::move(client)), path_(std::move(path)), size_(size) {}

  uint64_t Size() const override { return size_; }

  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
    WS_RETURN_IF_ERROR(CheckRange(offset, n));
    out->resize(n);
    return client_->GetRange(path_.bucket, path_.key, offset, n, out->data());
  }

  Status ReadInto(uint64_t offset, size_t n, char* dst) const override {
    WS_RETURN_IF_ERROR(CheckRange(offset, n));
    return client_->GetRange(path_.bucket, path_.key, offset, n, dst);
  }

 private:
  Status CheckRange(uint64_t offset, size_t n) const {
    if (offset > size_ || n > size_ - offset) {
      return Status::Corruption(fmt::format("read past end of {} (offset {}, length {}, size {})",
                                            S3Client::Uri(path_.bucket, path_.key), offset, n, size_));
    }
    return Status::OK();
  }

  std::shared_ptr<S3Client> client_;
  S3Path path_;
  uint64_t size_;
};

std::string Parent(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

}  // namespace

Result<S3Path> ParseS3Path(std::string_view path) {
  constexpr std::string_view kScheme = "s3://";
  if (path.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("'" + std::string(path) + "' is not an s3:// path");
  }
  std::string_view rest = path.substr(kScheme.size());
  size_t slash = rest.find('/');
  S3Path p;
  p.bucket = std::string(rest.substr(0, slash));
  if (p.bucket.empty()) return Status::InvalidArgument("'" + std::string(path) + "' names no bucket");
  if (slash != std::string_view::npos) {
    std::string_view key = rest.substr(slash + 1);
    while (!key.empty() && key.front() == '/') key.remove_prefix(1);
    while (!key.empty() && key.back() == '/') key.remove_suffix(1);
    p.key = std::string(key);
  }
  return p;
}

Result<std::unique_ptr<S3FileSystem>> S3FileSystem::Make(S3Options options) {
  WS_ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, S3Client::Make(std::move(options)));
  return std::make_unique<S3FileSystem>(std::shared_ptr<S3Client>(std::move(client)));
}

S3FileSystem::S3FileSystem(std::shared_ptr<S3Client> client) : client_(std::move(client)) {}

Result<bool> S3FileSystem::ConditionalPutSupported(const std::string& bucket, const std::string& near_key) {
  switch (client_->options().conditional_put) {
    case ConditionalPut::kSupported: return true;
    case ConditionalPut::kUnsupported: return false;
    case ConditionalPut::kProbe: break;
  }
  std::lock_guard<std::mutex> lock(probe_mu_);
  if (auto it = conditional_put_.find(bucket); it != conditional_put_.end()) return it->second;
  // Write a throwaway object twice with If-None-Match: *. A store that
  // honours the header refuses the second write.
  std::string dir = Parent(near_key);
  std::string probe = (dir.empty() ? "" : dir + "/") + ".wikistream-conditional-put-probe-" + NewUuid();
  Status first = client_->PutObject(bucket, probe, "probe", /*if_none_match=*/true);
  bool supported = false;
  if (first.ok()) {
    Status second = client_->PutObject(bucket, probe, "probe", /*if_none_match=*/true);
    if (second.code() == Status::Code::kAlreadyExists) {
      supported = true;
    } else if (!second.ok()) {
      (void)client_->DeleteObject(bucket, probe);  // best effort; the probe's failure is what matters
      return second;
    }
  } else if (first.code() != Status::Code::kIOError || first.message().find("access denied") != std::string::npos) {
    return first;  // a missing bucket, bad credentials, an unreachable store: not an answer about the header
  }  // else the store rejected the header itself (e.g. 501 NotImplemented): unsupported
  if (first.ok()) {
    Status gone = client_->DeleteObject(bucket, probe);
    if (!gone.ok()) log::Warn("s3", "remove probe object s3://{}/{}: {}", bucket, probe, gone.ToString());
  }
  log::Info("s3", "s3://{}: conditional PUT {}", bucket,
            supported ? "supported" : "not supported; no-clobber creates check with HEAD first");
  conditional_put_[bucket] = supported;
  return supported;
}

Result<std::unique_ptr<WritableFile>> S3FileSystem::OpenWritable(const std::string& path, bool no_clobber) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(path));
  if (p.key.empty()) return Status::InvalidArgument("create " + path + ": not an object path");
  bool conditional = false;
  if (no_clobber) {
    WS_ASSIGN_OR_RETURN(conditional, ConditionalPutSupported(p.bucket, p.key));
    if (!conditional) {
      auto head = client_->HeadObject(p.bucket, p.key);
      if (head.ok()) return Status::AlreadyExists("create " + path + ": already exists");
      if (!head.status().IsNotFound()) return head.status();
    }
  }
  return std::unique_ptr<WritableFile>(std::make_unique<S3WritableFile>(client_, std::move(p), conditional));
}

Result<std::unique_ptr<WritableFile>> S3FileSystem::Create(const std::string& path) {
  return OpenWritable(path, /*no_clobber=*/false);
}

Result<std::unique_ptr<WritableFile>> S3FileSystem::CreateNoClobber(const std::string& path) {
  return OpenWritable(path, /*no_clobber=*/true);
}

Result<std::unique_ptr<RandomAccessFile>> S3FileSystem::OpenForRead(const std::string& path) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(path));
  WS_ASSIGN_OR_RETURN(ObjectInfo info, client_->HeadObject(p.bucket, p.key));
  return std::unique_ptr<RandomAccessFile>(std::make_unique<S3RandomAccessFile>(client_, std::move(p), info.size));
}

Result<std::string> S3FileSystem::ReadAll(const std::string& path) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(path));
  return client_->GetObject(p.bucket, p.key);
}

Status S3FileSystem::Rename(const std::string& from, const std::string& to) {
  WS_ASSIGN_OR_RETURN(S3Path src, ParseS3Path(from));
  WS_ASSIGN_OR_RETURN(S3Path dst, ParseS3Path(to));
  if (src.bucket != dst.bucket) return Status::NotSupported("rename " + from + " to " + to + ": across buckets");
  WS_RETURN_IF_ERROR(client_->CopyObject(src.bucket, src.key, dst.key));
  return client_->DeleteObject(src.bucket, src.key);
}

Status S3FileSystem::Remove(const std::string& path) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(path));
  WS_RETURN_IF_ERROR(client_->HeadObject(p.bucket, p.key).status());
  return client_->DeleteObject(p.bucket, p.key);
}

Status S3FileSystem::CreateDirs(const std::string& path) { return ParseS3Path(path).status(); }

Status S3FileSystem::SyncDir(const std::string& path) { return ParseS3Path(path).status(); }

Result<bool> S3FileSystem::Exists(const std::string& path) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(path));
  if (p.key.empty()) {
    Status s = client_->CheckBucket(p.bucket);
    if (s.IsNotFound()) return false;
    WS_RETURN_IF_ERROR(s);
    return true;
  }
  auto head = client_->HeadObject(p.bucket, p.key);
  if (head.ok()) return true;
  if (!head.status().IsNotFound()) return head.status();
  // Not an object; a "directory" if some key lies below it.
  WS_ASSIGN_OR_RETURN(ListPage page, client_->ListObjectsPage(p.bucket, p.key + "/", "", "", 1));
  return !page.objects.empty() || !page.common_prefixes.empty();
}

Result<std::vector<FileInfo>> S3FileSystem::ListPrefix(const std::string& dir, bool recursive) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(dir));
  const std::string prefix = p.key.empty() ? "" : p.key + "/";
  WS_ASSIGN_OR_RETURN(ListPage page, client_->ListObjects(p.bucket, prefix, recursive ? "" : "/"));
  std::vector<FileInfo> out;
  for (const ObjectInfo& o : page.objects) {
    if (o.key.empty() || o.key.back() == '/') continue;  // "folder" markers other tools create
    FileInfo f;
    f.path = S3Client::Uri(p.bucket, o.key);
    f.size = o.size;
    f.modified_micros = o.modified_micros;
    out.push_back(std::move(f));
  }
  for (const std::string& cp : page.common_prefixes) {
    FileInfo f;
    f.path = S3Client::Uri(p.bucket, cp.substr(0, cp.size() - (cp.empty() || cp.back() != '/' ? 0 : 1)));
    f.is_directory = true;
    out.push_back(std::move(f));
  }
  if (out.empty() && !p.key.empty()) return Status::NotFound("list " + dir + ": no objects below it");
  return out;
}

Result<std::vector<FileInfo>> S3FileSystem::List(const std::string& dir) { return ListPrefix(dir, false); }

Result<std::vector<FileInfo>> S3FileSystem::ListRecursive(const std::string& dir) { return ListPrefix(dir, true); }

Result<bool> S3FileSystem::CreatesExclusively(const std::string& path) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(path));
  return ConditionalPutSupported(p.bucket, p.key);
}

Status S3FileSystem::ReplaceFileAtomically(const std::string& path, std::string_view data) {
  WS_ASSIGN_OR_RETURN(S3Path p, ParseS3Path(path));
  if (p.key.empty()) return Status::InvalidArgument("replace " + path + ": not an object path");
  return client_->PutObject(p.bucket, p.key, data);
}

}  // namespace ws::storage
