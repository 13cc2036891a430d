// One conformance suite for every FileSystem implementation (after Arrow's
// GenericFileSystemTest): the POSIX file system, FaultInjectionFileSystem
// over it (disarmed), S3FileSystem against a local s3rver, and
// FaultInjectionFileSystem over S3FileSystem. Each environment declares how
// it departs from POSIX (storage_test_util.h); everything else must behave
// the same, because the table layer runs unchanged on all of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "storage_test_util.h"

namespace ws::storage {
namespace {

std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

template <typename Env>
class FileSystemConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<Env>();
    ASSERT_TRUE(env_->ok()) << env_->error();
    fs_ = env_->fs();
    root_ = env_->root();
    ASSERT_TRUE(fs_->CreateDirs(root_).ok());
  }

  std::string P(const std::string& rel) const { return root_ + "/" + rel; }

  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(fs_->CreateDirs(P(rel).substr(0, P(rel).rfind('/'))).ok());
    Status s = fs_->WriteFileDurably(P(rel), data, /*no_clobber=*/false);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string Read(const std::string& rel) {
    auto r = fs_->ReadAll(P(rel));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }

  // Paths relative to the root, sorted.
  std::vector<std::string> Names(const std::vector<FileInfo>& infos, bool mark_dirs = true) const {
    std::vector<std::string> out;
    for (const auto& f : infos) {
      EXPECT_EQ(f.path.rfind(root_ + "/", 0), 0u) << f.path;
      out.push_back(f.path.substr(root_.size() + 1) + (mark_dirs && f.is_directory ? "/" : ""));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<Env> env_;
  FileSystem* fs_ = nullptr;
  std::string root_;
};

using Implementations = ::testing::Types<PosixEnv, FaultPosixEnv, S3Env, FaultS3Env>;
class EnvNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, PosixEnv>) return "Posix";
    if (std::is_same_v<T, FaultPosixEnv>) return "FaultInjectionOverPosix";
    if (std::is_same_v<T, S3Env>) return "S3";
    return "FaultInjectionOverS3";
  }
};
TYPED_TEST_SUITE(FileSystemConformanceTest, Implementations, EnvNames);

