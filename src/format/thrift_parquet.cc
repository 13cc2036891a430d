#include "thrift_parquet.h"

#include "thrift_compact.h"

namespace ws::format::parquet {

using thrift::CompactReader;
using thrift::CompactWriter;
using thrift::CType;

namespace {

// ---------------------------------------------------------------- writing

void WriteStatistics(CompactWriter& w, int16_t id, const Statistics& s) {
  w.FieldStructBegin(id);
  if (s.max) w.FieldBinary(1, *s.max);
  if (s.min) w.FieldBinary(2, *s.min);
  if (s.null_count) w.FieldI64(3, *s.null_count);
  if (s.distinct_count) w.FieldI64(4, *s.distinct_count);
  if (s.max_value) w.FieldBinary(5, *s.max_value);
  if (s.min_value) w.FieldBinary(6, *s.min_value);
  if (s.is_max_value_exact) w.FieldBool(7, *s.is_max_value_exact);
  if (s.is_min_value_exact) w.FieldBool(8, *s.is_min_value_exact);
  w.StructEnd();
}

void WriteSchemaElement(CompactWriter& w, const SchemaElement& e) {
  w.ElemStructBegin();
  if (e.type) w.FieldI32(1, *e.type);
  if (e.type_length) w.FieldI32(2, *e.type_length);
  if (e.repetition_type) w.FieldI32(3, *e.repetition_type);
  w.FieldBinary(4, e.name);
  if (e.num_children) w.FieldI32(5, *e.num_children);
  if (e.converted_type) w.FieldI32(6, *e.converted_type);
  if (e.field_id) w.FieldI32(9, *e.field_id);
  if (e.logical != kNoLogical) {
    w.FieldStructBegin(10);  // LogicalType union
    w.FieldStructBegin(static_cast<int16_t>(e.logical));
    if (e.logical == kLogicalTimestamp) {
      w.FieldBool(1, e.timestamp_utc);
      w.FieldStructBegin(2);  // TimeUnit union
      w.FieldStructBegin(static_cast<int16_t>(e.timestamp_unit));
      w.StructEnd();
      w.StructEnd();
    }
    w.StructEnd();
    w.StructEnd();
  }
  w.StructEnd();
}

void WriteColumnMetaData(CompactWriter& w, int16_t id, const ColumnMetaData& m) {
  w.FieldStructBegin(id);
  w.FieldI32(1, m.type);
  w.FieldListBegin(2, thrift::kI32, m.encodings.size());
  for (int32_t e : m.encodings) w.ElemI32(e);
  w.FieldListBegin(3, thrift::kBinary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) w.ElemBinary(p);
  w.FieldI32(4, m.codec);
  w.FieldI64(5, m.num_values);
  w.FieldI64(6, m.total_uncompressed_size);
  w.FieldI64(7, m.total_compressed_size);
  w.FieldI64(9, m.data_page_offset);
  if (m.index_page_offset) w.FieldI64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
  if (m.statistics) WriteStatistics(w, 12, *m.statistics);
  w.StructEnd();
}

// ---------------------------------------------------------------- reading
// Each Read* consumes one struct whose field header was just read.

bool Is(CType actual, CType expected) { return actual == expected; }
bool IsBool(CType t) { return t == thrift::kBoolTrue || t == thrift::kBoolFalse; }

void ReadStatistics(CompactReader& r, Statistics* s) {
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kBinary)) s->max = r.ReadString();
    else if (id == 2 && Is(t, thrift::kBinary)) s->min = r.ReadString();
    else if (id == 3 && Is(t, thrift::kI64)) s->null_count = r.ReadI64();
    else if (id == 4 && Is(t, thrift::kI64)) s->distinct_count = r.ReadI64();
    else if (id == 5 && Is(t, thrift::kBinary)) s->max_value = r.ReadString();
    else if (id == 6 && Is(t, thrift::kBinary)) s->min_value = r.ReadString();
    else if (id == 7 && IsBool(t)) s->is_max_value_exact = CompactReader::BoolFromFieldType(t);
    else if (id == 8 && IsBool(t)) s->is_min_value_exact = CompactReader::BoolFromFieldType(t);
    else r.Skip(t);
  }
  r.StructEnd();
}

// Reads a union: returns the id of its (first) set member, skipping its body
// unless `body` handles it.
template <typename F>
int32_t ReadUnion(CompactReader& r, F&& body) {
  int32_t which = 0;
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (which == 0 && t == thrift::kStruct) {
      which = id;
      body(id);
    } else {
      r.Skip(t);
    }
  }
  r.StructEnd();
  return which;
}

