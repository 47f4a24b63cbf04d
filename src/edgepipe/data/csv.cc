#include "edgepipe/data/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <unordered_map>

#include "edgepipe/data/compression.h"

namespace edgepipe::data {
namespace {

// What one present value says about its column's type, ordered so that the
// column type is the maximum over its values (tfx_bsl's hierarchy).
enum class ValueKind : uint8_t { kInt = 1, kFloat = 2, kString = 3 };

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Parses a base-10 integer as Python's int() does (without underscores).
// Returns false when the text is not integer syntax; sets *out_of_range when
// it is but does not fit int64.
bool ParseInt(std::string_view s, int64_t* out, bool* out_of_range) {
  *out_of_range = false;
  s = Trim(s);
  bool neg = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  // Digits only: parse magnitude as uint64 and apply the sign.
  uint64_t mag = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), mag);
  if (ec == std::errc::result_out_of_range) {
    *out_of_range = true;
    return true;
  }
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  constexpr uint64_t kMaxPos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!neg && mag > kMaxPos) {
    *out_of_range = true;
    return true;
  }
  if (neg && mag > kMaxPos + 1) {
    *out_of_range = true;
    return true;
  }
  *out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// Parses a number as Python's float() does (decimal forms, "nan", "inf",
// "infinity", any case, optional sign, surrounding whitespace).
bool ParseFloat(std::string_view s, double* out) {
  s = Trim(s);
  bool neg = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  if (EqualsIgnoreCase(s, "nan")) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (EqualsIgnoreCase(s, "inf") || EqualsIgnoreCase(s, "infinity")) {
    *out = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  // Only digits, one '.', and an exponent may remain (from_chars would also
  // take "nan(...)" and a second sign, which Python rejects).
  const char c0 = s.front();
  if (!((c0 >= '0' && c0 <= '9') || c0 == '.')) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ptr != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Python gives inf for overflow and 0 for underflow; strtod does too.
    v = std::strtod(std::string(s).c_str(), nullptr);
  } else if (ec != std::errc()) {
    return false;
  }
  *out = neg ? -v : v;
  return true;
}

ValueKind Classify(std::string_view s) {
  int64_t i;
  bool out_of_range;
  if (ParseInt(s, &i, &out_of_range)) return out_of_range ? ValueKind::kString : ValueKind::kInt;
  double d;
  if (ParseFloat(s, &d)) return ValueKind::kFloat;
  return ValueKind::kString;
}

