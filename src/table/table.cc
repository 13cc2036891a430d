// Table: loading, scans and maintenance, and the metadata steps they share
// with the commit protocol (table_commit.cc).
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

constexpr size_t kMaxCachedManifests = 4096;
// A snapshot's manifest list repeats its parent's entries, so keeping every
// snapshot's list would cost memory quadratic in the commits since the last
// compaction. Only recent lists are read again (a commit reads its parent's,
// a scan the current one's); older ones, read once by FilesAddedBetween or
// maintenance, are cheap to re-read.
constexpr size_t kMaxCachedManifestLists = 64;

std::string Normal(const std::string& p) { return NormalizeLocation(p); }

}  // namespace

int64_t PropertyInt(const Table::State& st, const std::string& key, int64_t fallback) {
  auto it = st.properties.find(key);
  if (it == st.properties.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

Result<std::shared_ptr<const std::vector<ManifestFile>>> CachedManifestList(Catalog* catalog, const std::string& path) {
  auto* cache = catalog->manifest_cache();
  {
    std::lock_guard<std::mutex> lock(cache->mu);
    auto it = cache->lists.find(path);
    if (it != cache->lists.end()) return it->second;
  }
  WS_ASSIGN_OR_RETURN(auto list, ReadManifestList(catalog->fs(), path));
  return RememberManifestList(catalog, path, std::move(list));
}

std::shared_ptr<const std::vector<ManifestFile>> RememberManifestList(Catalog* catalog, const std::string& path,
                                                                      std::vector<ManifestFile> list) {
  auto* cache = catalog->manifest_cache();
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

// Writes the metadata file of `next` as version base + 1. Where creates are
// exclusive a failed earlier attempt may have left vN taken: the next free
// name follows. Elsewhere every attempt's name is its own (MetadataFileName).
Status WriteMetadataFile(Catalog* catalog, const Table& table, const Table::State& base, Table::State* next) {
  FileSystem* fs = catalog->fs();
  std::string meta_dir = base.location + "/metadata";
  WS_ASSIGN_OR_RETURN(bool exclusive, fs->CreatesExclusively(meta_dir + "/"));
  for (int64_t v = base.version + 1; v < base.version + 64; ++v) {
    next->version = v;
    next->metadata_location = MetadataFileName(meta_dir, v, exclusive);
    // A unique name needs no existence check (a HEAD on stores without conditional PUT).
    Status s = fs->WriteFileDurably(next->metadata_location, MetadataToJson(*next), /*no_clobber=*/exclusive);
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

void WriteVersionHint(Catalog* catalog, const Table::State& st) {
  if (!catalog->writes_version_hints()) return;
  // Best effort: the catalog is the source of truth; path-based readers may
  // briefly see the previous (complete) version if this fails.
  Status s =
      catalog->fs()->ReplaceFileAtomically(st.location + "/metadata/version-hint.text", std::to_string(st.version));
  if (!s.ok()) log::Warn("table", "version hint for {}: {}", st.location, s.ToString());
}

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
    WriteVersionHint(catalog_, *next);
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
