// What S3FileSystem sends for each FileSystem call (seen through a
// pass-through proxy): one PUT per small file, parts uploaded while the
// writer still appends, one PUT per atomic replacement, ranged GETs for
// reads; no-clobber on stores with and without conditional PUT; and
// FaultInjectionFileSystem around it failing every mutating step.
#include "wikistream/storage/s3_file_system.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "storage_test_util.h"
#include "testing/fault_proxy.h"

namespace ws::storage {
namespace {

using Fault = testing::FaultProxy::Fault;

int Count(const std::vector<std::string>& log, const std::string& method, const std::string& contains = "") {
  return static_cast<int>(std::count_if(log.begin(), log.end(), [&](const std::string& line) {
    return line.rfind(method + " ", 0) == 0 && line.find(contains) != std::string::npos;
  }));
}

class S3FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    proxy_ = std::make_unique<testing::FaultProxy>(server_.port());
    Open(TestOptions(proxy_->endpoint()));
  }
  void Open(const S3Options& o) {
    auto fs = S3FileSystem::Make(o);
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
  }
  std::string Path(const std::string& key) const { return "s3://" + server_.bucket() + "/" + key; }

  testing::S3Server server_;
  std::unique_ptr<testing::FaultProxy> proxy_;
  std::unique_ptr<S3FileSystem> fs_;
};

TEST(S3PathTest, Parse) {
  auto p = ParseS3Path("s3://lake/wh/db/t/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->bucket, "lake");
  EXPECT_EQ(p->key, "wh/db/t");
  EXPECT_EQ(ParseS3Path("s3://lake")->key, "");
  EXPECT_EQ(ParseS3Path("s3://").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseS3Path("s3:///x").status().message(), "'s3:///x' names no bucket");
  EXPECT_EQ(ParseS3Path("/tmp/x").status().message(), "'/tmp/x' is not an s3:// path");
}

TEST_F(S3FileSystemTest, SmallFileIsOnePut) {
  ASSERT_TRUE(fs_->WriteFileDurably(Path("wh/a.avro"), std::string(1 << 20, 'a'), false).ok());
  auto log = proxy_->request_log();
  EXPECT_EQ(log, (std::vector<std::string>{"PUT /lake/wh/a.avro"}));
}

TEST_F(S3FileSystemTest, LargeFileUploadsPartsWhileTheWriterAppends) {
  auto file = fs_->Create(Path("wh/big.parquet"));
  ASSERT_TRUE(file.ok());
  const std::string mib(1 << 20, 'x');
  for (int i = 0; i < 11; ++i) ASSERT_TRUE((*file)->Append(mib).ok());
  // Two 5 MiB parts are complete: they go out before Sync/Close is called.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Count(proxy_->request_log(), "PUT", "partNumber=2") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count(proxy_->request_log(), "PUT", "partNumber=2"), 1) << "parts upload while appending";
  EXPECT_FALSE(*fs_->Exists(Path("wh/big.parquet"))) << "invisible until complete";
  for (int i = 0; i < 2; ++i) ASSERT_TRUE((*file)->Append(mib).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  auto log = proxy_->request_log();
  EXPECT_EQ(Count(log, "POST", "uploads"), 1);
  EXPECT_EQ(Count(log, "PUT", "partNumber="), 3);  // 5 + 5 + 3 MiB
  EXPECT_EQ(Count(log, "POST", "uploadId="), 1);
  auto size = fs_->client()->HeadObject("lake", "wh/big.parquet");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size->size, 13u << 20);
}

TEST_F(S3FileSystemTest, AbandonedMultipartUploadIsAborted) {
  {
    auto file = fs_->Create(Path("wh/abandoned"));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(std::string(6 << 20, 'y')).ok());
  }
  auto log = proxy_->request_log();
  EXPECT_EQ(Count(log, "DELETE", "uploadId="), 1);
  EXPECT_FALSE(*fs_->Exists(Path("wh/abandoned")));
}

