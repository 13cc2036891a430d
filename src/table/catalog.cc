// The catalog: table creation and loading over a CatalogBackend, and the
// choice of backend by URI.
#include "wikistream/table/catalog.h"

#include <fmt/format.h>

#include <filesystem>

#include "table_internal.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"

namespace ws::table {

using format::SchemaPtr;

namespace {

bool ValidIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

bool IsLocal(const std::string& warehouse) { return !HasUriScheme(warehouse); }

}  // namespace

const char kJdbcCatalogTables[] =
    "CREATE TABLE IF NOT EXISTS iceberg_tables ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " table_namespace VARCHAR(255) NOT NULL,"
    " table_name VARCHAR(255) NOT NULL,"
    " metadata_location VARCHAR(1000),"
    " previous_metadata_location VARCHAR(1000),"
    " iceberg_type VARCHAR(5),"
    " PRIMARY KEY (catalog_name, table_namespace, table_name));"
    "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " namespace VARCHAR(255) NOT NULL,"
    " property_key VARCHAR(255),"
    " property_value VARCHAR(1000),"
    " PRIMARY KEY (catalog_name, namespace, property_key));";

CatalogBackendOptions CatalogOptions::backend_options() const {
  CatalogBackendOptions o;
  o.busy_timeout_ms = busy_timeout_ms;
  o.reconnect_timeout_ms = reconnect_timeout_ms;
  o.catalog_name = catalog_name;
  return o;
}

Result<CatalogUri> ParseCatalogUri(const std::string& uri, const std::string& warehouse_location) {
  const std::string warehouse = FromLocationUri(warehouse_location);
  CatalogUri out;
  if (uri.empty()) {
    if (!IsLocal(warehouse)) {
      return Status::InvalidArgument("the warehouse " + warehouse +
                                     " is not a local directory: give --catalog (sqlite:PATH or postgresql://...)");
    }
    out.target = warehouse + "/catalog.db";
    return out;
  }
  if (uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0) {
    out.kind = CatalogUri::Kind::kPostgres;
    out.target = uri;
    return out;
  }
  if (uri.rfind("sqlite:", 0) == 0) {
    std::string path = uri.substr(7);
    // SQLAlchemy's spelling (PyIceberg): sqlite:///relative.db, sqlite:////absolute.db.
    if (path.rfind("///", 0) == 0) path = path.substr(3);
    if (path.empty()) return Status::InvalidArgument("catalog URI '" + uri + "' names no file");
    out.target = path;
    return out;
  }
  auto colon = uri.find(':');
  return Status::InvalidArgument(fmt::format("unknown catalog URI scheme '{}' in '{}' (use sqlite:PATH or "
                                             "postgresql://USER@HOST:PORT/DB)",
                                             colon == std::string::npos ? uri : uri.substr(0, colon), uri));
}

Result<std::unique_ptr<CatalogBackend>> OpenCatalogBackend(const std::string& uri, const std::string& warehouse,
                                                           const CatalogBackendOptions& options) {
  WS_ASSIGN_OR_RETURN(CatalogUri parsed, ParseCatalogUri(uri, warehouse));
  if (parsed.kind == CatalogUri::Kind::kPostgres) return OpenPostgresCatalog(parsed.target, options);
  return OpenSqliteCatalog(parsed.target, options);
}

Result<std::unique_ptr<CatalogLock>> AcquireCatalogLock(const std::string& uri, const std::string& warehouse,
                                                        const std::string& name, bool wait,
                                                        const CatalogBackendOptions& options) {
  WS_ASSIGN_OR_RETURN(CatalogUri parsed, ParseCatalogUri(uri, warehouse));
  if (parsed.kind == CatalogUri::Kind::kPostgres) return AcquirePostgresLock(parsed.target, name, wait, options);
  return AcquireSqliteLock(parsed.target, name, wait);
}

Catalog::Catalog(FileSystem* fs, std::string warehouse, CatalogOptions options,
                 std::unique_ptr<CatalogBackend> backend)
    : fs_(fs), warehouse_(std::move(warehouse)), options_(std::move(options)), backend_(std::move(backend)),
      cache_(std::make_unique<ManifestCache>()) {}

Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::Open(FileSystem* fs, const std::string& warehouse, CatalogOptions options) {
  if (warehouse.empty()) return Status::InvalidArgument("empty warehouse location");
  std::string dir = FromLocationUri(warehouse);
  if (IsLocal(dir)) {
    // Manifests and metadata store absolute locations, which other engines resolve as is.
    std::error_code ec;
    dir = std::filesystem::absolute(dir, ec).lexically_normal().string();
    if (ec) return Status::InvalidArgument("bad warehouse directory '" + warehouse + "'");
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  WS_RETURN_IF_ERROR(fs->CreateDirs(dir));
  WS_ASSIGN_OR_RETURN(auto backend, OpenCatalogBackend(options.uri, dir, options.backend_options()));
  std::unique_ptr<Catalog> catalog(new Catalog(fs, dir, std::move(options), std::move(backend)));
  catalog->version_hints_ = IsLocal(dir);
  return catalog;
}

std::string Catalog::TableLocation(const std::string& ns, const std::string& name) const {
  return warehouse_ + "/" + ns + "/" + name;
}

Result<std::string> Catalog::CurrentMetadataLocation(const std::string& ns, const std::string& name) {
  WS_ASSIGN_OR_RETURN(std::string location, backend_->Load({ns, name}));
  return FromLocationUri(location);
}

Status Catalog::SwapMetadataLocation(const std::string& ns, const std::string& name, const std::string& expected,
                                     const std::string& desired) {
  // A row written before locations were URIs holds the bare path.
  return backend_->Swap({ns, name}, {ToLocationUri(expected), expected}, ToLocationUri(desired));
}

Result<std::vector<TableIdentifier>> Catalog::ListTables() { return backend_->List(); }

Result<std::shared_ptr<Table>> Catalog::LoadTable(const std::string& ns, const std::string& name) {
  auto table = std::make_shared<Table>(this, ns, name);
  WS_RETURN_IF_ERROR(table->Refresh());
  return table;
}

Result<std::shared_ptr<Table>> Catalog::CreateTableIfNotExists(const std::string& ns, const std::string& name,
                                                               SchemaPtr schema,
                                                               const std::vector<std::string>& partition_columns,
                                                               const std::map<std::string, std::string>& properties) {
  if (!ValidIdentifier(ns) || !ValidIdentifier(name)) {
    return Status::InvalidArgument(fmt::format("bad table identifier {}.{}", ns, name));
  }
  auto existing = LoadTable(ns, name);
  if (existing.ok() || !existing.status().IsNotFound()) return existing;

  auto state = std::make_shared<Table::State>();
  state->table_uuid = NewUuid();
  state->location = TableLocation(ns, name);
  state->last_updated_ms = NowMicros() / 1000;
  state->schema = schema;
  state->last_column_id = schema->HighestFieldId();
  int32_t next_pid = 1000;
  for (const auto& col : partition_columns) {
    int idx = schema->FieldIndex(col);
    if (idx < 0) return Status::InvalidArgument(fmt::format("partition column {} is not in the schema of {}.{}", col, ns, name));
    if (!schema->field(idx).required) {
      return Status::InvalidArgument(fmt::format("partition column {} of {}.{} must be required", col, ns, name));
    }
    state->partition_fields.push_back({schema->field(idx).id, next_pid++, col, schema->field(idx).type});
  }
  state->last_partition_id = next_pid - 1;
  state->properties = properties;
  state->properties.emplace("write.format.default", "parquet");
  state->properties.emplace("write.parquet.compression-codec", "zstd");

  std::string meta_dir = state->location + "/metadata";
  WS_RETURN_IF_ERROR(fs_->CreateDirs(meta_dir));
  WS_RETURN_IF_ERROR(fs_->CreateDirs(state->location + "/data"));
  // Another creator may hold v1 (or a crashed one left it): take the next free name.
  WS_ASSIGN_OR_RETURN(bool exclusive, fs_->CreatesExclusively(meta_dir + "/"));
  std::string location;
  for (int v = 1;; ++v) {
    if (v > 100) return Status::IOError("cannot create a metadata file in " + meta_dir);
    location = MetadataFileName(meta_dir, v, exclusive);
    state->metadata_location = location;
    state->version = v;
    Status s = fs_->WriteFileDurably(location, MetadataToJson(*state), /*no_clobber=*/exclusive);
    if (s.ok()) break;
    if (s.code() != Status::Code::kAlreadyExists) return s;
    auto other = LoadTable(ns, name);
    if (other.ok()) return other;
  }
  WS_RETURN_IF_ERROR(backend_->Register({ns, name}, ToLocationUri(location)));
  // Whoever won the insert, the table now exists: load what the catalog says.
  WS_ASSIGN_OR_RETURN(auto table, LoadTable(ns, name));
  if (ToLocationUri(table->metadata_location()) != ToLocationUri(location)) {
    fs_->RemoveLeftover(location);  // another creator won: ours is referenced nowhere
  } else if (version_hints_) {
    Status hint = fs_->ReplaceFileAtomically(meta_dir + "/version-hint.text", std::to_string(state->version));
    if (!hint.ok()) log::Warn("table", "version hint of {}.{}: {}", ns, name, hint.ToString());
  }
  return table;
}

}  // namespace ws::table
