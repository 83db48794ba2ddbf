// A bounds-checked reader of the protobuf wire format (proto2/proto3 encoding),
// enough for ONNX: varints, fixed32/64, length-delimited fields, packed repeated
// scalars, and skipping unknown fields. Every read checks the remaining bytes;
// a malformed file raises InvalidModel naming the byte offset, never reads past
// the buffer, and never allocates more than the bytes actually present.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../core/error.h"

namespace netlite {
namespace pb {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

class Reader {
 public:
  Reader(const uint8_t* begin, const uint8_t* end, size_t base_offset, const char* what)
      : p_(begin), end_(end), base_(base_offset), start_(begin), what_(what) {}

  bool done() const { return p_ >= end_; }
  size_t offset() const { return base_ + size_t(p_ - start_); }

  // Reads the next field key; returns false at the end of the message.
  bool next(uint32_t* field, WireType* wire) {
    if (p_ >= end_) return false;
    uint64_t key = varint();
    uint32_t w = uint32_t(key & 7);
    uint64_t f = key >> 3;
    if (f == 0 || f > 536870911u || w > 5) error("invalid field key");
    *field = uint32_t(f);
    *wire = WireType(w);
    return true;
  }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) error("truncated varint");
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    error("varint longer than 10 bytes");
  }

  int64_t int64() { return int64_t(varint()); }
  int32_t int32() { return int32_t(varint()); }

  uint32_t fixed32() {
    need(4);
    uint32_t v;
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return v;
  }
  uint64_t fixed64() {
    need(8);
    uint64_t v;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return v;
  }
  float float32() {
    uint32_t u = fixed32();
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  double float64() {
    uint64_t u = fixed64();
    double d;
    std::memcpy(&d, &u, 8);
    return d;
  }

  // A length-delimited field as a sub-reader (for nested messages and packed arrays).
  Reader message(const char* what) {
    size_t n = length();
    Reader r(p_, p_ + n, offset(), what);
    p_ += n;
    return r;
  }

  // A length-delimited field's bytes (pointer into the buffer, no copy).
  void bytes(const uint8_t** data, size_t* size) {
    size_t n = length();
    *data = p_;
    *size = n;
    p_ += n;
  }

  std::string string() {
    const uint8_t* d;
    size_t n;
    bytes(&d, &n);
    return std::string(reinterpret_cast<const char*>(d), n);
  }

  void skip(WireType wire) {
    switch (wire) {
      case kVarint: varint(); break;
      case kFixed64: need(8); p_ += 8; break;
      case kFixed32: need(4); p_ += 4; break;
      case kLengthDelimited: { size_t n = length(); p_ += n; break; }
      default: error("groups are not supported in ONNX files");
    }
  }

  // Repeated scalar fields may come packed (one length-delimited run) or one by one.
  void repeated_int64(WireType wire, std::vector<int64_t>* out) {
    if (wire == kLengthDelimited) {
      Reader r = message(what_);
      while (!r.done()) out->push_back(r.int64());
    } else if (wire == kVarint) {
      out->push_back(int64());
    } else {
      error("wrong wire type for a repeated integer field");
    }
  }
  void repeated_int32(WireType wire, std::vector<int32_t>* out) {
    if (wire == kLengthDelimited) {
      Reader r = message(what_);
      while (!r.done()) out->push_back(r.int32());
    } else if (wire == kVarint) {
      out->push_back(int32());
    } else {
      error("wrong wire type for a repeated integer field");
    }
  }
  void repeated_uint64(WireType wire, std::vector<uint64_t>* out) {
    if (wire == kLengthDelimited) {
      Reader r = message(what_);
      while (!r.done()) out->push_back(r.varint());
    } else if (wire == kVarint) {
      out->push_back(varint());
    } else {
      error("wrong wire type for a repeated integer field");
    }
  }
  void repeated_float(WireType wire, std::vector<float>* out) {
    if (wire == kLengthDelimited) {
      Reader r = message(what_);
      if ((r.end_ - r.p_) % 4) r.error("packed float array length is not a multiple of 4");
      out->reserve(out->size() + size_t(r.end_ - r.p_) / 4);
      while (!r.done()) out->push_back(r.float32());
    } else if (wire == kFixed32) {
      out->push_back(float32());
    } else {
      error("wrong wire type for a repeated float field");
    }
  }
  void repeated_double(WireType wire, std::vector<double>* out) {
    if (wire == kLengthDelimited) {
      Reader r = message(what_);
      if ((r.end_ - r.p_) % 8) r.error("packed double array length is not a multiple of 8");
      while (!r.done()) out->push_back(r.float64());
    } else if (wire == kFixed64) {
      out->push_back(float64());
    } else {
      error("wrong wire type for a repeated double field");
    }
  }

  void expect(WireType got, WireType want, uint32_t field) {
    if (got != want) {
      std::string msg = "field ";
      msg += std::to_string(field);
      msg += " has wire type ";
      msg += std::to_string(int(got));
      msg += ", expected ";
      msg += std::to_string(int(want));
      error(msg.c_str());
    }
  }

  [[noreturn]] void error(const char* msg) const {
    fail(StatusCode::InvalidModel, "malformed ", what_, " at byte ", offset(), ": ", msg);
  }

 private:
  void need(size_t n) {
    if (size_t(end_ - p_) < n) error("field runs past the end of its message");
  }
  size_t length() {
    uint64_t n = varint();
    if (n > uint64_t(end_ - p_)) error("length runs past the end of its message");
    return size_t(n);
  }

  const uint8_t* p_;
  const uint8_t* end_;
  size_t base_;
  const uint8_t* start_;
  const char* what_;
};

}  // namespace pb
}  // namespace netlite
