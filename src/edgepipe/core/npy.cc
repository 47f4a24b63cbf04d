#include "edgepipe/core/npy.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>
#include <vector>

namespace edgepipe {
namespace {

static_assert(std::endian::native == std::endian::little, "npy.cc assumes a little-endian host");

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kAlign = 64;              // numpy's ARRAY_ALIGN
constexpr size_t kGrowthDigits = 21;       // numpy's GROWTH_AXIS_MAX_DIGITS
constexpr size_t kMaxRank = 64;            // numpy 2's NPY_MAXDIMS
constexpr size_t kMaxHeaderLen = 1 << 20;  // generous; numpy allows 10000 by default

struct DTypeEntry {
  DType dtype;
  std::string_view descr;  // what we write
};
constexpr DTypeEntry kDTypes[] = {
    {DType::kFloat32, "<f4"}, {DType::kInt8, "|i1"},  {DType::kUInt8, "|u1"},
    {DType::kInt32, "<i4"},   {DType::kInt64, "<i8"}, {DType::kBool, "|b1"},
};

std::string Quote(std::string_view s) { return fmt::format("'{}'", s); }

// The fixed part before the header text.
struct Prefix {
  int major = 0;
  size_t size = 0;        // 10 (v1) or 12 (v2, v3)
  size_t header_len = 0;  // bytes of header text after the prefix
};

// `bytes` holds at least the first 10 bytes (12 for v2+ when available).
Result<Prefix> ParsePrefix(std::string_view bytes, std::string_view name) {
  const std::string n(name);
  const size_t m = std::min(bytes.size(), kMagic.size());
  if (bytes.substr(0, m) != kMagic.substr(0, m) || bytes.empty()) {
    return Status::InvalidArgument(n + ": not a .npy file (the first 6 bytes must be \\x93NUMPY)");
  }
  if (bytes.size() < 10) {
    return Status::DataLoss(n + ": truncated .npy header: file ends after " +
                            std::to_string(bytes.size()) + " bytes");
  }
  Prefix p;
  p.major = static_cast<uint8_t>(bytes[6]);
  const int minor = static_cast<uint8_t>(bytes[7]);
  if (p.major < 1 || p.major > 3 || minor != 0) {
    return Status::Unimplemented(n + ": .npy format version " + std::to_string(p.major) + "." +
                                 std::to_string(minor) + " is not supported (1.0, 2.0, 3.0)");
  }
  auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<uint8_t>(bytes[i])); };
  if (p.major == 1) {
    p.size = 10;
    p.header_len = byte(8) | (byte(9) << 8);
  } else {
    if (bytes.size() < 12) {
      return Status::DataLoss(n + ": truncated .npy header: file ends after " +
                              std::to_string(bytes.size()) + " bytes");
    }
    p.size = 12;
    p.header_len = byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24);
  }
  if (p.header_len > kMaxHeaderLen) {
    return Status::InvalidArgument(n + ": .npy header length " + std::to_string(p.header_len) +
                                   " exceeds the limit of " + std::to_string(kMaxHeaderLen));
  }
  return p;
}

struct Header {
  DType dtype = DType::kFloat32;
  bool byteswap = false;
  std::vector<int64_t> shape;
  int64_t data_bytes = 0;
};

