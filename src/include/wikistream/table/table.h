// Table: one Iceberg format-v2 table of the warehouse (see docs/storage.md).
//
// Contract:
// - A Table object holds one loaded version of the table metadata; readers
//   (Scan, snapshots(), SummaryValue) see exactly that version until Refresh()
//   or a successful Commit()/maintenance call moves it forward. All methods
//   are thread-safe; two threads committing through one Table, or two
//   processes through two catalogs on one warehouse, never lose a commit.
// - Partitioning is identity transforms of required columns; partition
//   values are given as text ("2024-08-22", "13") in partition-column order.
// - Commit writes new manifests, a manifest list and a new metadata file
//   (each under a name no other writer picks: vN no-clobber where creates are
//   exclusive, else a UUID in it; synced, directory synced), then compare-and-swaps
//   the catalog pointer. On a lost race it reloads, re-applies the operation
//   to the new current state and retries (bounded by max_attempts). Every
//   attempt carries a unique `wikistream.commit-id` summary key; an attempt
//   whose swap outcome is unknown is resolved by looking for that id.
//   A failed Commit leaves the table at its previous snapshot (files it wrote
//   are orphans that RemoveOrphanFiles deletes later).
// - Errors: Conflict when an operation can no longer apply (a replace whose
//   input files are gone, a failed `validate`, attempts exhausted);
//   IOError/Corruption from the file system; NotFound for unknown snapshots.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/format/file_stats.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/format/schema.h"

namespace ws::table {

class Catalog;

using PartitionValues = std::vector<std::string>;  // one text value per partition column

struct DataFile {
  std::string path;           // absolute path of the Parquet file
  PartitionValues partition;  // in partition-column order
  format::DataFileStats stats;        // record_count, file_size_bytes, per-column stats, split offsets
  // Filled when read from a manifest:
  int64_t added_snapshot_id = 0;
  int64_t sequence_number = 0;
};

struct SnapshotInfo {
  int64_t snapshot_id = 0;
  std::optional<int64_t> parent_id;
  int64_t sequence_number = 0;
  int64_t timestamp_ms = 0;
  std::string operation;  // "append", "overwrite", "replace"
  std::map<std::string, std::string> summary;  // includes "operation"
  std::string manifest_list;
  int32_t schema_id = 0;
};

enum class CommitOperation {
  kAppend,     // add files
  kOverwrite,  // remove ALL current files of `overwrite_partitions`, add files
  kReplace,    // compaction: remove `deleted_files` (must all be live), add files with the same rows
};

struct CommitRequest {
  CommitOperation operation = CommitOperation::kAppend;
  std::vector<DataFile> added_files;
  std::vector<PartitionValues> overwrite_partitions;  // kOverwrite
  std::vector<std::string> deleted_files;             // kReplace: data file paths
  std::map<std::string, std::string> summary;         // custom keys (e.g. wikistream.source.sse)
  int max_attempts = 10;
  // Called on every attempt with the current snapshot of the state the
  // commit will apply to (after a reload on conflict); the Table's accessors
  // show that same state during the call. A non-OK status aborts the commit
  // with that status. Lets a writer check e.g. that no one else advanced a
  // source position: the swap only succeeds if the state is still current.
  std::function<Status(const SnapshotInfo* current)> validate;
};

struct CommitResult {
  int64_t snapshot_id = 0;
  int64_t sequence_number = 0;
  std::string metadata_location;
  std::string commit_id;  // the wikistream.commit-id of the attempt that landed
  int attempts = 0;
};

struct ScanOptions {
  std::optional<int64_t> snapshot_id;  // default: current snapshot
  // Keep only files whose partition values pass (nullptr = all).
  std::function<bool(const PartitionValues&)> partition_filter;
};

struct ExpireOptions {
  std::optional<int64_t> older_than_ms;  // expire snapshots with timestamp < this
  int retain_last = 1;                   // always keep this many newest (>= 1; the current one is kept)
};

struct MaintenanceResult {
  int64_t snapshots_expired = 0;
  int64_t files_deleted = 0;
  int64_t bytes_deleted = 0;
};

class Table {
 public:
  Table(Catalog* catalog, std::string ns, std::string name);
  ~Table();

  const std::string& ns() const { return ns_; }
  const std::string& name() const { return name_; }
  std::string location() const;           // DIR/<ns>/<name>
  std::string metadata_location() const;  // the loaded metadata file
  format::SchemaPtr schema() const;
  std::vector<std::string> partition_columns() const;
  std::map<std::string, std::string> properties() const;

  // Reloads the current metadata from the catalog.
  Status Refresh();

  std::optional<SnapshotInfo> current_snapshot() const;
  std::vector<SnapshotInfo> snapshots() const;  // oldest first
  Result<SnapshotInfo> snapshot(int64_t snapshot_id) const;
  // The newest snapshot with timestamp_ms <= t among the current snapshot's ancestors.
  Result<SnapshotInfo> SnapshotAsOf(int64_t timestamp_ms) const;
  // Summary value of the current snapshot.
  std::optional<std::string> SummaryValue(const std::string& key) const;
  // The newest snapshot in the current snapshot's ancestry whose summary has `key`.
  std::optional<SnapshotInfo> LatestSnapshotWithSummary(const std::string& key) const;

  // DIR/<ns>/<table>/data/<col>=<value>/.../<uuid>.parquet; creates the directories.
  Result<std::string> NewDataFilePath(const PartitionValues& partition);

  // Convenience: writes `batch` (the table's schema; every row in
  // `partition`) as a new zstd Parquet file at NewDataFilePath(partition) and
  // describes it for a CommitRequest. On failure the partial file is removed.
  Result<DataFile> WriteDataFile(const PartitionValues& partition, const format::RecordBatch& batch);

  Result<CommitResult> Commit(const CommitRequest& request);

  // Live data files of a snapshot.
  Result<std::vector<DataFile>> Scan(const ScanOptions& options = {}) const;
  // Files added by `append` snapshots after `from_exclusive` (or since the
  // beginning) up to and including `to`, walking `to`'s ancestry, oldest
  // first. NotFound if the history between them was expired (`from` itself
  // may be expired as long as its child is kept) or `from` is not an ancestor.
  Result<std::vector<DataFile>> FilesAddedBetween(std::optional<int64_t> from_exclusive, int64_t to) const;

  // Removes old snapshots from the metadata (never the current one), then
  // deletes manifests, manifest lists and data files only they referenced.
  Result<MaintenanceResult> ExpireSnapshots(const ExpireOptions& options);
  // Deletes files under the table location that no kept snapshot or
  // metadata file references and whose mtime is older than `older_than_ms`
  // (so files of commits in flight survive).
  Result<MaintenanceResult> RemoveOrphanFiles(int64_t older_than_ms);
  // Compaction: rewrites the live files of `partition` into one file per
  // ~target_file_bytes of input with a `replace` commit (row group by row
  // group: memory stays at one row group). With fewer than two files nothing
  // is committed and the result has attempts == 0.
  Result<CommitResult> Compact(const PartitionValues& partition, int64_t target_file_bytes = 128ll << 20);

  // Implementation detail, exposed for the catalog and tests.
  struct State;
  std::shared_ptr<const State> state() const;
  void set_state(std::shared_ptr<const State> state);

 private:
  Catalog* catalog_;
  std::string ns_;
  std::string name_;
  mutable std::mutex mu_;  // guards state_
  std::mutex commit_mu_;   // one commit of this Table object at a time
  std::shared_ptr<const State> state_;
};

// Text of a partition value as it appears in a data path segment (percent-encoded).
std::string EscapePartitionValue(const std::string& value);

}  // namespace ws::table