// Raw fields of the whole file, column-major. Views point into the text or
// into `owned` (fields that needed unescaping).
struct RawTable {
  std::vector<std::string> names;
  std::vector<std::vector<std::string_view>> cells;
  std::deque<std::string> owned;
  int64_t rows = 0;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view name, char delim)
      : t_(text), name_(name), delim_(delim) {}

  Status Parse(RawTable* out) {
    if (t_.size() >= 3 && t_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;  // UTF-8 BOM
    bool have_header = false;
    std::vector<std::string_view> fields;
    while (i_ < t_.size()) {
      if (AtLineEnd()) {  // an empty line is not a row
        SkipLineEnd();
        continue;
      }
      const int64_t row_line = line_;
      const size_t row_byte = i_;
      fields.clear();
      RETURN_IF_ERROR(ParseRow(&fields, out));
      if (!have_header) {
        RETURN_IF_ERROR(SetHeader(fields, out));
        have_header = true;
        continue;
      }
      if (fields.size() != out->names.size()) {
        return Status::InvalidArgument(At(row_line, row_byte) + ": " +
                                       std::to_string(fields.size()) + " fields, header has " +
                                       std::to_string(out->names.size()));
      }
      for (size_t c = 0; c < fields.size(); ++c) out->cells[c].push_back(fields[c]);
      ++out->rows;
    }
    if (!have_header) {
      return Status::InvalidArgument(std::string(name_) + ": file is empty, expected a header row");
    }
    return Status::Ok();
  }

 private:
  std::string At(int64_t line, size_t byte) const {
    return std::string(name_) + ": line " + std::to_string(line) + " (byte " +
           std::to_string(byte) + ")";
  }
  bool AtLineEnd() const { return t_[i_] == '\n' || t_[i_] == '\r'; }
  // Precondition: AtLineEnd(). Consumes LF, CRLF or a lone CR.
  void SkipLineEnd() {
    if (t_[i_] == '\r' && i_ + 1 < t_.size() && t_[i_ + 1] == '\n') ++i_;
    ++i_;
    ++line_;
  }

  // Parses one row starting at i_ (not at a line end) through its line end.
  Status ParseRow(std::vector<std::string_view>* fields, RawTable* out) {
    while (true) {
      if (i_ < t_.size() && t_[i_] == '"') {
        std::string_view f;
        RETURN_IF_ERROR(ParseQuoted(&f, out, fields->size()));
        fields->push_back(f);
      } else {
        const size_t start = i_;
        while (i_ < t_.size() && t_[i_] != delim_ && !AtLineEnd()) ++i_;
        fields->push_back(t_.substr(start, i_ - start));
      }
      if (i_ < t_.size() && t_[i_] == delim_) {
        ++i_;
        continue;  // a delimiter before a line end yields a final empty field
      }
      if (i_ < t_.size()) SkipLineEnd();
      return Status::Ok();
    }
  }

  Status ParseQuoted(std::string_view* field, RawTable* out, size_t field_index) {
    const size_t open = i_;
    const int64_t open_line = line_;
    ++i_;
    const size_t content = i_;
    std::string* unescaped = nullptr;  // set once a "" escape is seen
    while (true) {
      if (i_ >= t_.size()) {
        return Status::InvalidArgument(std::string(name_) + ": line " + std::to_string(open_line) +
                                       ": quoted field opened at byte " + std::to_string(open) +
                                       " never closed");
      }
      const char c = t_[i_];
      if (c == '"') {
        if (i_ + 1 < t_.size() && t_[i_ + 1] == '"') {
          if (unescaped == nullptr) {
            unescaped = &out->owned.emplace_back(t_.substr(content, i_ - content));
          }
          unescaped->push_back('"');
          i_ += 2;
          continue;
        }
        break;
      }
      if (c == '\n' || (c == '\r' && !(i_ + 1 < t_.size() && t_[i_ + 1] == '\n'))) ++line_;
      if (unescaped != nullptr) unescaped->push_back(c);
      ++i_;
    }
    *field = unescaped != nullptr ? std::string_view(*unescaped) : t_.substr(content, i_ - content);
    ++i_;  // closing quote
    if (i_ < t_.size() && t_[i_] != delim_ && !AtLineEnd()) {
      return Status::InvalidArgument(
          At(line_, i_) + ": unexpected character '" + std::string(1, t_[i_]) +
          "' after the closing quote of field " + std::to_string(field_index + 1) +
          "; a quoted field must end at a delimiter or line end");
    }
    return Status::Ok();
  }

  Status SetHeader(const std::vector<std::string_view>& fields, RawTable* out) {
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t c = 0; c < fields.size(); ++c) {
      if (fields[c].empty()) {
        return Status::InvalidArgument(std::string(name_) + ": header: column " +
                                       std::to_string(c + 1) + " has an empty name");
      }
      auto [it, inserted] = seen.emplace(fields[c], c);
      if (!inserted) {
        return Status::InvalidArgument(std::string(name_) + ": header: column name \"" +
                                       std::string(fields[c]) + "\" appears as columns " +
                                       std::to_string(it->second + 1) + " and " +
                                       std::to_string(c + 1));
      }
      out->names.emplace_back(fields[c]);
    }
    out->cells.resize(fields.size());
    return Status::Ok();
  }

  std::string_view t_;
  std::string_view name_;
  char delim_;
  size_t i_ = 0;
  int64_t line_ = 1;
};