void SkipStructBody(CompactReader& r) { r.Skip(thrift::kStruct); }

void ReadLogicalType(CompactReader& r, SchemaElement* e) {
  e->logical = ReadUnion(r, [&](int16_t member) {
    if (member != kLogicalTimestamp) {
      SkipStructBody(r);
      return;
    }
    r.StructBegin();
    int16_t id;
    CType t;
    while (r.NextField(&id, &t)) {
      if (id == 1 && IsBool(t)) {
        e->timestamp_utc = CompactReader::BoolFromFieldType(t);
      } else if (id == 2 && t == thrift::kStruct) {
        e->timestamp_unit = ReadUnion(r, [&](int16_t) { SkipStructBody(r); });
      } else {
        r.Skip(t);
      }
    }
    r.StructEnd();
  });
}

void ReadSchemaElement(CompactReader& r, SchemaElement* e) {
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kI32)) e->type = r.ReadI32();
    else if (id == 2 && Is(t, thrift::kI32)) e->type_length = r.ReadI32();
    else if (id == 3 && Is(t, thrift::kI32)) e->repetition_type = r.ReadI32();
    else if (id == 4 && Is(t, thrift::kBinary)) e->name = r.ReadString();
    else if (id == 5 && Is(t, thrift::kI32)) e->num_children = r.ReadI32();
    else if (id == 6 && Is(t, thrift::kI32)) e->converted_type = r.ReadI32();
    else if (id == 9 && Is(t, thrift::kI32)) e->field_id = r.ReadI32();
    else if (id == 10 && Is(t, thrift::kStruct)) ReadLogicalType(r, e);
    else r.Skip(t);
  }
  r.StructEnd();
}

void ReadColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kI32)) {
      m->type = r.ReadI32();
    } else if (id == 2 && Is(t, thrift::kList)) {
      CType et;
      size_t n = r.ReadListHeader(&et);
      for (size_t i = 0; i < n && r.ok(); ++i) {
        if (et == thrift::kI32) m->encodings.push_back(r.ReadI32());
        else r.Skip(et);
      }
    } else if (id == 3 && Is(t, thrift::kList)) {
      CType et;
      size_t n = r.ReadListHeader(&et);
      for (size_t i = 0; i < n && r.ok(); ++i) {
        if (et == thrift::kBinary) m->path_in_schema.push_back(r.ReadString());
        else r.Skip(et);
      }
    } else if (id == 4 && Is(t, thrift::kI32)) {
      m->codec = r.ReadI32();
    } else if (id == 5 && Is(t, thrift::kI64)) {
      m->num_values = r.ReadI64();
    } else if (id == 6 && Is(t, thrift::kI64)) {
      m->total_uncompressed_size = r.ReadI64();
    } else if (id == 7 && Is(t, thrift::kI64)) {
      m->total_compressed_size = r.ReadI64();
    } else if (id == 9 && Is(t, thrift::kI64)) {
      m->data_page_offset = r.ReadI64();
    } else if (id == 10 && Is(t, thrift::kI64)) {
      m->index_page_offset = r.ReadI64();
    } else if (id == 11 && Is(t, thrift::kI64)) {
      m->dictionary_page_offset = r.ReadI64();
    } else if (id == 12 && Is(t, thrift::kStruct)) {
      m->statistics.emplace();
      ReadStatistics(r, &*m->statistics);
    } else {
      r.Skip(t);
    }
  }
  r.StructEnd();
}

void ReadColumnChunk(CompactReader& r, ColumnChunk* c) {
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kBinary)) c->file_path = r.ReadString();
    else if (id == 2 && Is(t, thrift::kI64)) c->file_offset = r.ReadI64();
    else if (id == 3 && Is(t, thrift::kStruct)) ReadColumnMetaData(r, &c->meta_data.emplace());
    else r.Skip(t);
  }
  r.StructEnd();
}

template <typename F>
void ReadStructList(CompactReader& r, F&& each) {
  CType et;
  size_t n = r.ReadListHeader(&et);
  for (size_t i = 0; i < n && r.ok(); ++i) {
    if (et == thrift::kStruct) each();
    else r.Skip(et);
  }
}