TYPED_TEST(FileSystemConformanceTest, CreateAppendSyncCloseReadBack) {
  auto file = this->fs_->Create(this->P("a.bin"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  EXPECT_EQ((*file)->Size(), 11u);
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE((*file)->Close().ok()) << "Close is idempotent";
  EXPECT_EQ(this->Read("a.bin"), "hello world");
  auto in = this->fs_->OpenForRead(this->P("a.bin"));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ((*in)->Size(), 11u);
  // An empty file is a file.
  ASSERT_TRUE(this->fs_->WriteFileDurably(this->P("empty"), "", false).ok());
  EXPECT_EQ(this->Read("empty"), "");
  EXPECT_TRUE(*this->fs_->Exists(this->P("empty")));
}

TYPED_TEST(FileSystemConformanceTest, CloseWithoutSyncPublishes) {
  auto file = this->fs_->Create(this->P("c"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("closed").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(this->Read("c"), "closed");
}

TYPED_TEST(FileSystemConformanceTest, CreateReplacesAnExistingFile) {
  this->Write("f", "a longer first version");
  this->Write("f", "short");
  EXPECT_EQ(this->Read("f"), "short");
}

TYPED_TEST(FileSystemConformanceTest, NoClobberRefusesAnExistingName) {
  ASSERT_TRUE(this->fs_->WriteFileDurably(this->P("v1.metadata.json"), "mine", /*no_clobber=*/true).ok());
  Status again = this->fs_->WriteFileDurably(this->P("v1.metadata.json"), "theirs", /*no_clobber=*/true);
  EXPECT_EQ(again.code(), Status::Code::kAlreadyExists) << again.ToString();
  EXPECT_EQ(this->Read("v1.metadata.json"), "mine") << "the loser must not remove or replace the winner's file";
  // The refusal comes at create (POSIX O_EXCL, HEAD-then-PUT) or at the
  // upload (conditional PUT); either way nothing is overwritten.
  auto file = this->fs_->CreateNoClobber(this->P("v1.metadata.json"));
  if (file.ok()) {
    ASSERT_TRUE((*file)->Append("theirs").ok());
    EXPECT_EQ((*file)->Sync().code(), Status::Code::kAlreadyExists);
  } else {
    EXPECT_EQ(file.status().code(), Status::Code::kAlreadyExists);
  }
  EXPECT_EQ(this->Read("v1.metadata.json"), "mine");
}

TYPED_TEST(FileSystemConformanceTest, ReadsWholeAndByRange) {
  const std::string data = Bytes(300000, 1);
  this->Write("r.bin", data);
  auto in = this->fs_->OpenForRead(this->P("r.bin"));
  ASSERT_TRUE(in.ok());
  ASSERT_EQ((*in)->Size(), data.size());
  std::string out;
  ASSERT_TRUE((*in)->ReadAt(0, data.size(), &out).ok());
  EXPECT_TRUE(out == data);
  ASSERT_TRUE((*in)->ReadAt(12345, 999, &out).ok());
  EXPECT_TRUE(out == data.substr(12345, 999));
  ASSERT_TRUE((*in)->ReadAt(data.size() - 8, 8, &out).ok());  // a Parquet footer's tail
  EXPECT_TRUE(out == data.substr(data.size() - 8));
  ASSERT_TRUE((*in)->ReadAt(data.size(), 0, &out).ok());
  EXPECT_TRUE(out.empty());
  std::string buf(4096, '\0');
  ASSERT_TRUE((*in)->ReadInto(7, buf.size(), buf.data()).ok());
  EXPECT_TRUE(buf == data.substr(7, 4096));
  EXPECT_EQ((*in)->ReadAt(data.size() - 3, 4, &out).code(), Status::Code::kCorruption);
  EXPECT_EQ((*in)->ReadAt(~0ull, 1, &out).code(), Status::Code::kCorruption);
}

TYPED_TEST(FileSystemConformanceTest, MissingFilesAreNotFound) {
  EXPECT_TRUE(this->fs_->OpenForRead(this->P("nope")).status().IsNotFound());
  EXPECT_TRUE(this->fs_->ReadAll(this->P("nope")).status().IsNotFound());
  EXPECT_TRUE(this->fs_->Remove(this->P("nope")).IsNotFound());
  EXPECT_TRUE(this->fs_->Rename(this->P("nope"), this->P("other")).IsNotFound());
  auto exists = this->fs_->Exists(this->P("nope"));
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TYPED_TEST(FileSystemConformanceTest, ListsChildrenAndEverythingBelow) {
  this->Write("a", "1");
  this->Write("b", "22");
  this->Write("d/c", "333");
  this->Write("d/e/f", "4444");
  auto top = this->fs_->List(this->root_);
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  EXPECT_EQ(this->Names(*top), (std::vector<std::string>{"a", "b", "d/"}));
  for (const auto& f : *top) {
    if (!f.is_directory) {
      EXPECT_EQ(f.size, f.path.back() == 'a' ? 1u : 2u);
    }
  }
  auto d = this->fs_->List(this->P("d"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(this->Names(*d), (std::vector<std::string>{"d/c", "d/e/"}));
  auto all = this->fs_->ListRecursive(this->root_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(this->Names(*all), (std::vector<std::string>{"a", "b", "d/c", "d/e/f"}));
  for (const auto& f : *all) {
    EXPECT_FALSE(f.is_directory);
    EXPECT_GT(f.modified_micros, 0);
    if (f.path.back() == 'f') {
      EXPECT_EQ(f.size, 4u);
    }
  }
  EXPECT_TRUE(*this->fs_->Exists(this->P("d")));
  EXPECT_TRUE(*this->fs_->Exists(this->P("d/e/f")));
}

TYPED_TEST(FileSystemConformanceTest, ListingsSpanManyPages) {
  // S3Env lists 7 keys per page, so this follows several continuation tokens.
  std::set<std::string> want;
  for (int i = 0; i < 30; ++i) {
    std::string name = (i % 2 ? "x/" : "y/") + std::to_string(i);
    this->Write(name, std::to_string(i));
    want.insert(name);
  }
  auto all = this->fs_->ListRecursive(this->root_);
  ASSERT_TRUE(all.ok());
  auto names = this->Names(*all);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), want);
  EXPECT_EQ(names.size(), want.size()) << "no duplicates across pages";
  auto x = this->fs_->List(this->P("x"));
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->size(), 15u);
}

TYPED_TEST(FileSystemConformanceTest, MissingAndEmptyDirectories) {
  EXPECT_TRUE(this->fs_->List(this->P("missing")).status().IsNotFound());
  EXPECT_TRUE(this->fs_->ListRecursive(this->P("missing")).status().IsNotFound());
  ASSERT_TRUE(this->fs_->CreateDirs(this->P("empty/dir")).ok());
  ASSERT_TRUE(this->fs_->SyncDir(this->P("empty/dir")).ok());
  auto listed = this->fs_->List(this->P("empty/dir"));
  if (this->env_->implicit_directories()) {
    EXPECT_TRUE(listed.status().IsNotFound()) << "nothing below it, so it does not exist";
    EXPECT_FALSE(*this->fs_->Exists(this->P("empty/dir")));
  } else {
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->empty());
  }
}

TYPED_TEST(FileSystemConformanceTest, RemoveAndExists) {
  this->Write("gone", "x");
  EXPECT_TRUE(*this->fs_->Exists(this->P("gone")));
  ASSERT_TRUE(this->fs_->Remove(this->P("gone")).ok());
  EXPECT_FALSE(*this->fs_->Exists(this->P("gone")));
  EXPECT_TRUE(this->fs_->Remove(this->P("gone")).IsNotFound());
}

TYPED_TEST(FileSystemConformanceTest, RenameMovesContent) {
  this->Write("from", "payload");
  this->Write("to", "old");
  ASSERT_TRUE(this->fs_->Rename(this->P("from"), this->P("to")).ok());
  EXPECT_EQ(this->Read("to"), "payload");
  EXPECT_FALSE(*this->fs_->Exists(this->P("from")));
}

TYPED_TEST(FileSystemConformanceTest, ReplaceFileAtomicallyLeavesOnlyTheNewFile) {
  ASSERT_TRUE(this->fs_->ReplaceFileAtomically(this->P("version-hint.text"), "1").ok());
  EXPECT_EQ(this->Read("version-hint.text"), "1");
  ASSERT_TRUE(this->fs_->ReplaceFileAtomically(this->P("version-hint.text"), "2").ok());
  EXPECT_EQ(this->Read("version-hint.text"), "2");
  auto all = this->fs_->ListRecursive(this->root_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(this->Names(*all), (std::vector<std::string>{"version-hint.text"})) << "no temporary files left";
}

TYPED_TEST(FileSystemConformanceTest, KeysWithSpecialCharacters) {
  // Partition directories and values escaped by the table layer end up in
  // object keys: they must survive URI encoding and listing.
  const std::string name = "data/event_date=2024-08-22/wiki=en.wikipedia.org/a b+c%d~e.parquet";
  this->Write(name, "special");
  EXPECT_EQ(this->Read(name), "special");
  auto all = this->fs_->ListRecursive(this->P("data"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(this->Names(*all), (std::vector<std::string>{name}));
  ASSERT_TRUE(this->fs_->Remove(this->P(name)).ok());
}

TYPED_TEST(FileSystemConformanceTest, LargeFileInManyAppends) {
  // 13 MiB in 1 MiB appends: past S3Env's 5 MiB multipart threshold, so S3
  // sends 5 MiB parts while the writer is still appending.
  const std::string data = Bytes(13 << 20, 2);
  auto file = this->fs_->Create(this->P("big.parquet"));
  ASSERT_TRUE(file.ok());
  for (size_t at = 0; at < data.size(); at += 1 << 20) {
    ASSERT_TRUE((*file)->Append(std::string_view(data).substr(at, 1 << 20)).ok());
  }
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  std::string back = this->Read("big.parquet");
  ASSERT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);
  auto in = this->fs_->OpenForRead(this->P("big.parquet"));
  ASSERT_TRUE(in.ok());
  std::string out;
  ASSERT_TRUE((*in)->ReadAt((5 << 20) - 100, 200, &out).ok());  // across a part boundary
  EXPECT_TRUE(out == data.substr((5 << 20) - 100, 200));
}

TYPED_TEST(FileSystemConformanceTest, AppendAfterSync) {
  auto file = this->fs_->Create(this->P("s"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("a").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  Status more = (*file)->Append("b");
  ASSERT_TRUE((*file)->Close().ok());
  if (this->env_->appends_after_sync()) {
    EXPECT_TRUE(more.ok());
    EXPECT_EQ(this->Read("s"), "ab");
  } else {
    EXPECT_EQ(more.code(), Status::Code::kNotSupported);
    EXPECT_EQ(this->Read("s"), "a");
  }
}

TYPED_TEST(FileSystemConformanceTest, FileDestroyedWithoutClose) {
  {
    auto file = this->fs_->Create(this->P("abandoned"));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("partial").ok());
  }
  EXPECT_EQ(*this->fs_->Exists(this->P("abandoned")), this->env_->unclosed_files_persist());
}

TYPED_TEST(FileSystemConformanceTest, ConcurrentWritersAndReaders) {
  ASSERT_TRUE(this->fs_->CreateDirs(this->P("c")).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string p = this->P("c/" + std::to_string(t) + "-" + std::to_string(i));
        std::string data = Bytes(1000 + t * 10 + i, t * 100 + i);
        if (!this->fs_->WriteFileDurably(p, data, true).ok()) failures++;
        auto back = this->fs_->ReadAll(p);
        if (!back.ok() || *back != data) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = this->fs_->ListRecursive(this->P("c"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 40u);
}

}  // namespace
}  // namespace ws::storage
