// Avro binary encoding, schema parsing and object container files, written
// from the Apache Avro 1.11 specification.
#include <fmt/format.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "wikistream/common/coding.h"
#include "wikistream/common/logging.h"
#include "wikistream/format/avro.h"

namespace ws::format {
namespace {

constexpr char kMagic[4] = {'O', 'b', 'j', 1};
// Nesting limit for schemas and values, so hostile input cannot exhaust the stack.
constexpr int kMaxDepth = 64;

void PutVarLong(int64_t v, std::string* out) { PutVarint64(out, ZigZagEncode64(v)); }

void PutBytes(std::string_view b, std::string* out) {
  PutVarLong(static_cast<int64_t>(b.size()), out);
  out->append(b);
}

Status GetVarLong(std::string_view data, size_t* pos, int64_t* v) {
  uint64_t z;
  if (!GetVarint64(data, pos, &z)) return Status::Corruption("avro: truncated varint or one over 64 bits");
  *v = ZigZagDecode64(z);
  return Status::OK();
}

Status GetBytes(std::string_view data, size_t* pos, std::string* out) {
  int64_t n;
  WS_RETURN_IF_ERROR(GetVarLong(data, pos, &n));
  if (n < 0 || static_cast<uint64_t>(n) > data.size() - *pos) return Status::Corruption("avro: bad length");
  out->assign(data.substr(*pos, static_cast<size_t>(n)));
  *pos += static_cast<size_t>(n);
  return Status::OK();
}

// --- schema parsing --------------------------------------------------------

struct ParseContext {
  std::map<std::string, AvroNodePtr> named;
};

Result<AvroNodePtr> ParseNode(const nlohmann::json& j, const std::string& ns, ParseContext* ctx, int depth);

std::string FullName(const nlohmann::json& j, const std::string& enclosing_ns, std::string* new_ns) {
  std::string name = j.at("name").get<std::string>();
  std::string ns = enclosing_ns;
  if (j.contains("namespace") && j["namespace"].is_string()) ns = j["namespace"].get<std::string>();
  if (name.find('.') != std::string::npos) {
    *new_ns = name.substr(0, name.rfind('.'));
    return name;
  }
  *new_ns = ns;
  return ns.empty() ? name : ns + "." + name;
}

Result<AvroNodePtr> Primitive(std::string_view name) {
  static const std::pair<std::string_view, AvroType> kPrims[] = {
      {"null", AvroType::kNull},   {"boolean", AvroType::kBoolean}, {"int", AvroType::kInt},
      {"long", AvroType::kLong},   {"float", AvroType::kFloat},     {"double", AvroType::kDouble},
      {"bytes", AvroType::kBytes}, {"string", AvroType::kString}};
  for (const auto& [n, t] : kPrims) {
    if (n == name) {
      auto node = std::make_shared<AvroNode>();
      node->type = t;
      return AvroNodePtr(node);
    }
  }
  return Status::NotFound(std::string(name));
}

Result<AvroNodePtr> ParseNode(const nlohmann::json& j, const std::string& ns, ParseContext* ctx, int depth) {
  if (depth > kMaxDepth) return Status::Corruption("avro schema: nested too deeply");
  if (j.is_string()) {
    std::string name = j.get<std::string>();
    auto prim = Primitive(name);
    if (prim.ok()) return prim;
    auto it = ctx->named.find(name);
    if (it == ctx->named.end() && !ns.empty()) it = ctx->named.find(ns + "." + name);
    if (it == ctx->named.end()) return Status::Corruption("avro schema: unknown type " + name);
    return it->second;
  }
  if (j.is_array()) {
    auto node = std::make_shared<AvroNode>();
    node->type = AvroType::kUnion;
    for (const auto& b : j) {
      WS_ASSIGN_OR_RETURN(auto branch, ParseNode(b, ns, ctx, depth + 1));
      node->branches.push_back(branch);
    }
    if (node->branches.empty()) return Status::Corruption("avro schema: empty union");
    return AvroNodePtr(node);
  }
  if (!j.is_object() || !j.contains("type")) return Status::Corruption("avro schema: expected a type");
  const auto& t = j["type"];
  if (!t.is_string()) return ParseNode(t, ns, ctx, depth + 1);
  std::string type = t.get<std::string>();
  auto node = std::make_shared<AvroNode>();
  if (type == "record" || type == "error") {
    node->type = AvroType::kRecord;
    std::string inner_ns;
    node->name = FullName(j, ns, &inner_ns);
    ctx->named[node->name] = node;  // allows recursive references
    if (!j.contains("fields") || !j["fields"].is_array()) return Status::Corruption("avro schema: record without fields");
    for (const auto& f : j["fields"]) {
      if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("type")) {
        return Status::Corruption("avro schema: bad field");
      }
      AvroFieldDef def;
      def.name = f["name"].get<std::string>();
      WS_ASSIGN_OR_RETURN(def.type, ParseNode(f["type"], inner_ns, ctx, depth + 1));
      node->fields.push_back(std::move(def));
    }
    return AvroNodePtr(node);
  }
  if (type == "enum") {
    node->type = AvroType::kEnum;
    std::string inner_ns;
    node->name = FullName(j, ns, &inner_ns);
    if (!j.contains("symbols") || !j["symbols"].is_array()) return Status::Corruption("avro schema: enum without symbols");
    for (const auto& s : j["symbols"]) node->symbols.push_back(s.get<std::string>());
    ctx->named[node->name] = node;
    return AvroNodePtr(node);
  }
  if (type == "fixed") {
    node->type = AvroType::kFixed;
    std::string inner_ns;
    node->name = FullName(j, ns, &inner_ns);
    if (!j.contains("size") || !j["size"].is_number_integer()) return Status::Corruption("avro schema: fixed without size");
    node->fixed_size = j["size"].get<int64_t>();
    if (node->fixed_size < 0) return Status::Corruption("avro schema: negative fixed size");
    ctx->named[node->name] = node;
    return AvroNodePtr(node);
  }
  if (type == "array") {
    node->type = AvroType::kArray;
    if (!j.contains("items")) return Status::Corruption("avro schema: array without items");
    WS_ASSIGN_OR_RETURN(node->items, ParseNode(j["items"], ns, ctx, depth + 1));
    return AvroNodePtr(node);
  }
  if (type == "map") {
    node->type = AvroType::kMap;
    if (!j.contains("values")) return Status::Corruption("avro schema: map without values");
    WS_ASSIGN_OR_RETURN(node->values, ParseNode(j["values"], ns, ctx, depth + 1));
    return AvroNodePtr(node);
  }
  // {"type": "long", "logicalType": ...} and friends.
  return ParseNode(t, ns, ctx, depth + 1);
}

// --- encoding --------------------------------------------------------------

bool Fits(const AvroNode& schema, const AvroValue& v) {
  switch (schema.type) {
    case AvroType::kNull: return v.kind == AvroType::kNull;
    case AvroType::kBoolean: return v.kind == AvroType::kBoolean;
    case AvroType::kInt:
    case AvroType::kLong: return v.kind == AvroType::kInt || v.kind == AvroType::kLong;
    case AvroType::kFloat:
    case AvroType::kDouble: return v.kind == AvroType::kFloat || v.kind == AvroType::kDouble;
    case AvroType::kBytes:
    case AvroType::kString:
    case AvroType::kFixed: return v.kind == AvroType::kBytes || v.kind == AvroType::kString || v.kind == AvroType::kFixed;
    case AvroType::kEnum: return v.kind == AvroType::kEnum || v.kind == AvroType::kString;
    case AvroType::kRecord: return v.kind == AvroType::kRecord;
    case AvroType::kArray: return v.kind == AvroType::kArray;
    case AvroType::kMap: return v.kind == AvroType::kMap;
    case AvroType::kUnion: return false;
  }
  return false;
}

Status Encode(const AvroNode& s, const AvroValue& v, std::string* out, int depth) {
  if (depth > kMaxDepth) return Status::InvalidArgument("avro: value nested too deeply");
  if (s.type != AvroType::kUnion && !Fits(s, v)) {
    return Status::InvalidArgument(fmt::format("avro: value kind {} does not fit schema type {}",
                                               static_cast<int>(v.kind), static_cast<int>(s.type)));
  }
  switch (s.type) {
    case AvroType::kNull: return Status::OK();
    case AvroType::kBoolean: out->push_back(v.boolean ? 1 : 0); return Status::OK();
    case AvroType::kInt:
      if (v.integer < INT32_MIN || v.integer > INT32_MAX) return Status::InvalidArgument("avro: int out of range");
      PutVarLong(v.integer, out);
      return Status::OK();
    case AvroType::kLong: PutVarLong(v.integer, out); return Status::OK();
    case AvroType::kFloat: {
      float f = static_cast<float>(v.real);
      char b[4];
      std::memcpy(b, &f, 4);
      out->append(b, 4);
      return Status::OK();
    }
    case AvroType::kDouble: {
      char b[8];
      std::memcpy(b, &v.real, 8);
      out->append(b, 8);
      return Status::OK();
    }
    case AvroType::kBytes:
    case AvroType::kString: PutBytes(v.bytes, out); return Status::OK();
    case AvroType::kFixed:
      if (static_cast<int64_t>(v.bytes.size()) != s.fixed_size) return Status::InvalidArgument("avro: fixed size mismatch");
      out->append(v.bytes);
      return Status::OK();
    case AvroType::kEnum: {
      int64_t index = v.integer;
      if (v.kind == AvroType::kString) {
        index = -1;
        for (size_t i = 0; i < s.symbols.size(); ++i) {
          if (s.symbols[i] == v.bytes) index = static_cast<int64_t>(i);
        }
      }
      if (index < 0 || index >= static_cast<int64_t>(s.symbols.size())) return Status::InvalidArgument("avro: bad enum");
      PutVarLong(index, out);
      return Status::OK();
    }
    case AvroType::kRecord:
      if (v.items.size() != s.fields.size()) {
        return Status::InvalidArgument(fmt::format("avro: record {} has {} fields, value has {}", s.name,
                                                   s.fields.size(), v.items.size()));
      }
      for (size_t i = 0; i < s.fields.size(); ++i) {
        Status st = Encode(*s.fields[i].type, v.items[i], out, depth + 1);
        if (!st.ok()) return st.WithContext(s.fields[i].name);
      }
      return Status::OK();
    case AvroType::kArray:
      if (!v.items.empty()) {
        PutVarLong(static_cast<int64_t>(v.items.size()), out);
        for (const auto& item : v.items) WS_RETURN_IF_ERROR(Encode(*s.items, item, out, depth + 1));
      }
      PutVarLong(0, out);
      return Status::OK();
    case AvroType::kMap:
      if (!v.entries.empty()) {
        PutVarLong(static_cast<int64_t>(v.entries.size()), out);
        for (const auto& [k, item] : v.entries) {
          PutBytes(k, out);
          WS_RETURN_IF_ERROR(Encode(*s.values, item, out, depth + 1));
        }
      }
      PutVarLong(0, out);
      return Status::OK();
    case AvroType::kUnion:
      for (size_t i = 0; i < s.branches.size(); ++i) {
        if (Fits(*s.branches[i], v)) {
          PutVarLong(static_cast<int64_t>(i), out);
          return Encode(*s.branches[i], v, out, depth + 1);
        }
      }
      return Status::InvalidArgument("avro: value fits no union branch");
  }
  return Status::Internal("avro: unknown schema type");
}

// Every datum takes at least this many bytes (0 for null, empty records...),
// used to refuse absurd block counts before allocating.
Status Decode(const AvroNode& s, std::string_view data, size_t* pos, AvroValue* v, int depth) {
  if (depth > kMaxDepth) return Status::Corruption("avro: value nested too deeply");
  v->kind = s.type;
  switch (s.type) {
    case AvroType::kNull: return Status::OK();
    case AvroType::kBoolean:
      if (*pos >= data.size()) return Status::Corruption("avro: truncated boolean");
      v->boolean = data[(*pos)++] != 0;
      return Status::OK();
    case AvroType::kInt:
    case AvroType::kLong:
      WS_RETURN_IF_ERROR(GetVarLong(data, pos, &v->integer));
      if (s.type == AvroType::kInt && (v->integer < INT32_MIN || v->integer > INT32_MAX)) {
        return Status::Corruption("avro: int out of range");
      }
      return Status::OK();
    case AvroType::kFloat: {
      if (data.size() - *pos < 4) return Status::Corruption("avro: truncated float");
      float f;
      std::memcpy(&f, data.data() + *pos, 4);
      *pos += 4;
      v->real = f;
      return Status::OK();
    }
    case AvroType::kDouble:
      if (data.size() - *pos < 8) return Status::Corruption("avro: truncated double");
      std::memcpy(&v->real, data.data() + *pos, 8);
      *pos += 8;
      return Status::OK();
    case AvroType::kBytes:
    case AvroType::kString: return GetBytes(data, pos, &v->bytes);
    case AvroType::kFixed:
      if (static_cast<uint64_t>(s.fixed_size) > data.size() - *pos) return Status::Corruption("avro: truncated fixed");
      v->bytes.assign(data.substr(*pos, static_cast<size_t>(s.fixed_size)));
      *pos += static_cast<size_t>(s.fixed_size);
      return Status::OK();
    case AvroType::kEnum:
      WS_RETURN_IF_ERROR(GetVarLong(data, pos, &v->integer));
      if (v->integer < 0 || v->integer >= static_cast<int64_t>(s.symbols.size())) {
        return Status::Corruption("avro: enum index out of range");
      }
      v->bytes = s.symbols[static_cast<size_t>(v->integer)];
      return Status::OK();
    case AvroType::kRecord:
      v->items.resize(s.fields.size());
      for (size_t i = 0; i < s.fields.size(); ++i) {
        WS_RETURN_IF_ERROR(Decode(*s.fields[i].type, data, pos, &v->items[i], depth + 1));
      }
      return Status::OK();
    case AvroType::kArray:
    case AvroType::kMap: {
      v->items.clear();
      v->entries.clear();
      while (true) {
        int64_t count;
        WS_RETURN_IF_ERROR(GetVarLong(data, pos, &count));
        if (count == 0) break;
        if (count < 0) {
          // Negative count: followed by the block's byte size, which we do not need.
          if (count == INT64_MIN) return Status::Corruption("avro: bad block count");
          count = -count;
          int64_t ignored;
          WS_RETURN_IF_ERROR(GetVarLong(data, pos, &ignored));
        }
        // Each item takes at least one byte unless it is null-like; bound by
        // the remaining input to keep allocations proportional to the file.
        if (static_cast<uint64_t>(count) > data.size() - *pos + 1024) return Status::Corruption("avro: block count too large");
        for (int64_t i = 0; i < count; ++i) {
          if (s.type == AvroType::kArray) {
            v->items.emplace_back();
            WS_RETURN_IF_ERROR(Decode(*s.items, data, pos, &v->items.back(), depth + 1));
          } else {
            std::string key;
            WS_RETURN_IF_ERROR(GetBytes(data, pos, &key));
            v->entries.emplace_back(std::move(key), AvroValue{});
            WS_RETURN_IF_ERROR(Decode(*s.values, data, pos, &v->entries.back().second, depth + 1));
          }
        }
      }
      return Status::OK();
    }
    case AvroType::kUnion: {
      int64_t index;
      WS_RETURN_IF_ERROR(GetVarLong(data, pos, &index));
      if (index < 0 || index >= static_cast<int64_t>(s.branches.size())) return Status::Corruption("avro: bad union index");
      return Decode(*s.branches[static_cast<size_t>(index)], data, pos, v, depth + 1);
    }
  }
  return Status::Corruption("avro: unknown schema type");
}

// Metadata map schema used by the container header.
const AvroNode& MetaSchema() {
  static const AvroNodePtr node = [] {
    auto bytes = std::make_shared<AvroNode>();
    bytes->type = AvroType::kBytes;
    auto map = std::make_shared<AvroNode>();
    map->type = AvroType::kMap;
    map->values = bytes;
    return AvroNodePtr(map);
  }();
  return *node;
}

}  // namespace