// A parser for the Python dict literal of the header.
class DictParser {
 public:
  DictParser(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  Result<Header> Parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<int64_t>> shape;
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      ASSIGN_OR_RETURN(std::string key, ParseString("a quoted key"));
      SkipSpace();
      if (!Consume(':')) return Error("expected ':' after key " + Quote(key));
      SkipSpace();
      if (key == "descr") {
        if (descr) return Error("duplicate key 'descr'");
        if (Peek() == '[') {
          return Status::Unimplemented(std::string(name_) +
                                       ": structured dtypes (a list descr) are not supported");
        }
        ASSIGN_OR_RETURN(descr, ParseString("a quoted descr"));
      } else if (key == "fortran_order") {
        if (fortran) return Error("duplicate key 'fortran_order'");
        ASSIGN_OR_RETURN(fortran, ParseBool());
      } else if (key == "shape") {
        if (shape) return Error("duplicate key 'shape'");
        ASSIGN_OR_RETURN(shape, ParseShape());
      } else {
        return Error("unexpected key " + Quote(key) +
                     " (expected 'descr', 'fortran_order', 'shape')");
      }
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) break;
      return Error("expected ',' or '}' after the value of " + Quote(key));
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after '}'");
    if (!descr || !fortran || !shape) {
      return Error(std::string("missing key ") + (!descr     ? "'descr'"
                                                  : !fortran ? "'fortran_order'"
                                                             : "'shape'"));
    }
    if (*fortran) {
      return Status::Unimplemented(std::string(name_) +
                                   ": fortran_order True is not supported (only C order); "
                                   "save with np.ascontiguousarray(a)");
    }
    Header h;
    ASSIGN_OR_RETURN(std::tie(h.dtype, h.byteswap), LookupDescr(*descr));
    h.shape = std::move(*shape);
    Result<int64_t> n = NumElements(h.shape);
    if (!n.ok()) return n.status().WithContext(name_);
    const auto elem = static_cast<int64_t>(DTypeSize(h.dtype));
    if (*n > std::numeric_limits<int64_t>::max() / elem) {
      return Status::InvalidArgument(std::string(name_) + ": shape " + ShapeToString(h.shape) +
                                     " of " + std::string(DTypeName(h.dtype)) +
                                     " overflows the byte count");
    }
    h.data_bytes = *n * elem;
    return h;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument(std::string(name_) + ": malformed .npy header at offset " +
                                   std::to_string(pos_) + ": " + what);
  }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c || pos_ >= text_.size()) return false;
    ++pos_;
    return true;
  }
  bool ConsumeWord(std::string_view w) {
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  Result<std::string> ParseString(const std::string& what) {
    char q = Peek();
    if (q != '\'' && q != '"') return Error("expected " + what);
    size_t end = text_.find(q, pos_ + 1);
    if (end == std::string_view::npos) return Error("unterminated string");
    std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
    if (s.find('\\') != std::string::npos) return Error("escapes in strings are not supported");
    pos_ = end + 1;
    return s;
  }
  Result<bool> ParseBool() {
    if (ConsumeWord("True")) return true;
    if (ConsumeWord("False")) return false;
    return Error("fortran_order must be True or False");
  }
  Result<std::vector<int64_t>> ParseShape() {
    if (!Consume('(')) return Error("shape must be a tuple like (2, 3)");
    std::vector<int64_t> dims;
    while (true) {
      SkipSpace();
      if (Consume(')')) break;
      if (Peek() < '0' || Peek() > '9') {
        return Error("shape dimension " + std::to_string(dims.size()) +
                     " must be a non-negative integer");
      }
      int64_t d = 0;
      while (Peek() >= '0' && Peek() <= '9') {
        int digit = Peek() - '0';
        if (d > (std::numeric_limits<int64_t>::max() - digit) / 10) {
          return Status::InvalidArgument(std::string(name_) + ": shape dimension " +
                                         std::to_string(dims.size()) + " overflows int64");
        }
        d = d * 10 + digit;
        ++pos_;
      }
      Consume('L');  // Python 2 long suffix
      dims.push_back(d);
      if (dims.size() > kMaxRank) {
        return Error("shape has more than " + std::to_string(kMaxRank) + " dimensions");
      }
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume(')')) break;
      return Error("expected ',' or ')' in shape");
    }
    return dims;
  }
  Result<std::pair<DType, bool>> LookupDescr(const std::string& descr) const {
    if (descr.size() == 3) {
      const char order = descr[0];
      const std::string_view body = std::string_view(descr).substr(1);
      for (const DTypeEntry& e : kDTypes) {
        if (body != e.descr.substr(1)) continue;
        const bool one_byte = DTypeSize(e.dtype) == 1;
        if (order == '<' || (order == '|' && one_byte)) return std::pair(e.dtype, false);
        if (order == '>') return std::pair(e.dtype, !one_byte);
      }
    }
    std::string msg =
        std::string(name_) + ": unsupported dtype descr " + Quote(descr) + " (supported: ";
    for (const DTypeEntry& e : kDTypes) {
      msg += Quote(e.descr) + " " + std::string(DTypeName(e.dtype));
      msg += e.dtype == DType::kBool ? ")" : ", ";
    }
    if (descr.size() > 1 && descr.substr(1) == "f8") msg += "; convert with a.astype(np.float32)";
    return Status::Unimplemented(msg);
  }

  std::string_view text_;
  std::string_view name_;
  size_t pos_ = 0;
};

// Byte-swaps big-endian elements in place and checks bool bytes are 0 or 1.
Status FixUpData(Array& a, bool byteswap, std::string_view name) {
  auto* p = static_cast<uint8_t*>(a.raw_data());
  const size_t elem = DTypeSize(a.dtype());
  if (byteswap) {
    for (size_t i = 0; i < a.num_bytes(); i += elem) std::reverse(p + i, p + i + elem);
  }
  if (a.dtype() == DType::kBool) {
    for (size_t i = 0; i < a.num_bytes(); ++i) {
      if (p[i] > 1) {
        return Status::InvalidArgument(std::string(name) + ": bool element " + std::to_string(i) +
                                       " has byte value " + std::to_string(p[i]) +
                                       " (must be 0 or 1)");
      }
    }
  }
  return Status::Ok();
}

Status SizeMismatch(std::string_view name, const Header& h, uint64_t available) {
  std::string msg = std::string(name) + ": shape " + ShapeToString(h.shape) + " of " +
                    std::string(DTypeName(h.dtype)) + " needs " + std::to_string(h.data_bytes) +
                    " data bytes but the file has " + std::to_string(available);
  if (available < static_cast<uint64_t>(h.data_bytes)) return Status::DataLoss(msg);
  return Status::InvalidArgument(msg + " (trailing bytes)");
}

Status ReadExactly(ReadableFile& file, char* buf, size_t n, size_t* got) {
  *got = 0;
  while (*got < n) {
    ASSIGN_OR_RETURN(size_t r, file.Read(buf + *got, n - *got));
    if (r == 0) break;
    *got += r;
  }
  return Status::Ok();
}