TEST_F(S3FileSystemTest, ReplacementIsOnePutAndRenameIsCopyThenDelete) {
  ASSERT_TRUE(fs_->ReplaceFileAtomically(Path("t/metadata/version-hint.text"), "3").ok());
  EXPECT_EQ(proxy_->request_log(), (std::vector<std::string>{"PUT /lake/t/metadata/version-hint.text"}));
  ASSERT_TRUE(fs_->Rename(Path("t/metadata/version-hint.text"), Path("t/hint")).ok());
  auto log = proxy_->request_log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1], "PUT /lake/t/hint");  // x-amz-copy-source
  EXPECT_EQ(log[2], "DELETE /lake/t/metadata/version-hint.text");
}

TEST_F(S3FileSystemTest, ReadsFetchRanges) {
  ASSERT_TRUE(fs_->WriteFileDurably(Path("d/f.parquet"), std::string(100000, 'p'), false).ok());
  auto file = fs_->OpenForRead(Path("d/f.parquet"));
  ASSERT_TRUE(file.ok());
  std::string out;
  ASSERT_TRUE((*file)->ReadAt(99992, 8, &out).ok());
  ASSERT_TRUE((*file)->ReadAt(4, 1000, &out).ok());
  auto log = proxy_->request_log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[1], "HEAD /lake/d/f.parquet");
  EXPECT_EQ(log[2], "GET /lake/d/f.parquet range=bytes=99992-99999");
  EXPECT_EQ(log[3], "GET /lake/d/f.parquet range=bytes=4-1003");
}

TEST_F(S3FileSystemTest, NoClobberOnAStoreWithoutConditionalPut) {
  // s3rver ignores If-None-Match: the probe finds out, and no-clobber falls
  // back to HEAD before PUT.
  auto supported = fs_->ConditionalPutSupported("lake", "wh/t/metadata/v1.metadata.json");
  ASSERT_TRUE(supported.ok()) << supported.status().ToString();
  EXPECT_FALSE(*supported);
  auto log = proxy_->request_log();
  EXPECT_EQ(Count(log, "PUT", "/lake/wh/t/metadata/.wikistream-conditional-put-probe-"), 2);
  EXPECT_EQ(Count(log, "DELETE", "probe"), 1);
  ASSERT_TRUE(fs_->WriteFileDurably(Path("wh/t/metadata/v1.metadata.json"), "mine", true).ok());
  Status again = fs_->WriteFileDurably(Path("wh/t/metadata/v1.metadata.json"), "theirs", true);
  EXPECT_EQ(again.code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(again.message(), "create s3://lake/wh/t/metadata/v1.metadata.json: already exists");
  EXPECT_EQ(*fs_->ReadAll(Path("wh/t/metadata/v1.metadata.json")), "mine");
  auto listing = fs_->ListRecursive(Path("wh"));
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->size(), 1u) << "the probe object is gone";
}

TEST_F(S3FileSystemTest, ProbeRecognisesAStoreThatHonoursIfNoneMatch) {
  proxy_->Inject(Fault::kPass, 1, "PUT", "probe");
  proxy_->Inject(Fault::kPreconditionFailed, 1, "PUT", "probe");
  auto supported = fs_->ConditionalPutSupported("lake", "wh/x");
  ASSERT_TRUE(supported.ok());
  EXPECT_TRUE(*supported);
  ASSERT_TRUE(fs_->WriteFileDurably(Path("wh/m.avro"), "m", true).ok());
  EXPECT_EQ(Count(proxy_->request_log(), "HEAD"), 0) << "no HEAD before a conditional PUT";
}

TEST_F(S3FileSystemTest, ConditionalPutLosingTheRaceLeavesTheWinnersObject) {
  S3Options o = TestOptions(proxy_->endpoint());
  o.conditional_put = ConditionalPut::kSupported;
  Open(o);
  ASSERT_TRUE(fs_->WriteFileDurably(Path("m/v2.metadata.json"), "winner", true).ok());
  // A store honouring If-None-Match refuses the second PUT at upload time.
  proxy_->Inject(Fault::kPreconditionFailed, 1, "PUT");
  Status lost = fs_->WriteFileDurably(Path("m/v2.metadata.json"), "loser", true);
  EXPECT_EQ(lost.code(), Status::Code::kAlreadyExists) << lost.ToString();
  EXPECT_EQ(*fs_->ReadAll(Path("m/v2.metadata.json")), "winner") << "WriteFileDurably must not remove it";
}