void ReadRowGroup(CompactReader& r, RowGroup* g) {
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kList)) {
      ReadStructList(r, [&] { ReadColumnChunk(r, &g->columns.emplace_back()); });
    } else if (id == 2 && Is(t, thrift::kI64)) {
      g->total_byte_size = r.ReadI64();
    } else if (id == 3 && Is(t, thrift::kI64)) {
      g->num_rows = r.ReadI64();
    } else if (id == 5 && Is(t, thrift::kI64)) {
      g->file_offset = r.ReadI64();
    } else if (id == 6 && Is(t, thrift::kI64)) {
      g->total_compressed_size = r.ReadI64();
    } else if (id == 7 && Is(t, thrift::kI16)) {
      g->ordinal = r.ReadI16();
    } else {
      r.Skip(t);
    }
  }
  r.StructEnd();
}

void ReadKeyValue(CompactReader& r, FileMetaData* md) {
  std::string key, value;
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kBinary)) key = r.ReadString();
    else if (id == 2 && Is(t, thrift::kBinary)) value = r.ReadString();
    else r.Skip(t);
  }
  r.StructEnd();
  md->key_value_metadata.emplace_back(std::move(key), std::move(value));
}

}  // namespace

void SerializeFileMetaData(const FileMetaData& md, std::string* out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, md.version);
  w.FieldListBegin(2, thrift::kStruct, md.schema.size());
  for (const auto& e : md.schema) WriteSchemaElement(w, e);
  w.FieldI64(3, md.num_rows);
  w.FieldListBegin(4, thrift::kStruct, md.row_groups.size());
  for (const auto& g : md.row_groups) {
    w.ElemStructBegin();
    w.FieldListBegin(1, thrift::kStruct, g.columns.size());
    for (const auto& c : g.columns) {
      w.ElemStructBegin();
      if (c.file_path) w.FieldBinary(1, *c.file_path);
      w.FieldI64(2, c.file_offset);
      if (c.meta_data) WriteColumnMetaData(w, 3, *c.meta_data);
      w.StructEnd();
    }
    w.FieldI64(2, g.total_byte_size);
    w.FieldI64(3, g.num_rows);
    if (g.file_offset) w.FieldI64(5, *g.file_offset);
    if (g.total_compressed_size) w.FieldI64(6, *g.total_compressed_size);
    if (g.ordinal) w.FieldI16(7, static_cast<int16_t>(*g.ordinal));
    w.StructEnd();
  }
  if (!md.key_value_metadata.empty()) {
    w.FieldListBegin(5, thrift::kStruct, md.key_value_metadata.size());
    for (const auto& [k, v] : md.key_value_metadata) {
      w.ElemStructBegin();
      w.FieldBinary(1, k);
      w.FieldBinary(2, v);
      w.StructEnd();
    }
  }
  if (md.created_by) w.FieldBinary(6, *md.created_by);
  if (!md.column_orders.empty()) {
    w.FieldListBegin(7, thrift::kStruct, md.column_orders.size());
    for (bool type_defined : md.column_orders) {
      w.ElemStructBegin();  // ColumnOrder union
      if (type_defined) {
        w.FieldStructBegin(1);  // TypeDefinedOrder {}
        w.StructEnd();
      }
      w.StructEnd();
    }
  }
  w.StructEnd();
}

void SerializePageHeader(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, h.type);
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.crc) w.FieldI32(4, *h.crc);
  if (h.data_page_header) {
    const auto& d = *h.data_page_header;
    w.FieldStructBegin(5);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.encoding);
    w.FieldI32(3, d.definition_level_encoding);
    w.FieldI32(4, d.repetition_level_encoding);
    w.StructEnd();
  }
  if (h.dictionary_page_header) {
    const auto& d = *h.dictionary_page_header;
    w.FieldStructBegin(7);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.encoding);
    if (d.is_sorted) w.FieldBool(3, *d.is_sorted);
    w.StructEnd();
  }
  if (h.data_page_header_v2) {
    const auto& d = *h.data_page_header_v2;
    w.FieldStructBegin(8);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.num_nulls);
    w.FieldI32(3, d.num_rows);
    w.FieldI32(4, d.encoding);
    w.FieldI32(5, d.definition_levels_byte_length);
    w.FieldI32(6, d.repetition_levels_byte_length);
    w.FieldBool(7, d.is_compressed);
    w.StructEnd();
  }
  w.StructEnd();
}