std::string ShapeRepr(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

Result<Array> ParseNpy(std::string_view bytes, std::string_view name_for_errors) {
  ASSIGN_OR_RETURN(Prefix prefix, ParsePrefix(bytes, name_for_errors));
  if (bytes.size() - prefix.size < prefix.header_len) {
    return Status::DataLoss(std::string(name_for_errors) + ": truncated .npy header: needs " +
                            std::to_string(prefix.header_len) + " bytes, file has " +
                            std::to_string(bytes.size() - prefix.size));
  }
  DictParser parser(bytes.substr(prefix.size, prefix.header_len), name_for_errors);
  ASSIGN_OR_RETURN(Header h, parser.Parse());
  const std::string_view data = bytes.substr(prefix.size + prefix.header_len);
  if (data.size() != static_cast<uint64_t>(h.data_bytes)) {
    return SizeMismatch(name_for_errors, h, data.size());
  }
  Result<Array> a = Array::Zeros(h.dtype, h.shape);
  if (!a.ok()) return a.status().WithContext(name_for_errors);
  if (!data.empty()) std::memcpy(a->raw_data(), data.data(), data.size());
  RETURN_IF_ERROR(FixUpData(*a, h.byteswap, name_for_errors));
  return a;
}

Result<Array> ReadNpy(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(uint64_t file_size, env->FileSize(path));
  ASSIGN_OR_RETURN(auto file, env->OpenForRead(path));
  char prefix_buf[12];
  size_t got = 0;
  RETURN_IF_ERROR(ReadExactly(*file, prefix_buf, 10, &got));
  if (got == 10 && static_cast<uint8_t>(prefix_buf[6]) >= 2) {
    size_t more = 0;
    RETURN_IF_ERROR(ReadExactly(*file, prefix_buf + 10, 2, &more));
    got += more;
  }
  ASSIGN_OR_RETURN(Prefix prefix, ParsePrefix(std::string_view(prefix_buf, got), path));
  std::string header(prefix.header_len, '\0');
  RETURN_IF_ERROR(ReadExactly(*file, header.data(), header.size(), &got));
  if (got != header.size()) {
    return Status::DataLoss(path + ": truncated .npy header: needs " +
                            std::to_string(prefix.header_len) + " bytes, file has " +
                            std::to_string(got));
  }
  DictParser parser(header, path);
  ASSIGN_OR_RETURN(Header h, parser.Parse());
  const uint64_t header_end = prefix.size + prefix.header_len;
  const uint64_t available = file_size >= header_end ? file_size - header_end : 0;
  if (available != static_cast<uint64_t>(h.data_bytes)) return SizeMismatch(path, h, available);
  Result<Array> a = Array::Zeros(h.dtype, h.shape);
  if (!a.ok()) return a.status().WithContext(path);
  RETURN_IF_ERROR(ReadExactly(*file, static_cast<char*>(a->raw_data()), a->num_bytes(), &got));
  char extra;
  size_t extra_got = 0;
  if (got == a->num_bytes()) RETURN_IF_ERROR(ReadExactly(*file, &extra, 1, &extra_got));
  if (got != a->num_bytes() || extra_got != 0) {
    // The file changed size while we read it.
    return SizeMismatch(path, h, got + extra_got);
  }
  RETURN_IF_ERROR(FixUpData(*a, h.byteswap, path));
  return a;
}

std::string SerializeNpy(const Array& array) {
  std::string_view descr;
  for (const DTypeEntry& e : kDTypes) {
    if (e.dtype == array.dtype()) descr = e.descr;
  }
  std::string dict = "{'descr': " + Quote(descr) +
                     ", 'fortran_order': False, 'shape': " + ShapeRepr(array.shape()) + ", }";
  if (!array.shape().empty()) {
    const size_t digits = std::to_string(array.shape()[0]).size();
    if (digits < kGrowthDigits) dict.append(kGrowthDigits - digits, ' ');
  }
  // Text + '\n', padded with spaces so that prefix + header is a multiple of 64.
  size_t prefix_size = 10;
  size_t header_len = dict.size() + 1;
  header_len += (kAlign - (prefix_size + header_len) % kAlign) % kAlign;
  if (header_len > 0xffff) {
    prefix_size = 12;
    header_len = dict.size() + 1;
    header_len += (kAlign - (prefix_size + header_len) % kAlign) % kAlign;
  }
  std::string out(kMagic);
  out += static_cast<char>(prefix_size == 10 ? 1 : 2);
  out += '\0';
  const int len_bytes = prefix_size == 10 ? 2 : 4;
  for (int i = 0; i < len_bytes; ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xff);
  out += dict;
  out.append(header_len - dict.size() - 1, ' ');
  out += '\n';
  if (array.num_bytes() > 0) {
    out.append(static_cast<const char*>(array.raw_data()), array.num_bytes());
  }
  return out;
}

Status WriteNpy(const std::string& path, const Array& array, Env* env) {
  return WriteFileAtomic(path, SerializeNpy(array), env);
}

}  // namespace edgepipe