CsvColumn BuildColumn(std::string name, const std::vector<std::string_view>& cells,
                      const CsvOptions& options) {
  CsvColumn col;
  col.name = std::move(name);
  col.present.resize(cells.size());
  auto is_missing = [&](std::string_view v) {
    return std::find(options.missing_values.begin(), options.missing_values.end(), v) !=
           options.missing_values.end();
  };
  uint8_t kind = 0;  // 0 = no value seen
  for (size_t r = 0; r < cells.size(); ++r) {
    if (is_missing(cells[r])) continue;
    col.present[r] = 1;
    if (kind < static_cast<uint8_t>(ValueKind::kString)) {
      kind = std::max(kind, static_cast<uint8_t>(Classify(cells[r])));
    }
  }
  const size_t n = cells.size();
  switch (kind) {
    case 0:
      col.type = CsvType::kUnknown;
      break;
    case static_cast<uint8_t>(ValueKind::kInt): {
      col.type = CsvType::kInt64;
      col.ints.assign(n, 0);
      bool oor;
      for (size_t r = 0; r < n; ++r) {
        if (col.present[r]) ParseInt(cells[r], &col.ints[r], &oor);
      }
      break;
    }
    case static_cast<uint8_t>(ValueKind::kFloat):
      col.type = CsvType::kFloat;
      col.floats.assign(n, 0.0);
      for (size_t r = 0; r < n; ++r) {
        if (col.present[r]) ParseFloat(cells[r], &col.floats[r]);
      }
      break;
    default:
      col.type = CsvType::kString;
      col.strings.resize(n);
      for (size_t r = 0; r < n; ++r) {
        if (col.present[r]) col.strings[r].assign(cells[r]);
      }
      break;
  }
  return col;
}

}  // namespace

std::string_view CsvTypeName(CsvType type) {
  switch (type) {
    case CsvType::kUnknown:
      return "unknown";
    case CsvType::kInt64:
      return "int64";
    case CsvType::kFloat:
      return "float";
    case CsvType::kString:
      return "string";
  }
  return "unknown";
}

int CsvTable::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<CsvTable> ParseCsv(std::string_view text, std::string_view name, const CsvOptions& options) {
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    return Status::InvalidArgument(std::string(name) + ": CSV delimiter must not be a quote or " +
                                   "line break");
  }
  RawTable raw;
  RETURN_IF_ERROR(Parser(text, name, options.delimiter).Parse(&raw));
  CsvTable table;
  table.num_rows = raw.rows;
  table.columns.reserve(raw.names.size());
  for (size_t c = 0; c < raw.names.size(); ++c) {
    table.columns.push_back(BuildColumn(std::move(raw.names[c]), raw.cells[c], options));
  }
  return table;
}

Result<CsvTable> ReadCsv(const std::string& path, const CsvOptions& options, Env* env) {
  ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, OpenMaybeGzip(path, env));
  std::string text;
  constexpr size_t kChunk = size_t{1} << 20;
  while (true) {
    const size_t old = text.size();
    text.resize(old + kChunk);
    ASSIGN_OR_RETURN(size_t got, file->Read(text.data() + old, kChunk));
    text.resize(old + got);
    if (got == 0) break;
  }
  return ParseCsv(text, path, options);
}

Status CsvRowToExample(const CsvTable& table, int64_t row, tf::Example* example) {
  if (row < 0 || row >= table.num_rows) {
    return Status::OutOfRange("CSV row " + std::to_string(row) + " is not in [0, " +
                              std::to_string(table.num_rows) + ")");
  }
  example->Clear();
  auto* features = example->mutable_features()->mutable_feature();
  const auto r = static_cast<size_t>(row);
  for (const CsvColumn& col : table.columns) {
    if (col.type == CsvType::kUnknown || !col.present[r]) continue;
    tf::Feature& f = (*features)[col.name];
    switch (col.type) {
      case CsvType::kInt64:
        f.mutable_int64_list()->add_value(col.ints[r]);
        break;
      case CsvType::kFloat:
        f.mutable_float_list()->add_value(static_cast<float>(col.floats[r]));
        break;
      case CsvType::kString:
        f.mutable_bytes_list()->add_value(col.strings[r]);
        break;
      case CsvType::kUnknown:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace edgepipe::data