Status ParseFileMetaData(const uint8_t* data, size_t size, FileMetaData* md) {
  CompactReader r(data, size);
  r.StructBegin();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kI32)) {
      md->version = r.ReadI32();
    } else if (id == 2 && Is(t, thrift::kList)) {
      ReadStructList(r, [&] { ReadSchemaElement(r, &md->schema.emplace_back()); });
    } else if (id == 3 && Is(t, thrift::kI64)) {
      md->num_rows = r.ReadI64();
    } else if (id == 4 && Is(t, thrift::kList)) {
      ReadStructList(r, [&] { ReadRowGroup(r, &md->row_groups.emplace_back()); });
    } else if (id == 5 && Is(t, thrift::kList)) {
      ReadStructList(r, [&] { ReadKeyValue(r, md); });
    } else if (id == 6 && Is(t, thrift::kBinary)) {
      md->created_by = r.ReadString();
    } else if (id == 7 && Is(t, thrift::kList)) {
      ReadStructList(r, [&] {
        int32_t which = ReadUnion(r, [&](int16_t) { SkipStructBody(r); });
        md->column_orders.push_back(which == 1);
      });
    } else {
      r.Skip(t);
    }
  }
  r.StructEnd();
  if (!r.ok()) return r.status().WithContext("parquet footer");
  return Status::OK();
}

Status ParsePageHeader(const uint8_t* data, size_t size, PageHeader* h, size_t* header_size) {
  CompactReader r(data, size);
  r.StructBegin();
  int16_t id;
  CType t;
  bool have_type = false, have_sizes = false;
  while (r.NextField(&id, &t)) {
    if (id == 1 && Is(t, thrift::kI32)) {
      h->type = r.ReadI32();
      have_type = true;
    } else if (id == 2 && Is(t, thrift::kI32)) {
      h->uncompressed_page_size = r.ReadI32();
    } else if (id == 3 && Is(t, thrift::kI32)) {
      h->compressed_page_size = r.ReadI32();
      have_sizes = true;
    } else if (id == 4 && Is(t, thrift::kI32)) {
      h->crc = r.ReadI32();
    } else if (id == 5 && Is(t, thrift::kStruct)) {
      auto& d = h->data_page_header.emplace();
      r.StructBegin();
      int16_t fid;
      CType ft;
      while (r.NextField(&fid, &ft)) {
        if (fid == 1 && Is(ft, thrift::kI32)) d.num_values = r.ReadI32();
        else if (fid == 2 && Is(ft, thrift::kI32)) d.encoding = r.ReadI32();
        else if (fid == 3 && Is(ft, thrift::kI32)) d.definition_level_encoding = r.ReadI32();
        else if (fid == 4 && Is(ft, thrift::kI32)) d.repetition_level_encoding = r.ReadI32();
        else r.Skip(ft);
      }
      r.StructEnd();
    } else if (id == 7 && Is(t, thrift::kStruct)) {
      auto& d = h->dictionary_page_header.emplace();
      r.StructBegin();
      int16_t fid;
      CType ft;
      while (r.NextField(&fid, &ft)) {
        if (fid == 1 && Is(ft, thrift::kI32)) d.num_values = r.ReadI32();
        else if (fid == 2 && Is(ft, thrift::kI32)) d.encoding = r.ReadI32();
        else if (fid == 3 && IsBool(ft)) d.is_sorted = CompactReader::BoolFromFieldType(ft);
        else r.Skip(ft);
      }
      r.StructEnd();
    } else if (id == 8 && Is(t, thrift::kStruct)) {
      auto& d = h->data_page_header_v2.emplace();
      r.StructBegin();
      int16_t fid;
      CType ft;
      while (r.NextField(&fid, &ft)) {
        if (fid == 1 && Is(ft, thrift::kI32)) d.num_values = r.ReadI32();
        else if (fid == 2 && Is(ft, thrift::kI32)) d.num_nulls = r.ReadI32();
        else if (fid == 3 && Is(ft, thrift::kI32)) d.num_rows = r.ReadI32();
        else if (fid == 4 && Is(ft, thrift::kI32)) d.encoding = r.ReadI32();
        else if (fid == 5 && Is(ft, thrift::kI32)) d.definition_levels_byte_length = r.ReadI32();
        else if (fid == 6 && Is(ft, thrift::kI32)) d.repetition_levels_byte_length = r.ReadI32();
        else if (fid == 7 && IsBool(ft)) d.is_compressed = CompactReader::BoolFromFieldType(ft);
        else r.Skip(ft);
      }
      r.StructEnd();
    } else {
      r.Skip(t);
    }
  }
  r.StructEnd();
  if (!r.ok()) return r.status().WithContext("page header");
  if (!have_type || !have_sizes) return Status::Corruption("page header: missing type or sizes");
  if (h->compressed_page_size < 0 || h->uncompressed_page_size < 0) {
    return Status::Corruption("page header: negative page size");
  }
  *header_size = r.position();
  return Status::OK();
}

}  // namespace ws::format::parquet
