// S3Client against a local s3rver: every operation, connection reuse,
// listings past 1000 keys, and the one-line errors for bad credentials,
// missing buckets and unreachable endpoints.
#include "wikistream/storage/s3_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <thread>

#include "storage_test_util.h"

namespace ws::storage {
namespace {

using testing::S3Server;

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    auto c = S3Client::Make(TestOptions(server_.endpoint()));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(c).value();
  }
  const std::string& bucket() const { return server_.bucket(); }

  S3Server server_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(S3ClientTest, PutGetHeadDelete) {
  ASSERT_TRUE(client_->PutObject(bucket(), "dir/a.txt", "hello").ok());
  auto got = client_->GetObject(bucket(), "dir/a.txt");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "hello");
  auto head = client_->HeadObject(bucket(), "dir/a.txt");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->etag, Md5Hex("hello"));
  EXPECT_GT(head->modified_micros, 0);
  char buf[3];
  ASSERT_TRUE(client_->GetRange(bucket(), "dir/a.txt", 1, 3, buf).ok());
  EXPECT_EQ(std::string(buf, 3), "ell");
  ASSERT_TRUE(client_->DeleteObject(bucket(), "dir/a.txt").ok());
  EXPECT_TRUE(client_->GetObject(bucket(), "dir/a.txt").status().IsNotFound());
  EXPECT_TRUE(client_->DeleteObject(bucket(), "dir/a.txt").ok()) << "deleting a missing key is not an error in S3";
  EXPECT_EQ(client_->GetObject(bucket(), "dir/a.txt").status().message(), "s3://lake/dir/a.txt: no such object");
}

TEST_F(S3ClientTest, ConnectionsAreReused) {
  ASSERT_TRUE(client_->PutObject(bucket(), "k", "v").ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client_->HeadObject(bucket(), "k").ok());
  S3ClientStats s = client_->stats();
  EXPECT_EQ(s.requests, 51);
  EXPECT_LE(s.connections, 2) << "one keep-alive connection serves sequential requests";
}

TEST_F(S3ClientTest, ListsPastAThousandKeysWithContinuation) {
  // 1005 keys: S3's (and s3rver's) page limit of 1000 forces a second page.
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 5; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < 1005; i += 5) {
        char key[32];
        std::snprintf(key, sizeof key, "many/%04d", i);
        if (!client_->PutObject(bucket(), key, "x").ok()) failures++;
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(client_->PutObject(bucket(), "other/z", "x").ok());

  auto first = client_->ListObjectsPage(bucket(), "many/", "", "");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects.size(), 1000u);
  ASSERT_FALSE(first->next_token.empty());
  auto second = client_->ListObjectsPage(bucket(), "many/", "", first->next_token);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->objects.size(), 5u);
  EXPECT_TRUE(second->next_token.empty());
  EXPECT_EQ(second->objects.back().key, "many/1004");

  auto all = client_->ListObjects(bucket(), "many/", "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->objects.size(), 1005u);
  for (size_t i = 0; i < all->objects.size(); ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "many/%04zu", i);
    ASSERT_EQ(all->objects[i].key, key);
  }
  auto top = client_->ListObjects(bucket(), "", "/");
  ASSERT_TRUE(top.ok());
  EXPECT_TRUE(top->objects.empty());
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"many/", "other/"}));

  std::vector<std::string> doomed;
  for (const auto& o : all->objects) doomed.push_back(o.key);
  ASSERT_TRUE(client_->DeleteObjects(bucket(), doomed).ok());  // two DeleteObjects requests
  auto left = client_->ListObjects(bucket(), "", "");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->objects.size(), 1u);
  EXPECT_EQ(left->objects[0].key, "other/z");
}

TEST_F(S3ClientTest, MultipartUploadCompleteAndAbort) {
  const std::string part1(5 << 20, 'a'), part2 = "tail";
  auto id = client_->CreateMultipartUpload(bucket(), "mp/obj");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto e1 = client_->UploadPart(bucket(), "mp/obj", *id, 1, part1);
  auto e2 = client_->UploadPart(bucket(), "mp/obj", *id, 2, part2);
  ASSERT_TRUE(e1.ok() && e2.ok());
  ASSERT_TRUE(client_->CompleteMultipartUpload(bucket(), "mp/obj", *id,
                                               {{1, *e1, part1.size()}, {2, *e2, part2.size()}})
                  .ok());
  auto got = client_->GetObject(bucket(), "mp/obj");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == part1 + part2);

  auto id2 = client_->CreateMultipartUpload(bucket(), "mp/aborted");
  ASSERT_TRUE(id2.ok());
  ASSERT_TRUE(client_->UploadPart(bucket(), "mp/aborted", *id2, 1, "x").ok());
  Status aborted = client_->AbortMultipartUpload(bucket(), "mp/aborted", *id2);
  // s3rver has no AbortMultipartUpload (405); real stores do.
  EXPECT_TRUE(aborted.ok() || aborted.code() == Status::Code::kNotSupported) << aborted.ToString();
  EXPECT_TRUE(client_->HeadObject(bucket(), "mp/aborted").status().IsNotFound());
}

