// Table::Commit: the commit protocol (table.h states its contract).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include <unistd.h>

#include "table_internal.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"
#include "wikistream/table/catalog.h"
#include "wikistream/table/table.h"

namespace ws::table {

// --- commit ----------------------------------------------------------------
//
// One Commit is: check the request, make the data directories durable, then
// attempts until one lands. An attempt (1) writes the manifests of the new
// snapshot over the current state, (2) writes its manifest list and builds
// the next metadata, (3) publishes it: metadata file, then the catalog swap.
// A lost race at (3) reloads and starts the next attempt from (1).

namespace {

constexpr const char* kCommitIdKey = "wikistream.commit-id";

// Snapshot ids stay below 2^53 so JavaScript readers (avsc, JSON.parse) see them exactly.
int64_t NewSnapshotId() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  static pid_t seeded_by = getpid();
  std::lock_guard<std::mutex> lock(mu);
  // A forked child must not repeat its parent's ids.
  if (getpid() != seeded_by) {
    rng.seed(std::random_device{}());
    seeded_by = getpid();
  }
  int64_t id = 0;
  while (id == 0) id = static_cast<int64_t>(rng() & ((uint64_t{1} << 53) - 1));
  return id;
}

std::string ParentDir(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? "." : path.substr(0, pos);
}

int64_t SummaryInt(const SnapshotInfo* s, const char* key) {
  if (!s) return 0;
  auto it = s->summary.find(key);
  if (it == s->summary.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

std::string PartitionKey(const PartitionValues& p) {
  std::string k;
  for (const auto& v : p) {
    k += std::to_string(v.size());
    k += ':';
    k += v;
  }
  return k;
}

Result<StatePtr> LoadState(Catalog* catalog, const std::string& ns, const std::string& name) {
  WS_ASSIGN_OR_RETURN(std::string location, catalog->CurrentMetadataLocation(ns, name));
  WS_ASSIGN_OR_RETURN(std::string text, catalog->fs()->ReadAll(location));
  WS_ASSIGN_OR_RETURN(auto state, MetadataFromJson(text, location));
  return StatePtr(std::move(state));
}


// What one attempt's manifests change: the manifests it wrote, the base
// manifests it keeps as they are, and the counts the snapshot summary gives.
struct ManifestChanges {
  std::vector<ManifestFile> written;
  std::vector<ManifestFile> carried;
  std::set<std::string> changed_partitions;
  int64_t added_files = 0, added_records = 0, added_size = 0;
  int64_t deleted_files = 0, deleted_records = 0, deleted_size = 0;
};

// The ids one attempt writes under.
struct AttemptIds {
  int64_t snapshot_id;
  int64_t sequence_number;
  std::string meta_dir;  // the table's metadata directory
};

// InvalidArgument unless every added file and overwritten partition has the
// table's number of partition values.
Status CheckCommitRequest(const CommitRequest& req, size_t nparts, const std::string& table_name) {
  for (const auto& f : req.added_files) {
    if (f.path.empty() || f.partition.size() != nparts) {
      return Status::InvalidArgument(fmt::format("added file '{}' has {} partition values, {} has {}", f.path,
                                                 f.partition.size(), table_name, nparts));
    }
  }
  for (const auto& p : req.overwrite_partitions) {
    if (p.size() != nparts) return Status::InvalidArgument("overwrite partition with the wrong number of values");
  }
  return Status::OK();
}

// New names in data directories must be durable before the snapshot that
// references them.
Status SyncDataDirs(FileSystem* fs, const CommitRequest& req) {
  std::set<std::string> data_dirs;
  for (const auto& f : req.added_files) data_dirs.insert(ParentDir(f.path));
  for (const auto& d : data_dirs) WS_RETURN_IF_ERROR(fs->SyncDir(d).WithContext("commit"));
  return Status::OK();
}

// An existing entry as a later manifest carries it: its sequence numbers
// made explicit (they were inherited from the manifest it was read from).
ManifestEntry Carried(const ManifestEntry& e, EntryStatus status) {
  ManifestEntry r = e;
  r.status = status;
  r.sequence_number = e.file.sequence_number;
  r.file_sequence_number = e.file_sequence_number ? e.file_sequence_number : e.sequence_number;
  return r;
}

// Writes the manifest of the request's added files (none when there are none).
Status WriteAddedManifest(FileSystem* fs, const Table::State& base, const CommitRequest& req, const AttemptIds& ids,
                          ManifestChanges* ch) {
  if (req.added_files.empty()) return Status::OK();
  ManifestEntries entries;
  for (const auto& f : req.added_files) {
    ManifestEntry e;
    e.status = EntryStatus::kAdded;
    e.snapshot_id = ids.snapshot_id;
    e.file = f;
    entries.push_back(std::move(e));
    ch->added_files++;
    ch->added_records += f.stats.record_count;
    ch->added_size += f.stats.file_size_bytes;
    ch->changed_partitions.insert(PartitionKey(f.partition));
  }
  WS_ASSIGN_OR_RETURN(auto m, WriteManifest(fs, fmt::format("{}/{}-m0.avro", ids.meta_dir, NewUuid()), base, entries,
                                            ids.snapshot_id, ids.sequence_number));
  ch->written.push_back(std::move(m));
  return Status::OK();
}

// Overwrite and replace: every base manifest holding a removed file is
// rewritten with that file's entry marked deleted; the others are carried.
// Conflict when a replace's input files are no longer all live.
Status RewriteRemovedEntries(Catalog* catalog, const Table::State& base, const CommitRequest& req,
                             const std::vector<ManifestFile>& base_manifests, const AttemptIds& ids,
                             const std::string& table_name, ManifestChanges* ch) {
  std::set<std::string> parts;
  for (const auto& p : req.overwrite_partitions) parts.insert(PartitionKey(p));
  std::set<std::string> to_delete(req.deleted_files.begin(), req.deleted_files.end());
  std::set<std::string> found;
  auto removed = [&](const ManifestEntry& e) {
    if (e.status == EntryStatus::kDeleted) return false;
    if (req.operation == CommitOperation::kOverwrite) return parts.count(PartitionKey(e.file.partition)) > 0;
    return to_delete.count(e.file.path) > 0;
  };
  for (const auto& m : base_manifests) {
    WS_ASSIGN_OR_RETURN(auto entries, CachedManifest(catalog, m, base));
    if (std::none_of(entries->begin(), entries->end(), removed)) {
      ch->carried.push_back(m);
      continue;
    }
    ManifestEntries rewritten;
    for (const auto& e : *entries) {
      if (e.status == EntryStatus::kDeleted) continue;  // tombstones of older commits
      if (!removed(e)) {
        rewritten.push_back(Carried(e, EntryStatus::kExisting));
        continue;
      }
      ManifestEntry r = Carried(e, EntryStatus::kDeleted);
      r.snapshot_id = ids.snapshot_id;
      rewritten.push_back(std::move(r));
      found.insert(e.file.path);
      ch->deleted_files++;
      ch->deleted_records += e.file.stats.record_count;
      ch->deleted_size += e.file.stats.file_size_bytes;
      ch->changed_partitions.insert(PartitionKey(e.file.partition));
    }
    WS_ASSIGN_OR_RETURN(auto nm, WriteManifest(catalog->fs(), fmt::format("{}/{}-m1.avro", ids.meta_dir, NewUuid()),
                                               base, rewritten, ids.snapshot_id, ids.sequence_number));
    ch->written.push_back(std::move(nm));
  }
  if (req.operation == CommitOperation::kReplace && found.size() != to_delete.size()) {
    return Status::Conflict(fmt::format("{}: {} of the {} files to replace are no longer live", table_name,
                                        to_delete.size() - found.size(), to_delete.size()));
  }
  return Status::OK();
}

// Bounds the number of manifests a scan reads: past
// commit.manifest.min-count-to-merge the carried manifests are folded into
// one. Then the carried ones join the written ones (the snapshot's list).
Status MergeCarriedManifests(Catalog* catalog, const Table::State& base, const AttemptIds& ids, ManifestChanges* ch) {
  const int64_t merge_at = PropertyInt(base, "commit.manifest.min-count-to-merge", 100);
  if (static_cast<int64_t>(ch->carried.size() + ch->written.size()) > merge_at && ch->carried.size() > 1) {
    ManifestEntries merged;
    for (const auto& m : ch->carried) {
      WS_ASSIGN_OR_RETURN(auto entries, CachedManifest(catalog, m, base));
      for (const auto& e : *entries) {
        if (e.status != EntryStatus::kDeleted) merged.push_back(Carried(e, EntryStatus::kExisting));
      }
    }
    WS_ASSIGN_OR_RETURN(auto mm, WriteManifest(catalog->fs(), fmt::format("{}/{}-m2.avro", ids.meta_dir, NewUuid()),
                                               base, merged, ids.snapshot_id, ids.sequence_number));
    ch->written.push_back(std::move(mm));
    ch->carried.clear();
  }
  ch->written.insert(ch->written.end(), ch->carried.begin(), ch->carried.end());
  ch->carried.clear();
  return Status::OK();
}

// The snapshot an attempt adds, with Iceberg's summary counts.
SnapshotInfo NewSnapshot(const CommitRequest& req, const Table::State& base, const SnapshotInfo* parent,
                         const AttemptIds& ids, const std::string& commit_id, const std::string& list_path,
                         const ManifestChanges& ch) {
  int64_t total_files = 0, total_records = 0;
  for (const auto& m : ch.written) {
    total_files += m.added_files + m.existing_files;
    total_records += m.added_rows + m.existing_rows;
  }
  SnapshotInfo snap;
  snap.snapshot_id = ids.snapshot_id;
  if (parent) snap.parent_id = parent->snapshot_id;
  snap.sequence_number = ids.sequence_number;
  snap.timestamp_ms = std::max(NowMicros() / 1000, parent ? parent->timestamp_ms : 0);
  snap.operation = req.operation == CommitOperation::kAppend      ? "append"
                   : req.operation == CommitOperation::kOverwrite ? "overwrite"
                                                                  : "replace";
  snap.summary = req.summary;
  snap.summary["operation"] = snap.operation;
  snap.summary[kCommitIdKey] = commit_id;
  snap.summary["added-data-files"] = std::to_string(ch.added_files);
  snap.summary["added-records"] = std::to_string(ch.added_records);
  snap.summary["added-files-size"] = std::to_string(ch.added_size);
  snap.summary["deleted-data-files"] = std::to_string(ch.deleted_files);
  snap.summary["deleted-records"] = std::to_string(ch.deleted_records);
  snap.summary["removed-files-size"] = std::to_string(ch.deleted_size);
  snap.summary["changed-partition-count"] = std::to_string(ch.changed_partitions.size());
  snap.summary["total-data-files"] = std::to_string(total_files);
  snap.summary["total-records"] = std::to_string(total_records);
  snap.summary["total-files-size"] =
      std::to_string(std::max<int64_t>(0, SummaryInt(parent, "total-files-size") + ch.added_size - ch.deleted_size));
  snap.summary["total-delete-files"] = "0";
  snap.summary["total-position-deletes"] = "0";
  snap.summary["total-equality-deletes"] = "0";
  snap.manifest_list = list_path;
  snap.schema_id = base.schema->schema_id();
  return snap;
}

// The next metadata of one attempt: the request applied to `base` (steps 1
// and 2 above), everything but the metadata file written.
Result<std::shared_ptr<Table::State>> PrepareNextState(Catalog* catalog, const Table::State& base,
                                                       const CommitRequest& req, int attempt,
                                                       const std::string& commit_id, const std::string& table_name) {
  FileSystem* fs = catalog->fs();
  const SnapshotInfo* parent = base.Current();
  const AttemptIds ids{NewSnapshotId(), base.last_sequence_number + 1, base.location + "/metadata"};
  std::vector<ManifestFile> base_manifests;
  if (parent) {
    WS_ASSIGN_OR_RETURN(auto list, CachedManifestList(catalog, parent->manifest_list));
    base_manifests = *list;
  }
  ManifestChanges ch;
  WS_RETURN_IF_ERROR(WriteAddedManifest(fs, base, req, ids, &ch));
  if (req.operation == CommitOperation::kAppend) {
    ch.carried = base_manifests;
  } else {
    WS_RETURN_IF_ERROR(RewriteRemovedEntries(catalog, base, req, base_manifests, ids, table_name, &ch));
  }
  WS_RETURN_IF_ERROR(MergeCarriedManifests(catalog, base, ids, &ch));

  std::string list_path = fmt::format("{}/snap-{}-{}-{}.avro", ids.meta_dir, ids.snapshot_id, attempt, NewUuid());
  WS_RETURN_IF_ERROR(WriteManifestList(fs, list_path, ids.snapshot_id,
                                       parent ? std::optional<int64_t>(parent->snapshot_id) : std::nullopt,
                                       ids.sequence_number, ch.written));
  RememberManifestList(catalog, list_path, ch.written);
  // The manifests' and the list's names become durable with the metadata
  // file's directory sync (same directory), before the swap.
  SnapshotInfo snap = NewSnapshot(req, base, parent, ids, commit_id, list_path, ch);
  auto next = std::make_shared<Table::State>(base);
  next->snapshots.push_back(snap);
  next->current_snapshot_id = snap.snapshot_id;
  next->last_sequence_number = snap.sequence_number;
  next->last_updated_ms = snap.timestamp_ms;
  next->snapshot_log.emplace_back(snap.timestamp_ms, snap.snapshot_id);
  AppendMetadataLog(base, next.get());
  return next;
}

// Whether a snapshot of `state` carries `commit_id`.
bool CarriesCommit(const Table::State& state, const std::string& commit_id) {
  for (const auto& s : state.snapshots) {
    auto it = s.summary.find(kCommitIdKey);
    if (it != s.summary.end() && it->second == commit_id) return true;
  }
  return false;
}

// Step 3: writes next's metadata file and swaps the catalog pointer from
// base's. True when the attempt landed, false when it lost a race (*lost
// says why; the caller reloads and retries), an error when the write failed
// or the outcome is unknown (Unavailable, naming the commit id).
Result<bool> Publish(Catalog* catalog, const Table& table, const Table::State& base, Table::State* next,
                     const std::string& commit_id, Status* lost) {
  const std::string name = fmt::format("{}.{}", table.ns(), table.name());
  Status written = WriteMetadataFile(catalog, table, base, next);
  if (written.IsConflict()) {
    *lost = written;
    return false;
  }
  WS_RETURN_IF_ERROR(written);

  const auto& hook = catalog->options().commit_hook;
  if (hook) WS_RETURN_IF_ERROR(hook("before-swap"));
  Status swap =
      catalog->SwapMetadataLocation(table.ns(), table.name(), base.metadata_location, next->metadata_location);
  if (swap.IsConflict()) {
    // Another writer's swap won; nothing references our metadata file.
    catalog->fs()->RemoveLeftover(next->metadata_location);
    *lost = swap;
    return false;
  }
  if (swap.ok() && hook) swap = hook("after-swap");
  if (swap.code() == Status::Code::kUnavailable) {
    // The backend could not settle the outcome (the catalog is unreachable,
    // or the session that sent the swap may still apply it): reading now
    // could miss a swap that lands later, so say so instead of guessing.
    return Status::Unavailable(fmt::format("commit to {} has an unknown outcome ({}); commit id {}", name,
                                           swap.message(), commit_id));
  }
  if (swap.ok()) return true;
  // Outcome unknown but settled: the swap may or may not have happened.
  // The catalog decides; our attempt landed iff a snapshot carries its commit id.
  auto resolved = LoadState(catalog, table.ns(), table.name());
  if (!resolved.ok()) {
    return Status::Unavailable(fmt::format("commit to {} has an unknown outcome ({}); commit id {}", name,
                                           swap.ToString(), commit_id));
  }
  if (!CarriesCommit(**resolved, commit_id)) {
    log::Warn("table", "commit {} to {} did not land ({}); retrying", commit_id, name, swap.ToString());
    catalog->fs()->RemoveLeftover(next->metadata_location);
    *lost = swap;
    return false;
  }
  log::Info("table", "commit {} to {} landed despite: {}", commit_id, name, swap.ToString());
  return true;
}

}  // namespace

Result<CommitResult> Table::Commit(const CommitRequest& req) {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  FileSystem* fs = catalog_->fs();
  if (!state()) WS_RETURN_IF_ERROR(Refresh());
  const std::string table_name = fmt::format("{}.{}", ns_, name_);
  WS_RETURN_IF_ERROR(CheckCommitRequest(req, state()->partition_fields.size(), table_name));
  WS_RETURN_IF_ERROR(SyncDataDirs(fs, req));

  const int max_attempts = std::max(1, req.max_attempts);
  Status last = Status::Conflict("no attempt made");
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (attempt > 1) {
      // Jittered backoff so two losers of the same race do not collide again.
      static thread_local std::mt19937 rng{std::random_device{}()};
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, 5 * attempt)(rng)));
      WS_RETURN_IF_ERROR(Refresh());
    }
    StatePtr base = state();
    if (req.validate) WS_RETURN_IF_ERROR(req.validate(base->Current()));
    const std::string commit_id = NewUuid();
    WS_ASSIGN_OR_RETURN(std::shared_ptr<State> next,
                        PrepareNextState(catalog_, *base, req, attempt, commit_id, table_name));
    WS_ASSIGN_OR_RETURN(bool landed, Publish(catalog_, *this, *base, next.get(), commit_id, &last));
    if (!landed) continue;
    set_state(next);
    WriteVersionHint(catalog_, *next);
    DeleteDroppedMetadata(fs, *base, *next);
    CommitResult result;
    result.snapshot_id = *next->current_snapshot_id;
    result.sequence_number = next->last_sequence_number;
    result.metadata_location = next->metadata_location;
    result.commit_id = commit_id;
    result.attempts = attempt;
    return result;
  }
  return Status::Conflict(fmt::format("commit to {}.{} gave up after {} attempts: {}", ns_, name_, max_attempts,
                                      last.message()));
}

}  // namespace ws::table