int AvroNode::FieldIndex(std::string_view field_name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return static_cast<int>(i);
  }
  return -1;
}

Result<AvroNodePtr> ParseAvroSchema(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("avro schema: not JSON");
  ParseContext ctx;
  try {
    return ParseNode(j, "", &ctx, 0);
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("avro schema: ") + e.what());
  }
}

AvroValue::AvroValue() = default;
AvroValue::AvroValue(const AvroValue&) = default;
AvroValue::AvroValue(AvroValue&&) noexcept = default;
AvroValue& AvroValue::operator=(const AvroValue&) = default;
AvroValue& AvroValue::operator=(AvroValue&&) noexcept = default;
AvroValue::~AvroValue() = default;

Status AvroEncode(const AvroNode& schema, const AvroValue& value, std::string* out) {
  return Encode(schema, value, out, 0);
}

Status AvroDecode(const AvroNode& schema, std::string_view data, size_t* pos, AvroValue* out) {
  return Decode(schema, data, pos, out, 0);
}

// --- container writer ------------------------------------------------------

Result<std::unique_ptr<AvroFileWriter>> AvroFileWriter::Open(std::unique_ptr<WritableFile> file,
                                                             std::string schema_json,
                                                             std::vector<std::pair<std::string, std::string>> metadata,
                                                             size_t block_bytes) {
  WS_ASSIGN_OR_RETURN(auto schema, ParseAvroSchema(schema_json));
  std::unique_ptr<AvroFileWriter> w(new AvroFileWriter());
  w->file_ = std::move(file);
  w->schema_ = schema;
  w->block_bytes_ = block_bytes;
  static std::mutex rng_mu;
  static std::mt19937_64 rng{std::random_device{}()};
  {
    std::lock_guard<std::mutex> lock(rng_mu);
    uint64_t a = rng(), b = rng();
    w->sync_.assign(reinterpret_cast<const char*>(&a), 8);
    w->sync_.append(reinterpret_cast<const char*>(&b), 8);
  }
  AvroValue meta;
  meta.kind = AvroType::kMap;
  meta.entries.emplace_back("avro.schema", AvroValue::Bytes(schema_json));
  meta.entries.emplace_back("avro.codec", AvroValue::Bytes("null"));
  for (auto& [k, v] : metadata) meta.entries.emplace_back(k, AvroValue::Bytes(v));
  std::string header(kMagic, 4);
  WS_RETURN_IF_ERROR(AvroEncode(MetaSchema(), meta, &header));
  header += w->sync_;
  WS_RETURN_IF_ERROR(w->file_->Append(header));
  return w;
}

