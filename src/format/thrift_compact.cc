#include "thrift_compact.h"

#include <fmt/format.h>

namespace ws::format::thrift {

namespace {
// Deeper than any Parquet structure (the footer nests ~6 levels); bounds the
// recursion a hostile buffer can cause while skipping unknown fields.
constexpr int kMaxDepth = 64;
}  // namespace

void CompactWriter::StructBegin() { last_id_.push_back(0); }

void CompactWriter::StructEnd() {
  out_->push_back(static_cast<char>(kStop));
  last_id_.pop_back();
}

void CompactWriter::Varint(uint64_t v) { PutVarint64(out_, v); }

void CompactWriter::FieldHeader(int16_t id, CType type) {
  int16_t& last = last_id_.back();
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | type));
  } else {
    out_->push_back(static_cast<char>(type));
    Varint(ZigZagEncode32(id));
  }
  last = id;
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, kI32);
  Varint(ZigZagEncode32(v));
}

void CompactWriter::FieldI16(int16_t id, int16_t v) {
  FieldHeader(id, kI16);
  Varint(ZigZagEncode32(v));
}

void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, kI64);
  Varint(ZigZagEncode64(v));
}

void CompactWriter::FieldBool(int16_t id, bool v) { FieldHeader(id, v ? kBoolTrue : kBoolFalse); }

void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, kBinary);
  ElemBinary(v);
}

void CompactWriter::ElemBinary(std::string_view v) {
  Varint(v.size());
  out_->append(v.data(), v.size());
}

void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, kStruct);
  StructBegin();
}

void CompactWriter::FieldListBegin(int16_t id, CType elem_type, size_t size) {
  FieldHeader(id, kList);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | elem_type));
  } else {
    out_->push_back(static_cast<char>(0xF0 | elem_type));
    Varint(size);
  }
}

// ---------------------------------------------------------------------------

void CompactReader::Fail(std::string message) {
  if (status_.ok()) status_ = Status::Corruption(fmt::format("thrift: {} at byte {}", message, position()));
  p_ = end_;
}

uint64_t CompactReader::Varint() {
  uint64_t v = 0;
  const uint8_t* next = GetVarint64Ptr(p_, end_, &v);
  if (!next) {
    Fail("truncated varint or one over 64 bits");
    return 0;
  }
  p_ = next;
  return v;
}

void CompactReader::StructBegin() {
  if (last_id_.size() >= kMaxDepth) {
    Fail("structs nested too deeply");
    return;
  }
  last_id_.push_back(cur_last_);
  cur_last_ = 0;
}

void CompactReader::StructEnd() {
  if (last_id_.empty()) return;
  cur_last_ = last_id_.back();
  last_id_.pop_back();
}

bool CompactReader::NextField(int16_t* id, CType* type) {
  if (!ok()) return false;
  if (p_ >= end_) {
    Fail("truncated struct");
    return false;
  }
  uint8_t b = *p_++;
  if (b == kStop) return false;
  *type = static_cast<CType>(b & 0x0F);
  int delta = b >> 4;
  if (delta != 0) {
    *id = static_cast<int16_t>(cur_last_ + delta);
  } else {
    uint64_t z = Varint();
    *id = static_cast<int16_t>(ZigZagDecode64(z));
  }
  if (*type > kStruct) {
    Fail(fmt::format("unknown field type {}", static_cast<int>(*type)));
    return false;
  }
  cur_last_ = *id;
  return ok();
}

int32_t CompactReader::ReadI32() {
  uint64_t z = Varint();
  if (z > 0xFFFFFFFFull) {
    Fail("i32 out of range");
    return 0;
  }
  return ZigZagDecode32(static_cast<uint32_t>(z));
}

int64_t CompactReader::ReadI64() {
  return ZigZagDecode64(Varint());
}

std::string_view CompactReader::ReadBinary() {
  uint64_t n = Varint();
  if (!ok()) return {};
  if (n > static_cast<uint64_t>(end_ - p_)) {
    Fail(fmt::format("binary length {} exceeds the {} bytes left", n, end_ - p_));
    return {};
  }
  std::string_view v(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return v;
}

size_t CompactReader::ReadListHeader(CType* elem_type) {
  if (p_ >= end_) {
    Fail("truncated list header");
    return 0;
  }
  uint8_t b = *p_++;
  *elem_type = static_cast<CType>(b & 0x0F);
  uint64_t n = b >> 4;
  if (n == 15) n = Varint();
  if (!ok()) return 0;
  // A boolean list element is one byte; every other element at least one too
  // (an empty struct is its stop byte).
  if (n > static_cast<uint64_t>(end_ - p_)) {
    Fail(fmt::format("list of {} elements exceeds the {} bytes left", n, end_ - p_));
    return 0;
  }
  return static_cast<size_t>(n);
}

void CompactReader::Skip(CType type) { SkipDepth(type, 0); }

void CompactReader::SkipDepth(CType type, int depth) {
  if (!ok()) return;
  if (depth > kMaxDepth) {
    Fail("values nested too deeply");
    return;
  }
  switch (type) {
    case kBoolTrue:
    case kBoolFalse:
      return;  // value is in the field header
    case kByte:
      if (p_ >= end_) return Fail("truncated byte");
      ++p_;
      return;
    case kI16:
    case kI32:
    case kI64:
      Varint();
      return;
    case kDouble:
      if (end_ - p_ < 8) return Fail("truncated double");
      p_ += 8;
      return;
    case kBinary:
      ReadBinary();
      return;
    case kList:
    case kSet: {
      CType et;
      size_t n = ReadListHeader(&et);
      for (size_t i = 0; i < n && ok(); ++i) {
        if (et == kBoolTrue || et == kBoolFalse) {
          SkipDepth(kByte, depth + 1);
        } else {
          SkipDepth(et, depth + 1);
        }
      }
      return;
    }
    case kMap: {
      uint64_t n = Varint();
      if (n == 0 || !ok()) return;
      if (n > static_cast<uint64_t>(end_ - p_)) return Fail("map too large");
      if (p_ >= end_) return Fail("truncated map");
      uint8_t kv = *p_++;
      CType kt = static_cast<CType>(kv >> 4), vt = static_cast<CType>(kv & 0x0F);
      for (uint64_t i = 0; i < n && ok(); ++i) {
        SkipDepth((kt == kBoolTrue || kt == kBoolFalse) ? kByte : kt, depth + 1);
        SkipDepth((vt == kBoolTrue || vt == kBoolFalse) ? kByte : vt, depth + 1);
      }
      return;
    }
    case kStruct: {
      StructBegin();
      int16_t id;
      CType t;
      while (NextField(&id, &t)) SkipDepth(t, depth + 1);
      StructEnd();
      return;
    }
    default:
      Fail(fmt::format("cannot skip type {}", static_cast<int>(type)));
  }
}

}  // namespace ws::format::thrift
