// Table: loading, the commit protocol, scans and maintenance.
#include "wikistream/table/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include <unistd.h>

#include "table_internal.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"
#include "wikistream/table/catalog.h"

namespace ws::table {

using format::SchemaPtr;

namespace {

constexpr const char* kCommitIdKey = "wikistream.commit-id";
constexpr size_t kMaxCachedManifests = 4096;
// A snapshot's manifest list repeats its parent's entries, so keeping every
// snapshot's list would cost memory quadratic in the commits since the last
// compaction. Only recent lists are read again (a commit reads its parent's,
// a scan the current one's); older ones, read once by FilesAddedBetween or
// maintenance, are cheap to re-read.
constexpr size_t kMaxCachedManifestLists = 64;

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

std::string Normal(const std::string& p) { return NormalizeLocation(p); }

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

int64_t PropertyInt(const Table::State& st, const std::string& key, int64_t fallback) {
  auto it = st.properties.find(key);
  if (it == st.properties.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

Result<StatePtr> LoadState(Catalog* catalog, const std::string& ns, const std::string& name) {
  WS_ASSIGN_OR_RETURN(std::string location, catalog->CurrentMetadataLocation(ns, name));
  WS_ASSIGN_OR_RETURN(std::string text, catalog->fs()->ReadAll(location));
  WS_ASSIGN_OR_RETURN(auto state, MetadataFromJson(text, location));
  return StatePtr(std::move(state));
}

Result<std::shared_ptr<const std::vector<ManifestFile>>> CachedManifestList(Catalog* catalog, const std::string& path) {
  auto* cache = catalog->manifest_cache();
  {
    std::lock_guard<std::mutex> lock(cache->mu);
    auto it = cache->lists.find(path);
    if (it != cache->lists.end()) return it->second;
  }
  WS_ASSIGN_OR_RETURN(auto list, ReadManifestList(catalog->fs(), path));
  auto ptr = std::make_shared<const std::vector<ManifestFile>>(std::move(list));
  std::lock_guard<std::mutex> lock(cache->mu);
  if (cache->lists.size() >= kMaxCachedManifestLists) cache->lists.clear();
  cache->lists[path] = ptr;
  return ptr;
}

// Manifests are immutable and uniquely named, so their parsed entries
// (after sequence-number inheritance, which only depends on the manifest's
// own list row) can be shared by every reader of the catalog.
Result<std::shared_ptr<const ManifestEntries>> CachedManifest(Catalog* catalog, const ManifestFile& info,
                                                              const Table::State& state) {
  auto* cache = catalog->manifest_cache();
  {
    std::lock_guard<std::mutex> lock(cache->mu);
    auto it = cache->manifests.find(info.path);
    if (it != cache->manifests.end()) return it->second;
  }
  WS_ASSIGN_OR_RETURN(auto entries, ReadManifest(catalog->fs(), info, state));
  auto ptr = std::make_shared<const ManifestEntries>(std::move(entries));
  std::lock_guard<std::mutex> lock(cache->mu);
  if (cache->manifests.size() >= kMaxCachedManifests) cache->manifests.clear();
  cache->manifests[info.path] = ptr;
  return ptr;
}

// Writes the metadata file of `next` as the first free vN.metadata.json
// after base's version (a failed earlier attempt may have left a name taken).
Status WriteMetadataFile(Catalog* catalog, const Table& table, const Table::State& base, Table::State* next) {
  FileSystem* fs = catalog->fs();
  std::string meta_dir = base.location + "/metadata";
  for (int64_t v = base.version + 1; v < base.version + 64; ++v) {
    next->version = v;
    next->metadata_location = fmt::format("{}/v{}.metadata.json", meta_dir, v);
    Status s = fs->WriteFileDurably(next->metadata_location, MetadataToJson(*next), /*no_clobber=*/true);
    if (s.ok() || s.code() != Status::Code::kAlreadyExists) return s;
    WS_ASSIGN_OR_RETURN(std::string current, catalog->CurrentMetadataLocation(table.ns(), table.name()));
    if (current != base.metadata_location) return Status::Conflict("table moved on while writing metadata");
  }
  return Status::IOError("no free metadata file name in " + meta_dir);
}

void AppendMetadataLog(const Table::State& base, Table::State* next) {
  next->metadata_log.emplace_back(base.last_updated_ms, base.metadata_location);
  size_t keep = static_cast<size_t>(std::max<int64_t>(1, PropertyInt(base, "write.metadata.previous-versions-max", 100)));
  if (next->metadata_log.size() > keep) {
    next->metadata_log.erase(next->metadata_log.begin(),
                             next->metadata_log.begin() + static_cast<std::ptrdiff_t>(next->metadata_log.size() - keep));
  }
}

// Iceberg's write.metadata.delete-after-commit: the metadata file that fell
// off the metadata log is deleted, so a table keeps a bounded number of
// versions (enabled unless the property says "false").
void DeleteDroppedMetadata(FileSystem* fs, const Table::State& base, const Table::State& next) {
  auto it = next.properties.find("write.metadata.delete-after-commit.enabled");
  if (it != next.properties.end() && it->second == "false") return;
  std::set<std::string> kept{next.metadata_location};
  for (const auto& [ts, file] : next.metadata_log) kept.insert(file);
  std::vector<std::string> candidates{base.metadata_location};
  for (const auto& [ts, file] : base.metadata_log) candidates.push_back(file);
  for (const auto& file : candidates) {
    if (kept.count(file)) continue;
    Status s = fs->Remove(file);
    if (!s.ok() && !s.IsNotFound()) log::Warn("table", "delete old metadata {}: {}", file, s.ToString());
  }
}

void WriteVersionHint(FileSystem* fs, const Table::State& st) {
  // Best effort: the catalog is the source of truth; path-based readers may
  // briefly see the previous (complete) version if this fails.
  Status s = fs->ReplaceFileAtomically(st.location + "/metadata/version-hint.text", std::to_string(st.version));
  if (!s.ok()) log::Warn("table", "version hint for {}: {}", st.location, s.ToString());
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

}  // namespace

std::string EscapePartitionValue(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Table::Table(Catalog* catalog, std::string ns, std::string name)
    : catalog_(catalog), ns_(std::move(ns)), name_(std::move(name)) {}
Table::~Table() = default;

std::shared_ptr<const Table::State> Table::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void Table::set_state(std::shared_ptr<const State> state) {
  std::lock_guard<std::mutex> lock(mu_);
  // Never move backwards: a concurrent Refresh may have loaded a newer
  // version (versions only grow: each is its base's + 1 or more).
  if (state_ && state && state_->version > state->version) return;
  state_ = std::move(state);
}

std::string Table::location() const { return catalog_->TableLocation(ns_, name_); }
std::string Table::metadata_location() const { return state()->metadata_location; }
SchemaPtr Table::schema() const { return state()->schema; }
std::map<std::string, std::string> Table::properties() const { return state()->properties; }

std::vector<std::string> Table::partition_columns() const {
  std::vector<std::string> out;
  for (const auto& p : state()->partition_fields) out.push_back(p.name);
  return out;
}

Status Table::Refresh() {
  WS_ASSIGN_OR_RETURN(std::string location, catalog_->CurrentMetadataLocation(ns_, name_));
  auto cur = state();
  if (cur && cur->metadata_location == location) return Status::OK();
  WS_ASSIGN_OR_RETURN(std::string text, catalog_->fs()->ReadAll(location));
  WS_ASSIGN_OR_RETURN(auto st, MetadataFromJson(text, location));
  set_state(std::move(st));
  return Status::OK();
}

std::optional<SnapshotInfo> Table::current_snapshot() const {
  auto st = state();
  const SnapshotInfo* s = st->Current();
  if (!s) return std::nullopt;
  return *s;
}

std::vector<SnapshotInfo> Table::snapshots() const { return state()->snapshots; }

Result<SnapshotInfo> Table::snapshot(int64_t snapshot_id) const {
  auto st = state();
  const SnapshotInfo* s = st->FindSnapshot(snapshot_id);
  if (!s) return Status::NotFound(fmt::format("snapshot {} of {}.{} does not exist", snapshot_id, ns_, name_));
  return *s;
}

Result<SnapshotInfo> Table::SnapshotAsOf(int64_t timestamp_ms) const {
  auto st = state();
  if (st->current_snapshot_id) {
    for (const SnapshotInfo* s : st->Ancestry(*st->current_snapshot_id)) {
      if (s->timestamp_ms <= timestamp_ms) return *s;
    }
  }
  return Status::NotFound(fmt::format("{}.{} has no snapshot at or before {} ms", ns_, name_, timestamp_ms));
}

std::optional<std::string> Table::SummaryValue(const std::string& key) const {
  auto st = state();
  const SnapshotInfo* s = st->Current();
  if (!s) return std::nullopt;
  auto it = s->summary.find(key);
  if (it == s->summary.end()) return std::nullopt;
  return it->second;
}

std::optional<SnapshotInfo> Table::LatestSnapshotWithSummary(const std::string& key) const {
  auto st = state();
  if (!st->current_snapshot_id) return std::nullopt;
  for (const SnapshotInfo* s : st->Ancestry(*st->current_snapshot_id)) {
    if (s->summary.count(key)) return *s;
  }
  return std::nullopt;
}

Result<std::string> Table::NewDataFilePath(const PartitionValues& partition) {
  auto st = state();
  if (partition.size() != st->partition_fields.size()) {
    return Status::InvalidArgument(fmt::format("{}.{} has {} partition columns, got {} values", ns_, name_,
                                               st->partition_fields.size(), partition.size()));
  }
  std::string dir = st->location + "/data";
  for (size_t i = 0; i < partition.size(); ++i) {
    dir += "/" + st->partition_fields[i].name + "=" + EscapePartitionValue(partition[i]);
  }
  WS_RETURN_IF_ERROR(catalog_->fs()->CreateDirs(dir));
  return dir + "/" + NewUuid() + ".parquet";
}

// --- commit ----------------------------------------------------------------

namespace {

struct Attempt {
  std::shared_ptr<Table::State> next;
  std::string commit_id;
  bool retryable = false;  // the failure was a lost race: reload and try again
};

}  // namespace

Result<CommitResult> Table::Commit(const CommitRequest& req) {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  FileSystem* fs = catalog_->fs();
  if (!state()) WS_RETURN_IF_ERROR(Refresh());
  const size_t nparts = state()->partition_fields.size();
  for (const auto& f : req.added_files) {
    if (f.path.empty() || f.partition.size() != nparts) {
      return Status::InvalidArgument(fmt::format("added file '{}' has {} partition values, {}.{} has {}", f.path,
                                                 f.partition.size(), ns_, name_, nparts));
    }
  }
  for (const auto& p : req.overwrite_partitions) {
    if (p.size() != nparts) return Status::InvalidArgument("overwrite partition with the wrong number of values");
  }
  // New names in data directories must be durable before the snapshot that references them.
  std::set<std::string> data_dirs;
  for (const auto& f : req.added_files) data_dirs.insert(ParentDir(f.path));
  for (const auto& d : data_dirs) WS_RETURN_IF_ERROR(fs->SyncDir(d).WithContext("commit"));

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
    const SnapshotInfo* parent = base->Current();
    if (req.validate) WS_RETURN_IF_ERROR(req.validate(parent));

    const int64_t snap_id = NewSnapshotId();
    const int64_t seq = base->last_sequence_number + 1;
    const std::string commit_id = NewUuid();
    const std::string meta_dir = base->location + "/metadata";

    std::vector<ManifestFile> base_manifests;
    if (parent) {
      WS_ASSIGN_OR_RETURN(auto list, CachedManifestList(catalog_, parent->manifest_list));
      base_manifests = *list;
    }
    std::vector<ManifestFile> new_list;
    std::vector<ManifestFile> carried;
    std::set<std::string> changed_partitions;
    int64_t added_files = 0, added_records = 0, added_size = 0;
    int64_t deleted_files = 0, deleted_records = 0, deleted_size = 0;

    if (!req.added_files.empty()) {
      ManifestEntries entries;
      for (const auto& f : req.added_files) {
        ManifestEntry e;
        e.status = EntryStatus::kAdded;
        e.snapshot_id = snap_id;
        e.file = f;
        entries.push_back(std::move(e));
        added_files++;
        added_records += f.stats.record_count;
        added_size += f.stats.file_size_bytes;
        changed_partitions.insert(PartitionKey(f.partition));
      }
      WS_ASSIGN_OR_RETURN(auto m, WriteManifest(fs, fmt::format("{}/{}-m0.avro", meta_dir, NewUuid()), *base, entries,
                                                snap_id, seq));
      new_list.push_back(std::move(m));
    }

    if (req.operation == CommitOperation::kAppend) {
      carried = base_manifests;
    } else {
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
        WS_ASSIGN_OR_RETURN(auto entries, CachedManifest(catalog_, m, *base));
        if (std::none_of(entries->begin(), entries->end(), removed)) {
          carried.push_back(m);
          continue;
        }
        ManifestEntries rewritten;
        for (const auto& e : *entries) {
          if (e.status == EntryStatus::kDeleted) continue;  // tombstones of older commits
          ManifestEntry r = e;
          r.sequence_number = e.file.sequence_number;
          r.file_sequence_number = e.file_sequence_number ? e.file_sequence_number : e.sequence_number;
          if (removed(e)) {
            r.status = EntryStatus::kDeleted;
            r.snapshot_id = snap_id;
            found.insert(e.file.path);
            deleted_files++;
            deleted_records += e.file.stats.record_count;
            deleted_size += e.file.stats.file_size_bytes;
            changed_partitions.insert(PartitionKey(e.file.partition));
          } else {
            r.status = EntryStatus::kExisting;
          }
          rewritten.push_back(std::move(r));
        }
        WS_ASSIGN_OR_RETURN(auto nm, WriteManifest(fs, fmt::format("{}/{}-m1.avro", meta_dir, NewUuid()), *base,
                                                   rewritten, snap_id, seq));
        new_list.push_back(std::move(nm));
      }
      if (req.operation == CommitOperation::kReplace && found.size() != to_delete.size()) {
        return Status::Conflict(fmt::format("{}.{}: {} of the {} files to replace are no longer live", ns_, name_,
                                            to_delete.size() - found.size(), to_delete.size()));
      }
    }

    // Bound the number of manifests a scan reads: fold the carried ones into one.
    const int64_t merge_at = PropertyInt(*base, "commit.manifest.min-count-to-merge", 100);
    if (static_cast<int64_t>(carried.size() + new_list.size()) > merge_at && carried.size() > 1) {
      ManifestEntries merged;
      for (const auto& m : carried) {
        WS_ASSIGN_OR_RETURN(auto entries, CachedManifest(catalog_, m, *base));
        for (const auto& e : *entries) {
          if (e.status == EntryStatus::kDeleted) continue;
          ManifestEntry r = e;
          r.status = EntryStatus::kExisting;
          r.sequence_number = e.file.sequence_number;
          r.file_sequence_number = e.file_sequence_number ? e.file_sequence_number : e.sequence_number;
          merged.push_back(std::move(r));
        }
      }
      WS_ASSIGN_OR_RETURN(auto mm, WriteManifest(fs, fmt::format("{}/{}-m2.avro", meta_dir, NewUuid()), *base, merged,
                                                 snap_id, seq));
      new_list.push_back(std::move(mm));
      carried.clear();
    }
    new_list.insert(new_list.end(), carried.begin(), carried.end());

    std::string list_path = fmt::format("{}/snap-{}-{}-{}.avro", meta_dir, snap_id, attempt, NewUuid());
    WS_RETURN_IF_ERROR(WriteManifestList(fs, list_path, snap_id,
                                         parent ? std::optional<int64_t>(parent->snapshot_id) : std::nullopt, seq,
                                         new_list));
    // The manifests' and the list's names become durable with the metadata
    // file's directory sync below (same directory), before the swap.

    int64_t total_files = 0, total_records = 0;
    for (const auto& m : new_list) {
      total_files += m.added_files + m.existing_files;
      total_records += m.added_rows + m.existing_rows;
    }
    SnapshotInfo snap;
    snap.snapshot_id = snap_id;
    if (parent) snap.parent_id = parent->snapshot_id;
    snap.sequence_number = seq;
    snap.timestamp_ms = std::max(NowMicros() / 1000, parent ? parent->timestamp_ms : 0);
    snap.operation = req.operation == CommitOperation::kAppend      ? "append"
                     : req.operation == CommitOperation::kOverwrite ? "overwrite"
                                                                    : "replace";
    snap.summary = req.summary;
    snap.summary["operation"] = snap.operation;
    snap.summary[kCommitIdKey] = commit_id;
    snap.summary["added-data-files"] = std::to_string(added_files);
    snap.summary["added-records"] = std::to_string(added_records);
    snap.summary["added-files-size"] = std::to_string(added_size);
    snap.summary["deleted-data-files"] = std::to_string(deleted_files);
    snap.summary["deleted-records"] = std::to_string(deleted_records);
    snap.summary["removed-files-size"] = std::to_string(deleted_size);
    snap.summary["changed-partition-count"] = std::to_string(changed_partitions.size());
    snap.summary["total-data-files"] = std::to_string(total_files);
    snap.summary["total-records"] = std::to_string(total_records);
    snap.summary["total-files-size"] =
        std::to_string(std::max<int64_t>(0, SummaryInt(parent, "total-files-size") + added_size - deleted_size));
    snap.summary["total-delete-files"] = "0";
    snap.summary["total-position-deletes"] = "0";
    snap.summary["total-equality-deletes"] = "0";
    snap.manifest_list = list_path;
    snap.schema_id = base->schema->schema_id();

    auto next = std::make_shared<State>(*base);
    next->snapshots.push_back(snap);
    next->current_snapshot_id = snap_id;
    next->last_sequence_number = seq;
    next->last_updated_ms = snap.timestamp_ms;
    next->snapshot_log.emplace_back(snap.timestamp_ms, snap_id);
    AppendMetadataLog(*base, next.get());
    Status written = WriteMetadataFile(catalog_, *this, *base, next.get());
    if (written.IsConflict()) {
      last = written;
      continue;
    }
    WS_RETURN_IF_ERROR(written);

    const auto& hook = catalog_->options().commit_hook;
    if (hook) WS_RETURN_IF_ERROR(hook("before-swap"));
    Status swap = catalog_->SwapMetadataLocation(ns_, name_, base->metadata_location, next->metadata_location);
    if (swap.IsConflict()) {
      last = swap;
      continue;
    }
    if (swap.ok() && hook) swap = hook("after-swap");
    if (swap.code() == Status::Code::kUnavailable) {
      // The backend could not settle the outcome (the catalog is unreachable,
      // or the session that sent the swap may still apply it): reading now
      // could miss a swap that lands later, so say so instead of guessing.
      return Status::Unavailable(fmt::format("commit to {}.{} has an unknown outcome ({}); commit id {}", ns_, name_,
                                             swap.message(), commit_id));
    }
    if (!swap.ok()) {
      // Outcome unknown but settled: the swap may or may not have happened.
      // The catalog decides; our attempt landed iff a snapshot carries its commit id.
      auto resolved = LoadState(catalog_, ns_, name_);
      if (!resolved.ok()) {
        return Status::Unavailable(fmt::format("commit to {}.{} has an unknown outcome ({}); commit id {}", ns_, name_,
                                               swap.ToString(), commit_id));
      }
      bool landed = false;
      for (const auto& s : (*resolved)->snapshots) {
        auto it = s.summary.find(kCommitIdKey);
        if (it != s.summary.end() && it->second == commit_id) landed = true;
      }
      if (!landed) {
        log::Warn("table", "commit {} to {}.{} did not land ({}); retrying", commit_id, ns_, name_, swap.ToString());
        last = swap;
        continue;
      }
      log::Info("table", "commit {} to {}.{} landed despite: {}", commit_id, ns_, name_, swap.ToString());
    }
    set_state(next);
    WriteVersionHint(fs, *next);
    DeleteDroppedMetadata(fs, *base, *next);
    CommitResult result;
    result.snapshot_id = snap_id;
    result.sequence_number = seq;
    result.metadata_location = next->metadata_location;
    result.commit_id = commit_id;
    result.attempts = attempt;
    return result;
  }
  return Status::Conflict(fmt::format("commit to {}.{} gave up after {} attempts: {}", ns_, name_, max_attempts,
                                      last.message()));
}

// --- scans -----------------------------------------------------------------

Result<std::vector<DataFile>> Table::Scan(const ScanOptions& options) const {
  auto st = state();
  const SnapshotInfo* snap = nullptr;
  if (options.snapshot_id) {
    snap = st->FindSnapshot(*options.snapshot_id);
    if (!snap) return Status::NotFound(fmt::format("snapshot {} of {}.{} does not exist", *options.snapshot_id, ns_, name_));
  } else {
    snap = st->Current();
  }
  std::vector<DataFile> out;
  if (!snap) return out;
  WS_ASSIGN_OR_RETURN(auto list, CachedManifestList(catalog_, snap->manifest_list));
  for (const auto& m : *list) {
    if (m.added_files + m.existing_files == 0) continue;
    WS_ASSIGN_OR_RETURN(auto entries, CachedManifest(catalog_, m, *st));
    for (const auto& e : *entries) {
      if (e.status == EntryStatus::kDeleted) continue;
      if (options.partition_filter && !options.partition_filter(e.file.partition)) continue;
      out.push_back(e.file);
    }
  }
  return out;
}

Result<std::vector<DataFile>> Table::FilesAddedBetween(std::optional<int64_t> from_exclusive, int64_t to) const {
  auto st = state();
  if (!st->FindSnapshot(to)) return Status::NotFound(fmt::format("snapshot {} of {}.{} does not exist", to, ns_, name_));
  std::vector<const SnapshotInfo*> chain;
  bool reached = !from_exclusive.has_value();
  for (const SnapshotInfo* s : st->Ancestry(to)) {
    if (from_exclusive && s->snapshot_id == *from_exclusive) {
      reached = true;
      break;
    }
    chain.push_back(s);
  }
  // `from` itself may be expired while its child is kept: still a precise boundary.
  if (!reached && !chain.empty() && chain.back()->parent_id == from_exclusive) reached = true;
  if (!reached) {
    return Status::NotFound(fmt::format("snapshot {} is not an ancestor of {} in {}.{} (expired?)", *from_exclusive,
                                        to, ns_, name_));
  }
  if (!from_exclusive && !chain.empty() && chain.back()->parent_id) {
    return Status::NotFound(fmt::format("history of {}.{} before snapshot {} was expired", ns_, name_,
                                        chain.back()->snapshot_id));
  }
  std::reverse(chain.begin(), chain.end());
  std::vector<DataFile> out;
  for (const SnapshotInfo* s : chain) {
    if (s->operation != "append") continue;
    WS_ASSIGN_OR_RETURN(auto list, CachedManifestList(catalog_, s->manifest_list));
    for (const auto& m : *list) {
      if (m.added_snapshot_id != s->snapshot_id || m.added_files == 0) continue;
      WS_ASSIGN_OR_RETURN(auto entries, CachedManifest(catalog_, m, *st));
      for (const auto& e : *entries) {
        if (e.status == EntryStatus::kAdded && e.snapshot_id == s->snapshot_id) out.push_back(e.file);
      }
    }
  }
  return out;
}

// --- maintenance -------------------------------------------------------------

namespace {

struct Reachable {
  std::set<std::string> lists, manifests, data;
};

// Everything the given snapshots reference (data files: only where live,
// unless `sizes` is given, which collects candidates for deletion). Missing files (already removed
// by an interrupted earlier run) are skipped when `tolerate_missing`.
Status CollectReachable(Catalog* catalog, const Table::State& st, const std::vector<const SnapshotInfo*>& snaps,
                        bool tolerate_missing, Reachable* out, std::map<std::string, int64_t>* sizes) {
  for (const SnapshotInfo* s : snaps) {
    out->lists.insert(Normal(s->manifest_list));
    auto list = CachedManifestList(catalog, s->manifest_list);
    if (!list.ok()) {
      if (tolerate_missing && list.status().IsNotFound()) continue;
      return list.status();
    }
    for (const auto& m : **list) {
      if (!out->manifests.insert(Normal(m.path)).second) continue;
      if (sizes) (*sizes)[Normal(m.path)] = m.length;
      auto entries = CachedManifest(catalog, m, st);
      if (!entries.ok()) {
        if (tolerate_missing && entries.status().IsNotFound()) continue;
        return entries.status();
      }
      for (const auto& e : **entries) {
        // A tombstone does not keep a file: it is kept by the snapshots in which it is live.
        if (!sizes && e.status == EntryStatus::kDeleted) continue;
        out->data.insert(Normal(e.file.path));
        if (sizes) (*sizes)[Normal(e.file.path)] = e.file.stats.file_size_bytes;
      }
    }
  }
  return Status::OK();
}

}  // namespace

Result<MaintenanceResult> Table::ExpireSnapshots(const ExpireOptions& options) {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  FileSystem* fs = catalog_->fs();
  MaintenanceResult result;
  for (int attempt = 1; attempt <= 10; ++attempt) {
    WS_RETURN_IF_ERROR(Refresh());
    StatePtr base = state();
    if (!base->current_snapshot_id) return result;
    std::vector<const SnapshotInfo*> by_age;
    for (const auto& s : base->snapshots) by_age.push_back(&s);
    std::sort(by_age.begin(), by_age.end(), [](const SnapshotInfo* a, const SnapshotInfo* b) {
      return a->sequence_number > b->sequence_number;
    });
    std::set<int64_t> keep;
    const size_t retain = static_cast<size_t>(std::max(1, options.retain_last));
    for (size_t i = 0; i < by_age.size(); ++i) {
      const SnapshotInfo* s = by_age[i];
      bool young = options.older_than_ms && s->timestamp_ms >= *options.older_than_ms;
      if (i < retain || young || s->snapshot_id == *base->current_snapshot_id) keep.insert(s->snapshot_id);
    }
    if (keep.size() == base->snapshots.size()) return result;

    auto next = std::make_shared<State>(*base);
    next->snapshots.clear();
    std::vector<const SnapshotInfo*> kept, expired;
    for (const auto& s : base->snapshots) {
      if (keep.count(s.snapshot_id)) {
        next->snapshots.push_back(s);
        kept.push_back(&s);
      } else {
        expired.push_back(&s);
      }
    }
    next->snapshot_log.clear();
    for (const auto& e : base->snapshot_log) {
      if (keep.count(e.second)) next->snapshot_log.push_back(e);
    }
    next->last_updated_ms = std::max(NowMicros() / 1000, base->last_updated_ms);
    AppendMetadataLog(*base, next.get());
    // Read what the expired snapshots reference before anything changes.
    Reachable live, dead;
    std::map<std::string, int64_t> sizes;
    WS_RETURN_IF_ERROR(CollectReachable(catalog_, *base, kept, false, &live, nullptr));
    WS_RETURN_IF_ERROR(CollectReachable(catalog_, *base, expired, true, &dead, &sizes));

    Status written = WriteMetadataFile(catalog_, *this, *base, next.get());
    if (written.IsConflict()) continue;
    WS_RETURN_IF_ERROR(written);
    Status swap = catalog_->SwapMetadataLocation(ns_, name_, base->metadata_location, next->metadata_location);
    if (swap.IsConflict()) continue;
    WS_RETURN_IF_ERROR(swap);
    set_state(next);
    WriteVersionHint(fs, *next);
    DeleteDroppedMetadata(fs, *base, *next);
    result.snapshots_expired = static_cast<int64_t>(expired.size());
    auto remove = [&](const std::set<std::string>& candidates, const std::set<std::string>& reachable) {
      for (const auto& p : candidates) {
        if (reachable.count(p)) continue;
        Status s = fs->Remove(p);
        if (s.ok()) {
          result.files_deleted++;
          result.bytes_deleted += sizes.count(p) ? sizes[p] : 0;
        } else if (!s.IsNotFound()) {
          log::Warn("table", "expire {}.{}: {}", ns_, name_, s.ToString());
        }
      }
    };
    // Data files first, then the metadata that points at them, so an
    // interrupted run can be finished by RemoveOrphanFiles.
    remove(dead.data, live.data);
    remove(dead.manifests, live.manifests);
    remove(dead.lists, live.lists);
    return result;
  }
  return Status::Conflict(fmt::format("expire snapshots of {}.{}: too many concurrent commits", ns_, name_));
}

Result<MaintenanceResult> Table::RemoveOrphanFiles(int64_t older_than_ms) {
  WS_RETURN_IF_ERROR(Refresh());
  StatePtr st = state();
  FileSystem* fs = catalog_->fs();
  std::vector<const SnapshotInfo*> all;
  for (const auto& s : st->snapshots) all.push_back(&s);
  Reachable live;
  WS_RETURN_IF_ERROR(CollectReachable(catalog_, *st, all, false, &live, nullptr));
  std::set<std::string> keep = live.data;
  keep.insert(live.manifests.begin(), live.manifests.end());
  keep.insert(live.lists.begin(), live.lists.end());
  keep.insert(Normal(st->metadata_location));
  for (const auto& [ts, file] : st->metadata_log) keep.insert(Normal(file));
  keep.insert(Normal(st->location + "/metadata/version-hint.text"));
  MaintenanceResult result;
  auto files = fs->ListRecursive(st->location);
  if (!files.ok()) return files.status().IsNotFound() ? Result<MaintenanceResult>(result) : files.status();
  for (const auto& f : *files) {
    if (f.is_directory || f.modified_micros >= older_than_ms * 1000) continue;
    std::string p = Normal(f.path);
    if (keep.count(p)) continue;
    // A metadata file newer than the current one belongs to a commit in flight.
    int64_t v = MetadataVersion(p);
    if (v > st->version) continue;
    Status s = fs->Remove(f.path);
    if (s.ok()) {
      result.files_deleted++;
      result.bytes_deleted += static_cast<int64_t>(f.size);
    } else if (!s.IsNotFound()) {
      return s;
    }
  }
  return result;
}

}  // namespace ws::table