AvroFileWriter::~AvroFileWriter() {
  // Only a writer abandoned on an error path is still open here: the file is
  // incomplete whatever Close says, and the caller reports its own error.
  if (file_ && !closed_) {
    if (Status s = file_->Close(); !s.ok()) log::Warn("avro", "closing an abandoned writer: {}", s.ToString());
  }
}

Status AvroFileWriter::Append(const AvroValue& record) {
  if (closed_) return Status::Internal("avro writer: append after close");
  WS_RETURN_IF_ERROR(AvroEncode(*schema_, record, &block_));
  ++block_count_;
  if (block_.size() >= block_bytes_) return FlushBlock();
  return Status::OK();
}

Status AvroFileWriter::FlushBlock() {
  if (block_count_ == 0) return Status::OK();
  std::string frame;
  PutVarLong(block_count_, &frame);
  PutVarLong(static_cast<int64_t>(block_.size()), &frame);
  frame += block_;
  frame += sync_;
  block_.clear();
  block_count_ = 0;
  return file_->Append(frame);
}

Status AvroFileWriter::Close() {
  if (closed_) return Status::OK();
  WS_RETURN_IF_ERROR(FlushBlock());
  WS_RETURN_IF_ERROR(file_->Sync());
  closed_ = true;
  return file_->Close();
}

