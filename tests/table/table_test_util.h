// Helpers for the table tests: a small partitioned schema and fake data
// files (real files on disk with made-up stats; the metadata side does not
// read data files).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/table/catalog.h"
#include "wikistream/table/table.h"

namespace ws::testing {

inline format::SchemaPtr EventsSchema() {
  return std::make_shared<format::Schema>(0, std::vector<format::Field>{
                                                 {1, "event_id", format::TypeId::kString, true, ""},
                                                 {2, "n", format::TypeId::kInt64, false, ""},
                                                 {3, "event_date", format::TypeId::kString, true, ""},
                                                 {4, "event_hour", format::TypeId::kInt32, true, ""},
                                             });
}

// Writes a small file at a fresh data path of `table` and describes it.
inline table::DataFile FakeFile(table::Table* table, const table::PartitionValues& partition, int64_t rows,
                                FileSystem* fs = nullptr) {
  if (!fs) fs = DefaultFileSystem();
  auto path = table->NewDataFilePath(partition);
  EXPECT_TRUE(path.ok()) << path.status().ToString();
  std::string content(static_cast<size_t>(100 + rows), 'x');
  EXPECT_TRUE(DefaultFileSystem()->WriteFileDurably(*path, content, true).ok());
  table::DataFile f;
  f.path = *path;
  f.partition = partition;
  f.stats.record_count = rows;
  f.stats.file_size_bytes = static_cast<int64_t>(content.size());
  format::ColumnFileStats c;
  c.field_id = 1;
  c.compressed_bytes = 50;
  c.value_count = rows;
  c.null_count = 0;
  c.lower_bound = "a";
  c.upper_bound = "z";
  f.stats.columns.push_back(c);
  format::ColumnFileStats n;
  n.field_id = 2;
  n.compressed_bytes = 20;
  n.value_count = rows;
  n.null_count = rows;  // all null: no bounds
  f.stats.columns.push_back(n);
  f.stats.split_offsets = {4};
  return f;
}

inline Result<table::CommitResult> Append(table::Table* t, std::vector<table::DataFile> files,
                                          std::map<std::string, std::string> summary = {}) {
  table::CommitRequest req;
  req.operation = table::CommitOperation::kAppend;
  req.added_files = std::move(files);
  req.summary = std::move(summary);
  return t->Commit(req);
}

inline std::set<std::string> Paths(const std::vector<table::DataFile>& files) {
  std::set<std::string> out;
  for (const auto& f : files) out.insert(f.path);
  return out;
}

inline std::set<std::string> LiveFiles(table::Table* t) {
  auto files = t->Scan();
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  return files.ok() ? Paths(*files) : std::set<std::string>{};
}

}  // namespace ws::testing
