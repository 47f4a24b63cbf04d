#include "edgepipe/eval/example_wire.h"

#include <fmt/format.h>

#include <cstring>

namespace edgepipe::eval {
namespace {

// A cursor over protobuf wire bytes.
struct Reader {
  const uint8_t* p;
  const uint8_t* end;

  bool done() const { return p == end; }
  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) return false;
      const uint8_t b = *p++;
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = r;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }
  // A field tag; only length-delimited fields (wire type 2) are accepted.
  bool LenField(uint64_t* field, std::string_view* body) {
    uint64_t tag = 0, len = 0;
    if (!Varint(&tag) || (tag & 7) != 2 || !Varint(&len)) return false;
    if (len > static_cast<uint64_t>(end - p)) return false;
    *field = tag >> 3;
    *body = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
    p += len;
    return true;
  }
};

Reader Over(std::string_view s) {
  const auto* b = reinterpret_cast<const uint8_t*>(s.data());
  return {b, b + s.size()};
}

// The body of a list message with only field 1 packed once (numbers), or
// field 1 repeated (bytes).
bool ParseList(WireFeature::Kind kind, std::string_view list, WireFeature* f) {
  f->kind = kind;
  Reader r = Over(list);
  if (kind == WireFeature::Kind::kBytes) {
    f->values = list;
    int64_t n = 0;
    while (!r.done()) {
      uint64_t field = 0;
      std::string_view v;
      if (!r.LenField(&field, &v) || field != 1) return false;
      ++n;
    }
    f->count = n;
    return true;
  }
  if (r.done()) {
    f->count = 0;
    f->values = {};
    return true;
  }
  uint64_t field = 0;
  std::string_view packed;
  if (!r.LenField(&field, &packed) || field != 1 || !r.done()) return false;
  f->values = packed;
  if (kind == WireFeature::Kind::kFloat) {
    if (packed.size() % 4 != 0) return false;
    f->count = static_cast<int64_t>(packed.size() / 4);
    return true;
  }
  Reader v = Over(packed);
  int64_t n = 0;
  uint64_t x = 0;
  while (!v.done()) {
    if (!v.Varint(&x)) return false;
    ++n;
  }
  f->count = n;
  return true;
}

bool ParseFeature(std::string_view body, WireFeature* f) {
  Reader r = Over(body);
  *f = WireFeature();
  if (r.done()) return true;  // no list set
  uint64_t field = 0;
  std::string_view list;
  if (!r.LenField(&field, &list) || !r.done()) return false;
  switch (field) {
    case 1:
      return ParseList(WireFeature::Kind::kBytes, list, f);
    case 2:
      return ParseList(WireFeature::Kind::kFloat, list, f);
    case 3:
      return ParseList(WireFeature::Kind::kInt64, list, f);
    default:
      return false;
  }
}

}  // namespace

void WireFeature::Floats(float* out) const {
  if (kind == Kind::kFloat) {
    std::memcpy(out, values.data(), static_cast<size_t>(count) * sizeof(float));
    return;
  }
  Reader r = Over(values);
  uint64_t x = 0;
  for (int64_t i = 0; i < count && r.Varint(&x); ++i) {
    out[i] = static_cast<float>(static_cast<int64_t>(x));
  }
}

void WireFeature::Int64s(int64_t* out) const {
  Reader r = Over(values);
  uint64_t x = 0;
  for (int64_t i = 0; i < count && r.Varint(&x); ++i) out[i] = static_cast<int64_t>(x);
}

void WireFeature::AppendText(std::vector<std::string>* out) const {
  switch (kind) {
    case Kind::kFloat:
      for (int64_t i = 0; i < count; ++i) {
        float v;
        std::memcpy(&v, values.data() + 4 * i, sizeof(v));
        out->push_back(fmt::format("{:g}", v));
      }
      break;
    case Kind::kInt64: {
      Reader r = Over(values);
      uint64_t x = 0;
      for (int64_t i = 0; i < count && r.Varint(&x); ++i) {
        out->push_back(std::to_string(static_cast<int64_t>(x)));
      }
      break;
    }
    case Kind::kBytes: {
      Reader r = Over(values);
      uint64_t field = 0;
      std::string_view v;
      while (!r.done() && r.LenField(&field, &v)) out->emplace_back(v);
      break;
    }
    case Kind::kNone:
      break;
  }
}

bool WireExample::Parse(std::string_view record) {
  entries_.clear();
  Reader r = Over(record);
  if (r.done()) return true;  // an empty Example
  uint64_t field = 0;
  std::string_view features;
  if (!r.LenField(&field, &features) || field != 1 || !r.done()) return false;
  Reader fr = Over(features);
  while (!fr.done()) {
    std::string_view entry;
    if (!fr.LenField(&field, &entry) || field != 1) return false;
    Reader er = Over(entry);
    bool has_key = false, has_value = false;
    std::string_view key, value;
    while (!er.done()) {
      std::string_view body;
      if (!er.LenField(&field, &body)) return false;
      if (field == 1 && !has_key) {
        // protobuf checks a proto3 string for UTF-8; leave non-ASCII keys to it.
        for (char c : body) {
          if (static_cast<unsigned char>(c) >= 0x80) return false;
        }
        key = body;
        has_key = true;
      } else if (field == 2 && !has_value) {
        value = body;
        has_value = true;
      } else {
        return false;
      }
    }
    WireFeature f;
    if (!ParseFeature(value, &f)) return false;
    entries_.emplace_back(key, f);
  }
  return true;
}

bool WireExample::Find(std::string_view name, const WireFeature** out) const {
  *out = nullptr;
  for (const auto& [key, f] : entries_) {
    if (key != name) continue;
    if (*out != nullptr) return false;
    *out = &f;
  }
  return true;
}

}  // namespace edgepipe::eval
