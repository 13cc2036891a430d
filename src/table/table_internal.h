// Internals of the Iceberg table implementation shared by the .cc files of
// src/table: the parsed table metadata, manifest and manifest-list I/O.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/format/schema.h"
#include "wikistream/table/catalog.h"
#include "wikistream/table/table.h"

namespace ws::table {

// --- locations ---------------------------------------------------------------
// Metadata, manifest lists, manifests and the catalog row hold locations as
// URIs, as the Iceberg spec requires; the FileSystem and the in-memory state
// use the FileSystem's paths. A local path "/d/x" is stored as "file:///d/x"
// (the rest of the string literally: no percent-decoding, as Hadoop's Path,
// PyIceberg and DuckDB read it); URIs of other stores (s3://b/k) are their
// own paths. Bare paths written by older versions read as they are.

bool HasUriScheme(const std::string& location);        // "s3://...", "file:/..."
std::string ToLocationUri(const std::string& path);     // "/d/x" -> "file:///d/x"; URIs unchanged
std::string FromLocationUri(const std::string& location);  // "file:///d/x", "file:/d/x" -> "/d/x"
// lexically_normal for paths; for URIs only the part after "scheme://authority".
std::string NormalizeLocation(const std::string& location);

struct PartitionField {
  int32_t source_id = 0;
  int32_t field_id = 0;  // from 1000
  std::string name;      // same as the source column
  format::TypeId type = format::TypeId::kString;
};

// One version of the table metadata (vN.metadata.json, or
// NNNNN-<uuid>.metadata.json on stores whose creates are not exclusive).
struct Table::State {
  std::string metadata_location;
  int64_t version = 0;  // N of the metadata file's name
  std::string table_uuid;
  std::string location;
  int64_t last_sequence_number = 0;
  int64_t last_updated_ms = 0;
  int32_t last_column_id = 0;
  format::SchemaPtr schema;
  std::vector<PartitionField> partition_fields;
  int32_t last_partition_id = 999;
  std::map<std::string, std::string> properties;
  std::optional<int64_t> current_snapshot_id;
  std::vector<SnapshotInfo> snapshots;  // oldest first
  std::vector<std::pair<int64_t, int64_t>> snapshot_log;      // (timestamp-ms, snapshot-id)
  std::vector<std::pair<int64_t, std::string>> metadata_log;  // (timestamp-ms, metadata-file)

