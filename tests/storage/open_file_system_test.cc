// OpenFileSystem: local paths, file:// and s3:// URIs; anything else is one
// clear line.
#include "wikistream/storage/open_file_system.h"

#include <gtest/gtest.h>

#include "storage_test_util.h"
#include "wikistream/storage/s3_file_system.h"

namespace ws::storage {
namespace {

TEST(OpenFileSystemTest, LocalPathsAndFileUris) {
  auto plain = OpenFileSystem("/data/wh");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->fs.get(), DefaultFileSystem());
  EXPECT_EQ(plain->path, "/data/wh");
  EXPECT_TRUE(plain->is_local);
  EXPECT_EQ(OpenFileSystem("relative/wh")->path, "relative/wh");
  auto uri = OpenFileSystem("file:///data/wh");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->fs.get(), DefaultFileSystem());
  EXPECT_EQ(uri->path, "/data/wh");
  EXPECT_EQ(OpenFileSystem("file://localhost/data/wh")->path, "/data/wh");
  EXPECT_EQ(OpenFileSystem("file://data/wh").status().code(), Status::Code::kInvalidArgument);
}

TEST(OpenFileSystemTest, UnknownSchemesAreOneLine) {
  auto r = OpenFileSystem("gs://bucket/wh");
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "unsupported storage scheme 'gs' in 'gs://bucket/wh' (use a local path, file:///path or s3://bucket/prefix)");
  EXPECT_EQ(OpenFileSystem("").status().code(), Status::Code::kInvalidArgument);
}

TEST(OpenFileSystemTest, S3WithExplicitOptionsAndEndpoint) {
  testing::S3Server server;
  ASSERT_TRUE(server.ok()) << server.error();
  StorageOptions options;
  options.s3 = TestOptions("http://127.0.0.1:1");  // replaced by the explicit endpoint below
  options.s3_endpoint = server.endpoint();
  auto opened = OpenFileSystem("s3://lake/wh/", options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_FALSE(opened->is_local);
  EXPECT_EQ(opened->path, "s3://lake/wh");
  auto* s3 = dynamic_cast<S3FileSystem*>(opened->fs.get());
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->client()->options().endpoint, server.endpoint());
  ASSERT_TRUE(opened->fs->WriteFileDurably(opened->path + "/x", "x", true).ok());
  EXPECT_TRUE(*opened->fs->Exists(opened->path));
  EXPECT_EQ(OpenFileSystem("s3:///wh", options).status().message(), "'s3:///wh' names no bucket");
}

TEST(OpenFileSystemTest, S3FromTheEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000", 1);
  ::unsetenv("AWS_ENDPOINT_URL_S3");
  auto opened = OpenFileSystem("s3://lake/wh");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto* s3 = dynamic_cast<S3FileSystem*>(opened->fs.get());
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->client()->options().endpoint, "http://127.0.0.1:9000");
  StorageOptions flag;
  flag.s3_endpoint = "http://127.0.0.1:9001";
  EXPECT_EQ(dynamic_cast<S3FileSystem*>(OpenFileSystem("s3://lake/wh", flag)->fs.get())->client()->options().endpoint,
            "http://127.0.0.1:9001");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(OpenFileSystem("s3://lake/wh").status().message(),
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_ENDPOINT_URL");
}

}  // namespace
}  // namespace ws::storage
