#include "wikistream/common/file_system.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace ws {
namespace {

using ws::testing::TempDir;

TEST(FileSystemTest, WriteReadRenameRemove) {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  std::string a = dir.str() + "/a.txt";
  ASSERT_TRUE(fs->WriteFileDurably(a, "hello", /*no_clobber=*/true).ok());
  auto data = fs->ReadAll(a);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "hello");

  // No-clobber refuses to overwrite, which is what keeps concurrent
  // committers from destroying each other's metadata files.
  Status again = fs->WriteFileDurably(a, "other", /*no_clobber=*/true);
  EXPECT_EQ(again.code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(*fs->ReadAll(a), "hello");

  std::string b = dir.str() + "/b.txt";
  ASSERT_TRUE(fs->Rename(a, b).ok());
  EXPECT_FALSE(*fs->Exists(a));
  EXPECT_TRUE(*fs->Exists(b));
  ASSERT_TRUE(fs->Remove(b).ok());
  EXPECT_TRUE(fs->Remove(b).IsNotFound());
}

TEST(FileSystemTest, ReadPastEndIsCorruption) {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  std::string p = dir.str() + "/f";
  ASSERT_TRUE(fs->WriteFileDurably(p, "0123456789", false).ok());
  auto file = fs->OpenForRead(p);
  ASSERT_TRUE(file.ok());
  std::string out;
  EXPECT_TRUE((*file)->ReadAt(2, 3, &out).ok());
  EXPECT_EQ(out, "234");
  EXPECT_EQ((*file)->ReadAt(8, 3, &out).code(), Status::Code::kCorruption);
  EXPECT_EQ((*file)->ReadAt(~0ull, 1, &out).code(), Status::Code::kCorruption);
}

TEST(FileSystemTest, ListAndListRecursive) {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->CreateDirs(dir.str() + "/x/y").ok());
  ASSERT_TRUE(fs->WriteFileDurably(dir.str() + "/x/1", "a", false).ok());
  ASSERT_TRUE(fs->WriteFileDurably(dir.str() + "/x/y/2", "bb", false).ok());
  auto top = fs->List(dir.str() + "/x");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->size(), 2u);  // the file and the directory
  auto all = fs->ListRecursive(dir.str());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE(fs->List(dir.str() + "/missing").status().IsNotFound());
}

TEST(FileSystemTest, ReplaceFileAtomicallyLeavesNoTemporaries) {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  std::string p = dir.str() + "/hint";
  ASSERT_TRUE(fs->ReplaceFileAtomically(p, "1").ok());
  ASSERT_TRUE(fs->ReplaceFileAtomically(p, "2").ok());
  EXPECT_EQ(*fs->ReadAll(p), "2");
  EXPECT_EQ(fs->List(dir.str())->size(), 1u);
}

TEST(FaultInjectionTest, EveryKindFiresAtTheNthOperation) {
  TempDir dir;
  for (FaultKind kind : {FaultKind::kIOError, FaultKind::kNoSpace, FaultKind::kShortWrite, FaultKind::kCrash}) {
    FaultInjectionFileSystem fs(DefaultFileSystem());
    // WriteFileDurably = create, append, sync, syncdir: fail the append.
    fs.FailAt(2, kind);
    std::string p = dir.str() + "/f" + std::to_string(static_cast<int>(kind));
    Status s = fs.WriteFileDurably(p, "0123456789", false);
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(fs.fired());
    if (kind == FaultKind::kNoSpace) {
      EXPECT_NE(s.message().find("No space"), std::string::npos);
    }
    if (kind == FaultKind::kCrash) {
      // After a crash nothing mutates any more until disarmed.
      EXPECT_FALSE(fs.WriteFileDurably(p + "x", "1", false).ok());
      fs.Disarm();
      EXPECT_TRUE(fs.WriteFileDurably(p + "x", "1", false).ok());
    } else {
      // Failed durable writes remove their partial file.
      EXPECT_FALSE(*fs.Exists(p));
    }
  }
}

TEST(FaultInjectionTest, PathFilterCountsOnlyMatchingOperations) {
  TempDir dir;
  FaultInjectionFileSystem fs(DefaultFileSystem());
  fs.FailAt(1, FaultKind::kIOError, "metadata");
  EXPECT_TRUE(fs.WriteFileDurably(dir.str() + "/data.bin", "x", false).ok());
  EXPECT_FALSE(fs.WriteFileDurably(dir.str() + "/metadata.json", "x", false).ok());
  EXPECT_TRUE(fs.WriteFileDurably(dir.str() + "/metadata2.json", "x", false).ok());
}

}  // namespace
}  // namespace ws
