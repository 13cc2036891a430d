// An outside S3 client, awscli, reads what S3FileSystem wrote and
// S3FileSystem reads what awscli wrote (a multipart upload by awscli's own
// rules), on a local s3rver. awscli 2.9 ignores AWS_ENDPOINT_URL, so the
// endpoint is passed with --endpoint-url.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "storage_test_util.h"

namespace ws::storage {
namespace {

std::string FindAws() {
  if (::access("/usr/bin/aws", X_OK) == 0) return "/usr/bin/aws";  // Debian's awscli, what scripts/setup installs
  std::string out;
  if (testing::RunCommand("command -v aws", &out) == 0 && !out.empty()) return out.substr(0, out.find('\n'));
  return "";
}

TEST(AwsCliTest, ReadsOurObjectsAndWeReadTheirs) {
  const std::string aws = FindAws();
  if (aws.empty()) GTEST_SKIP() << "awscli is not installed (scripts/setup installs Debian's awscli)";
  testing::S3Server server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto fs = S3FileSystem::Make(TestOptions(server.endpoint()));
  ASSERT_TRUE(fs.ok());
  testing::TempDir dir;
  const std::string env =
      "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 "
      "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
      "AWS_PAGER= ";
  const std::string cli = env + aws + " --endpoint-url " + server.endpoint() + " ";

  // Ours, read by awscli: a small object and a multipart one.
  std::mt19937 rng(7);
  std::string big(11 << 20, '\0');
  for (char& c : big) c = static_cast<char>(rng());
  ASSERT_TRUE((*fs)->WriteFileDurably("s3://lake/wh/ours/small.json", "{\"ours\":true}", true).ok());
  ASSERT_TRUE((*fs)->WriteFileDurably("s3://lake/wh/ours/part=1/big.parquet", big, true).ok());
  std::string out;
  ASSERT_EQ(testing::RunCommand(cli + "s3 ls --recursive s3://lake/wh/ours/", &out), 0) << out;
  EXPECT_NE(out.find("wh/ours/small.json"), std::string::npos) << out;
  EXPECT_NE(out.find(std::to_string(big.size()) + " wh/ours/part=1/big.parquet"), std::string::npos) << out;
  ASSERT_EQ(testing::RunCommand(cli + "s3 cp s3://lake/wh/ours/small.json " + dir.str() + "/small.json", &out), 0)
      << out;
  EXPECT_EQ(testing::ReadFile(dir.path() / "small.json"), "{\"ours\":true}");
  ASSERT_EQ(testing::RunCommand(cli + "s3 cp s3://lake/wh/ours/part=1/big.parquet " + dir.str() + "/big", &out), 0)
      << out;
  EXPECT_TRUE(testing::ReadFile(dir.path() / "big") == big);

  // Theirs, read by us: awscli uploads files over 8 MiB in parts.
  std::string theirs(9 << 20, '\0');
  for (char& c : theirs) c = static_cast<char>(rng());
  testing::WriteFile(dir.path() / "theirs.bin", theirs);
  ASSERT_EQ(testing::RunCommand(cli + "s3 cp " + dir.str() + "/theirs.bin s3://lake/wh/theirs/t.bin", &out), 0) << out;
  auto back = (*fs)->ReadAll("s3://lake/wh/theirs/t.bin");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == theirs);
  auto file = (*fs)->OpenForRead("s3://lake/wh/theirs/t.bin");
  ASSERT_TRUE(file.ok());
  std::string tail;
  ASSERT_TRUE((*file)->ReadAt(theirs.size() - 8, 8, &tail).ok());
  EXPECT_TRUE(tail == theirs.substr(theirs.size() - 8));
  auto listed = (*fs)->ListRecursive("s3://lake/wh");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
}

}  // namespace
}  // namespace ws::storage