TEST_F(S3ClientTest, CopyObject) {
  ASSERT_TRUE(client_->PutObject(bucket(), "a b/src", "copied").ok());
  ASSERT_TRUE(client_->CopyObject(bucket(), "a b/src", "a b/dst").ok());
  EXPECT_EQ(*client_->GetObject(bucket(), "a b/dst"), "copied");
  EXPECT_TRUE(client_->CopyObject(bucket(), "missing", "x").IsNotFound());
}

TEST_F(S3ClientTest, MissingBucketIsOneClearLine) {
  Status put = client_->PutObject("nope", "k", "v");
  EXPECT_TRUE(put.IsNotFound());
  EXPECT_EQ(put.message(), "bucket 'nope' does not exist");
  EXPECT_EQ(client_->CheckBucket("nope").message(), "bucket 'nope' does not exist");
  EXPECT_EQ(client_->ListObjects("nope", "", "").status().message(), "bucket 'nope' does not exist");
  EXPECT_TRUE(client_->CheckBucket(bucket()).ok());
  EXPECT_EQ(client_->stats().retries, 0) << "a 4xx is final";
}

TEST_F(S3ClientTest, WrongCredentialsAreOneClearLine) {
  S3Options o = TestOptions(server_.endpoint());
  o.credentials.access_key_id = "WRONG";
  auto c = S3Client::Make(o);
  ASSERT_TRUE(c.ok());
  Status s = (*c)->CheckBucket(bucket());
  EXPECT_EQ(s.message(), "s3://lake: access denied (InvalidAccessKeyId)");
  EXPECT_EQ((*c)->PutObject(bucket(), "wh/x", "v").message(), "s3://lake/wh/x: access denied (InvalidAccessKeyId)");
  EXPECT_EQ((*c)->stats().requests, 2) << "not retried";
}

TEST_F(S3ClientTest, UnreachableEndpointGivesUpWithinItsBound) {
  // A port nobody listens on: bind, read the number, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  auto c = S3Client::Make(TestOptions("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))));
  ASSERT_TRUE(c.ok());
  auto start = std::chrono::steady_clock::now();
  Status s = (*c)->PutObject("lake", "k", "v");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("PUT s3://lake/k: gave up after 6 attempts"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  EXPECT_LT(took, std::chrono::seconds(3)) << "6 tries with backoff capped at 200 ms";
}

TEST_F(S3ClientTest, OptionsAreValidated) {
  S3Options o = TestOptions(server_.endpoint());
  o.part_size = 1 << 20;
  EXPECT_EQ(S3Client::Make(o).status().code(), Status::Code::kInvalidArgument);
  o = TestOptions("ftp://x");
  EXPECT_EQ(S3Client::Make(o).status().message(), "S3 endpoint 'ftp://x' must start with http:// or https://");
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(S3OptionsTest, FromEnvironment) {
  ScopedEnv a("AWS_ACCESS_KEY_ID", "AKID"), b("AWS_SECRET_ACCESS_KEY", "SECRET"), c("AWS_SESSION_TOKEN", "TOKEN"),
      d("AWS_REGION", "eu-west-1"), e("AWS_DEFAULT_REGION", nullptr), f("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
      g("AWS_ENDPOINT_URL_S3", nullptr);
  auto o = S3Options::FromEnvironment();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key_id, "AKID");
  EXPECT_EQ(o->credentials.secret_access_key, "SECRET");
  EXPECT_EQ(o->credentials.session_token, "TOKEN");
  EXPECT_EQ(o->region, "eu-west-1");
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:9");
  {
    ScopedEnv s3("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:10"), r("AWS_REGION", nullptr);
    auto o2 = S3Options::FromEnvironment();
    EXPECT_EQ(o2->endpoint, "http://127.0.0.1:10") << "the service-specific variable wins";
    EXPECT_EQ(o2->region, "us-east-1");
  }
  ScopedEnv none("AWS_SECRET_ACCESS_KEY", nullptr);
  EXPECT_EQ(S3Options::FromEnvironment().status().message(),
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace ws::storage