uint64_t AvroFileWriter::bytes_written() const { return file_->Size(); }

// --- container reader ------------------------------------------------------

Result<std::unique_ptr<AvroFileReader>> AvroFileReader::Open(FileSystem* fs, const std::string& path) {
  WS_ASSIGN_OR_RETURN(std::string data, fs->ReadAll(path));
  auto r = FromBytes(std::move(data));
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

Result<std::unique_ptr<AvroFileReader>> AvroFileReader::FromBytes(std::string data) {
  std::unique_ptr<AvroFileReader> r(new AvroFileReader());
  r->data_ = std::move(data);
  WS_RETURN_IF_ERROR(r->Init());
  return r;
}

Status AvroFileReader::Init() {
  if (data_.size() < 4 || std::memcmp(data_.data(), kMagic, 4) != 0) return Status::Corruption("avro: bad magic");
  pos_ = 4;
  AvroValue meta;
  WS_RETURN_IF_ERROR(AvroDecode(MetaSchema(), data_, &pos_, &meta));
  for (auto& [k, v] : meta.entries) metadata_[k] = v.bytes;
  auto codec = metadata_.find("avro.codec");
  if (codec != metadata_.end() && codec->second != "null" && !codec->second.empty()) {
    return Status::NotSupported("avro: codec " + codec->second + " is not supported");
  }
  auto schema = metadata_.find("avro.schema");
  if (schema == metadata_.end()) return Status::Corruption("avro: header has no avro.schema");
  schema_json_ = schema->second;
  WS_ASSIGN_OR_RETURN(schema_, ParseAvroSchema(schema_json_));
  if (data_.size() - pos_ < 16) return Status::Corruption("avro: truncated header");
  sync_ = data_.substr(pos_, 16);
  pos_ += 16;
  return Status::OK();
}

Result<bool> AvroFileReader::Next(AvroValue* out) {
  while (remaining_in_block_ == 0) {
    if (block_end_ != 0) {
      // End of the previous block: its sync marker must follow.
      if (pos_ != block_end_) return Status::Corruption("avro: block size does not match its records");
      if (data_.size() - pos_ < 16 || data_.compare(pos_, 16, sync_) != 0) return Status::Corruption("avro: bad sync marker");
      pos_ += 16;
      block_end_ = 0;
    }
    if (pos_ == data_.size()) return false;
    int64_t count, size;
    WS_RETURN_IF_ERROR(GetVarLong(data_, &pos_, &count));
    WS_RETURN_IF_ERROR(GetVarLong(data_, &pos_, &size));
    if (count < 0 || size < 0 || static_cast<uint64_t>(size) > data_.size() - pos_) {
      return Status::Corruption("avro: bad block header");
    }
    remaining_in_block_ = count;
    block_end_ = pos_ + static_cast<size_t>(size);
  }
  std::string_view block(data_.data(), block_end_);
  WS_RETURN_IF_ERROR(AvroDecode(*schema_, block, &pos_, out));
  --remaining_in_block_;
  return true;
}

Result<std::vector<AvroValue>> AvroFileReader::ReadAll() {
  std::vector<AvroValue> out;
  while (true) {
    AvroValue v;
    WS_ASSIGN_OR_RETURN(bool more, Next(&v));
    if (!more) break;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace ws::format