TEST_F(S3FileSystemTest, ConditionalPutWhoseAnswerWasLostIsRecognisedAsOurs) {
  S3Options o = TestOptions(proxy_->endpoint());
  o.conditional_put = ConditionalPut::kSupported;
  Open(o);
  // Try 1 is applied but its answer lost; try 2 meets the object try 1
  // created (412). Reading it back shows it is ours.
  proxy_->Inject(Fault::kLoseAnswer, 1, "PUT");
  proxy_->Inject(Fault::kPreconditionFailed, 1, "PUT");
  Status s = fs_->WriteFileDurably(Path("m/v3.metadata.json"), "ours", true);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*fs_->ReadAll(Path("m/v3.metadata.json")), "ours");
}

TEST_F(S3FileSystemTest, MissingBucketAndBadCredentials) {
  EXPECT_EQ(fs_->CreateNoClobber("s3://nope/wh/x").status().message(), "bucket 'nope' does not exist");
  EXPECT_EQ(fs_->ListRecursive("s3://nope/wh").status().message(), "bucket 'nope' does not exist");
  EXPECT_FALSE(*fs_->Exists("s3://nope"));
  S3Options o = TestOptions(proxy_->endpoint());
  o.credentials.access_key_id = "WRONG";
  Open(o);
  EXPECT_EQ(fs_->Exists("s3://lake").status().message(), "s3://lake: access denied (InvalidAccessKeyId)");
  EXPECT_EQ(fs_->WriteFileDurably(Path("wh/x"), "x", false).message(),
            "s3://lake/wh/x: access denied (InvalidAccessKeyId)");
}

// A commit's file steps (write a new metadata file without clobbering, then
// replace the version hint) through FaultInjectionFileSystem over S3: each
// mutating step is failed in turn, with each kind of fault. Afterwards the
// metadata object is absent or complete, never partial, the hint is absent
// or complete, and a retry without faults finishes the job.
TEST_F(S3FileSystemTest, FaultInjectionFailsEveryMutatingStep) {
  const std::string metadata(200000, 'm');
  for (FaultKind kind : {FaultKind::kIOError, FaultKind::kShortWrite, FaultKind::kNoSpace, FaultKind::kCrash}) {
    for (int n = 1;; ++n) {
      ASSERT_LT(n, 50);
      const std::string root = Path("fi/" + std::to_string(static_cast<int>(kind)) + "-" + std::to_string(n));
      FaultInjectionFileSystem fi(fs_.get());
      fi.FailAt(n, kind);
      Status s = fi.WriteFileDurably(root + "/metadata/v1.metadata.json", metadata, /*no_clobber=*/true);
      if (s.ok()) s = fi.ReplaceFileAtomically(root + "/metadata/version-hint.text", "1");
      if (!fi.fired()) {
        ASSERT_TRUE(s.ok()) << s.ToString();
        EXPECT_GT(n, 4) << "the sequence has several mutating steps";
        break;
      }
      EXPECT_FALSE(s.ok()) << "fault " << n << " fired but the sequence reported success";
      auto meta = fs_->ReadAll(root + "/metadata/v1.metadata.json");
      if (meta.ok()) {
        EXPECT_TRUE(*meta == metadata) << "partial metadata object after fault " << n;
      }
      auto hint = fs_->ReadAll(root + "/metadata/version-hint.text");
      if (hint.ok()) {
        EXPECT_EQ(*hint, "1");
      }
      // Recovery, as a restarted committer would do it.
      fi.Disarm();
      Status again = fi.WriteFileDurably(root + "/metadata/v1.metadata.json", metadata, true);
      if (again.code() != Status::Code::kAlreadyExists) {
        ASSERT_TRUE(again.ok()) << again.ToString();
      }
      ASSERT_TRUE(fi.ReplaceFileAtomically(root + "/metadata/version-hint.text", "1").ok());
      EXPECT_TRUE(*fs_->ReadAll(root + "/metadata/v1.metadata.json") == metadata);
    }
  }
}

}  // namespace
}  // namespace ws::storage
