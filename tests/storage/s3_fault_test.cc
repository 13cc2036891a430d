// The S3 client's retries, through a fault proxy in front of s3rver: every
// operation gets through dropped and reset connections, 503 SlowDown, 500s,
// stalls, delays and truncated bodies with its data intact, and a permanent
// fault ends in one clear error within the retry bound.
#include <gtest/gtest.h>

#include <random>

#include "storage_test_util.h"
#include "testing/fault_proxy.h"

namespace ws::storage {
namespace {

using Fault = testing::FaultProxy::Fault;

std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

class S3FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    proxy_ = std::make_unique<testing::FaultProxy>(server_.port());
    S3Options o = TestOptions(proxy_->endpoint());
    o.request_timeout = std::chrono::milliseconds(1500);
    auto c = S3Client::Make(o);
    ASSERT_TRUE(c.ok());
    client_ = std::shared_ptr<S3Client>(std::move(c).value());
    fs_ = std::make_unique<S3FileSystem>(client_);
    auto direct = S3Client::Make(TestOptions(server_.endpoint()));  // bypasses the proxy
    ASSERT_TRUE(direct.ok());
    direct_ = std::move(direct).value();
  }

  std::string Stored(const std::string& key) {
    auto r = direct_->GetObject(bucket(), key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  const std::string& bucket() const { return server_.bucket(); }
  std::string Path(const std::string& key) const { return "s3://" + bucket() + "/" + key; }

  testing::S3Server server_;
  std::unique_ptr<testing::FaultProxy> proxy_;
  std::shared_ptr<S3Client> client_;
  std::unique_ptr<S3FileSystem> fs_;
  std::unique_ptr<S3Client> direct_;
};

TEST_F(S3FaultTest, DroppedAndResetConnectionsAreRetried) {
  const std::string data = Bytes(100000, 1);
  proxy_->Inject(Fault::kDrop, 2, "PUT");
  ASSERT_TRUE(client_->PutObject(bucket(), "a", data).ok());
  EXPECT_TRUE(Stored("a") == data);
  proxy_->Inject(Fault::kReset, 2, "GET");
  auto got = client_->GetObject(bucket(), "a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  proxy_->Inject(Fault::kReset, 1, "HEAD");
  EXPECT_TRUE(client_->HeadObject(bucket(), "a").ok());
  EXPECT_EQ(proxy_->faults(), 5);
  // curl itself resends once on a kept-alive connection that died before
  // answering; the rest are our retries.
  EXPECT_GE(client_->stats().retries, 2);
}

TEST_F(S3FaultTest, SlowDownAndServerErrorsAreRetried) {
  proxy_->Inject(Fault::kSlowDown, 3, "PUT");
  ASSERT_TRUE(client_->PutObject(bucket(), "b", "bbb").ok());
  proxy_->Inject(Fault::kInternalError, 2, "GET");
  EXPECT_EQ(*client_->GetObject(bucket(), "b"), "bbb");
  proxy_->Inject(Fault::kSlowDown, 2, "DELETE");
  ASSERT_TRUE(client_->DeleteObject(bucket(), "b").ok());
  EXPECT_TRUE(direct_->HeadObject(bucket(), "b").status().IsNotFound());
  EXPECT_EQ(client_->stats().retries, 7);
}

TEST_F(S3FaultTest, TruncatedBodiesAreDetectedAndRetried) {
  const std::string data = Bytes(200000, 2);
  ASSERT_TRUE(direct_->PutObject(bucket(), "t", data).ok());
  proxy_->Inject(Fault::kTruncateBody, 2, "GET");
  auto whole = client_->GetObject(bucket(), "t");
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(*whole == data);
  // Ranged reads (Parquet footers, column chunks) too.
  proxy_->Inject(Fault::kTruncateBody, 2, "GET", "range=");
  auto file = fs_->OpenForRead(Path("t"));
  ASSERT_TRUE(file.ok());
  std::string out;
  ASSERT_TRUE((*file)->ReadAt(1000, 50000, &out).ok());
  EXPECT_TRUE(out == data.substr(1000, 50000));
  EXPECT_EQ(proxy_->faults(), 4);
}

TEST_F(S3FaultTest, StalledRequestsTimeOutAndAreRetried) {
  proxy_->SetStallTime(std::chrono::seconds(20));
  proxy_->Inject(Fault::kStall, 1, "PUT");
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client_->PutObject(bucket(), "s", "stalled once").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "cut at the 1.5 s request timeout";
  EXPECT_EQ(Stored("s"), "stalled once");
}

TEST_F(S3FaultTest, DelayedRequestsSucceed) {
  proxy_->SetDelay(std::chrono::milliseconds(150));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(fs_->WriteFileDurably(Path("d/x"), "delayed", true).ok());
  EXPECT_EQ(*fs_->ReadAll(Path("d/x")), "delayed");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

TEST_F(S3FaultTest, MultipartUploadSurvivesPartFaultsAndALostCompletion) {
  const std::string data = Bytes(12 << 20, 3);
  proxy_->Inject(Fault::kReset, 2, "PUT", "partNumber=");
  proxy_->Inject(Fault::kSlowDown, 2, "PUT", "partNumber=2");
  proxy_->Inject(Fault::kSlowDown, 1, "POST", "uploads");
  // The store completes the upload but the answer never arrives: the retry
  // finds the upload gone and must recognise the object as its own.
  proxy_->Inject(Fault::kLoseAnswer, 1, "POST", "uploadId=");
  auto file = fs_->Create(Path("big/data.parquet"));
  ASSERT_TRUE(file.ok());
  for (size_t at = 0; at < data.size(); at += 1 << 20) {
    ASSERT_TRUE((*file)->Append(std::string_view(data).substr(at, 1 << 20)).ok());
  }
  Status s = (*file)->Close();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Stored("big/data.parquet") == data);
  EXPECT_EQ(proxy_->faults(), 6);
}

TEST_F(S3FaultTest, LostAnswerOfAPutIsRetried) {
  proxy_->Inject(Fault::kLoseAnswer, 1, "PUT");
  ASSERT_TRUE(fs_->WriteFileDurably(Path("m/v1.metadata.json"), "{}", /*no_clobber=*/false).ok());
  EXPECT_EQ(Stored("m/v1.metadata.json"), "{}");
}

TEST_F(S3FaultTest, ListingsSurviveFaultsOnAnyPage) {
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(direct_->PutObject(bucket(), "l/" + std::to_string(i), "x").ok());
  S3Options o = client_->options();
  o.list_page_size = 10;
  auto small_pages = S3FileSystem::Make(o);
  ASSERT_TRUE(small_pages.ok());
  proxy_->Inject(Fault::kSlowDown, 1, "GET", "list-type=2");
  proxy_->Inject(Fault::kTruncateBody, 1, "GET", "continuation-token=");
  proxy_->Inject(Fault::kDrop, 1, "GET", "continuation-token=");
  auto all = (*small_pages)->ListRecursive(Path("l"));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), 25u);
  EXPECT_EQ(proxy_->faults(), 3);
}

TEST_F(S3FaultTest, PermanentSlowDownGivesUpWithinTheBound) {
  proxy_->Inject(Fault::kSlowDown, -1);
  auto start = std::chrono::steady_clock::now();
  Status s = client_->PutObject(bucket(), "never", "x");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(s.message().rfind("PUT s3://lake/never: gave up after 6 attempts in ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find(": HTTP 503 SlowDown"), std::string::npos) << s.message();
  EXPECT_EQ(proxy_->requests(), 6);
  EXPECT_LT(took, std::chrono::seconds(2)) << "at most 5 sleeps of at most 200 ms";
  EXPECT_TRUE(direct_->HeadObject(bucket(), "never").status().IsNotFound());
}

TEST_F(S3FaultTest, PermanentlyDroppedConnectionsGiveUpWithinTheBound) {
  ASSERT_TRUE(direct_->PutObject(bucket(), "r", "x").ok());
  proxy_->Inject(Fault::kDrop, -1, "GET");
  Status s = fs_->ReadAll(Path("r")).status();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(s.message().rfind("GET s3://lake/r: gave up after 6 attempts", 0), 0u) << s.message();
  EXPECT_EQ(proxy_->requests(), 6);
}

TEST_F(S3FaultTest, TheTotalTimeBoundStopsRetriesEarly) {
  S3Options o = client_->options();
  o.retry.max_attempts = 100;
  o.retry.max_elapsed = std::chrono::milliseconds(800);
  auto c = S3Client::Make(o);
  ASSERT_TRUE(c.ok());
  proxy_->Inject(Fault::kInternalError, -1);
  auto start = std::chrono::steady_clock::now();
  Status s = (*c)->PutObject(bucket(), "x", "x");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_LT(proxy_->requests(), 100);
}

TEST_F(S3FaultTest, ClientErrorsAreNotRetried) {
  EXPECT_TRUE(client_->GetObject(bucket(), "missing").status().IsNotFound());
  EXPECT_EQ(proxy_->requests(), 1);
}

}  // namespace
}  // namespace ws::storage