  const SnapshotInfo* FindSnapshot(int64_t id) const;
  const SnapshotInfo* Current() const;
  // The ancestry of `id` (itself first), stopping where a parent is missing.
  std::vector<const SnapshotInfo*> Ancestry(int64_t id) const;
};
using StatePtr = std::shared_ptr<const Table::State>;

std::string MetadataToJson(const Table::State& state);
Result<std::shared_ptr<Table::State>> MetadataFromJson(const std::string& json, const std::string& location);
std::string SchemaToJson(const format::Schema& schema);
std::string PartitionFieldsJson(const std::vector<PartitionField>& fields);

// Version N parsed from ".../vN.metadata.json" or ".../NNNNN-<uuid>.metadata.json"
// (0 if the name has another form).
int64_t MetadataVersion(const std::string& metadata_location);
// The name of version N's metadata file in meta_dir. Where creates are
// exclusive it is vN.metadata.json: of two writers of version N exactly one
// creates it. Elsewhere (object stores without conditional PUT) two writers
// could both "create" vN and the later PUT would replace the file a catalog
// swap already points at, so each attempt writes a name of its own,
// NNNNN-<uuid>.metadata.json (the Iceberg libraries' own form).
std::string MetadataFileName(const std::string& meta_dir, int64_t version, bool exclusive_creates);

// --- manifests ---------------------------------------------------------------

struct PartitionSummary {
  bool contains_null = false;
  std::optional<std::string> lower_bound;  // single-value serialisation
  std::optional<std::string> upper_bound;
};

// One row of a manifest list (Iceberg `manifest_file`).
struct ManifestFile {
  std::string path;
  int64_t length = 0;
  int32_t spec_id = 0;
  int32_t content = 0;  // data
  int64_t sequence_number = 0;
  int64_t min_sequence_number = 0;
  int64_t added_snapshot_id = 0;
  int32_t added_files = 0, existing_files = 0, deleted_files = 0;
  int64_t added_rows = 0, existing_rows = 0, deleted_rows = 0;
  std::vector<PartitionSummary> partitions;
};

enum class EntryStatus : int { kExisting = 0, kAdded = 1, kDeleted = 2 };

struct ManifestEntry {
  EntryStatus status = EntryStatus::kAdded;
  int64_t snapshot_id = 0;
  // Explicit sequence numbers; nullopt = inherited (only for ADDED entries
  // of the commit that writes the manifest).
  std::optional<int64_t> sequence_number;
  std::optional<int64_t> file_sequence_number;
  DataFile file;  // file.added_snapshot_id / sequence_number filled on read
};
using ManifestEntries = std::vector<ManifestEntry>;

// Manifests and manifest lists are written under names no other writer can
// pick (a fresh UUID in each): they are created without an existence check,
// which on an object store without conditional PUT would cost a HEAD each.
//
// Writes a manifest (Avro) for `entries` and returns its manifest-list row
// (sequence numbers of this commit: `sequence_number`, `snapshot_id`).
Result<ManifestFile> WriteManifest(FileSystem* fs, const std::string& path, const Table::State& state,
                                   const ManifestEntries& entries, int64_t snapshot_id, int64_t sequence_number);
// Reads a manifest; inherits null snapshot ids / sequence numbers from `info`.
Result<ManifestEntries> ReadManifest(FileSystem* fs, const ManifestFile& info, const Table::State& state);

Status WriteManifestList(FileSystem* fs, const std::string& path, int64_t snapshot_id,
                         std::optional<int64_t> parent_id, int64_t sequence_number,
                         const std::vector<ManifestFile>& manifests);
Result<std::vector<ManifestFile>> ReadManifestList(FileSystem* fs, const std::string& path);

// Iceberg single-value binary serialisation of a partition value given as text.
Result<std::string> SerializePartitionValue(format::TypeId type, const std::string& text);
// Orders two serialised values of one type (negative, 0, positive).
int CompareSerialized(format::TypeId type, const std::string& a, const std::string& b);

// The metadata steps Table's commit (table_commit.cc) and its maintenance
// (table.cc) share.
// An integer table property, or `fallback` when absent or not a number.
int64_t PropertyInt(const Table::State& st, const std::string& key, int64_t fallback);
// The parsed manifest list / manifest, shared by every reader of `catalog`
// (both files are immutable and uniquely named).
Result<std::shared_ptr<const std::vector<ManifestFile>>> CachedManifestList(Catalog* catalog, const std::string& path);
// Puts a list this process wrote in the cache: the next commit reads its
// parent's list, which would otherwise cost a GET on an object store.
std::shared_ptr<const std::vector<ManifestFile>> RememberManifestList(Catalog* catalog, const std::string& path,
                                                                      std::vector<ManifestFile> list);
Result<std::shared_ptr<const ManifestEntries>> CachedManifest(Catalog* catalog, const ManifestFile& info,
                                                              const Table::State& state);
// Writes next's metadata file (durable) as version base + 1: no-clobber as
// vN, or the first free vN after it when a failed attempt left a name taken,
// where creates are exclusive; else under a name with a UUID in it
// (MetadataFileName). Conflict when the table moved on.
Status WriteMetadataFile(Catalog* catalog, const Table& table, const Table::State& base, Table::State* next);
// Adds base's metadata file to next's metadata log, bounded by
// write.metadata.previous-versions-max.
void AppendMetadataLog(const Table::State& base, Table::State* next);
// Deletes the metadata files that fell off next's metadata log (Iceberg's
// write.metadata.delete-after-commit); failures are logged.
void DeleteDroppedMetadata(FileSystem* fs, const Table::State& base, const Table::State& next);
// Best effort: version-hint.text names next's version for path-based readers.
void WriteVersionHint(Catalog* catalog, const Table::State& st);

struct Catalog::ManifestCache {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const ManifestEntries>> manifests;
  std::map<std::string, std::shared_ptr<const std::vector<ManifestFile>>> lists;
};

}  // namespace ws::table
