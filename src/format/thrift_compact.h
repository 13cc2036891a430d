// Thrift compact protocol: the encoding of every Parquet footer and page
// header (Thrift's "compact protocol" specification).
//
// Contract: CompactWriter appends to a caller-owned string and never fails.
// CompactReader reads a bounded buffer it does not own; every length, list
// size and nesting depth is checked against the bytes that remain, so a
// garbled buffer yields a Corruption status (kept in status()) instead of a
// crash or an allocation driven by the buffer's contents. After the first
// error every read returns a zero value and status() keeps the first error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/coding.h"
#include "wikistream/common/status.h"

namespace ws::format::thrift {

// Compact protocol type ids (as they appear in field headers and lists).
enum CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) {}

  // Struct nesting: the field-id delta encoding is relative to the
  // previous field of the same struct.
  void StructBegin();
  void StructEnd();  // writes the stop byte

  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldI16(int16_t id, int16_t v);
  void FieldBool(int16_t id, bool v);
  void FieldBinary(int16_t id, std::string_view v);
  void FieldStructBegin(int16_t id);  // then fields, then StructEnd()
  void FieldListBegin(int16_t id, CType elem_type, size_t size);

  // List elements.
  void ElemI32(int32_t v) { Varint(ZigZagEncode32(v)); }
  void ElemBinary(std::string_view v);
  void ElemStructBegin() { StructBegin(); }

 private:
  void FieldHeader(int16_t id, CType type);
  void Varint(uint64_t v);

  std::string* out_;
  std::vector<int16_t> last_id_;
};

class CompactReader {
 public:
  CompactReader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {}

  // Reads a field header. Returns false at the struct's stop byte or on error.
  bool NextField(int16_t* id, CType* type);
  void StructBegin();
  void StructEnd();

  int32_t ReadI32();
  int64_t ReadI64();
  int16_t ReadI16() { return static_cast<int16_t>(ReadI32()); }
  // The value of a boolean field is carried by its field-header type.
  static bool BoolFromFieldType(CType t) { return t == kBoolTrue; }
  std::string_view ReadBinary();
  std::string ReadString() { return std::string(ReadBinary()); }
  // Returns the element count; elements follow. The count is checked to fit
  // the remaining bytes (every element takes at least one byte).
  size_t ReadListHeader(CType* elem_type);
  // Skips a value of the given type (including nested containers).
  void Skip(CType type);

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  void Fail(std::string message);

 private:
  uint64_t Varint();
  void SkipDepth(CType type, int depth);

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  Status status_;
  std::vector<int16_t> last_id_;
  int16_t cur_last_ = 0;
};

}  // namespace ws::format::thrift
