// CSV files (RFC 4180 style) read into typed columns, and rows turned into
// tf.Example the way TFX's CsvExampleGen does.
//
// Dialect: the first row is the header and gives the column names; fields are
// separated by `CsvOptions::delimiter`; a field may be double-quoted, in which
// case it may hold delimiters, line breaks and `""` (one literal quote); a
// quote inside an unquoted field is an ordinary character; a quoted field
// must be followed by a delimiter or a line end. Line ends are LF, CRLF or a
// lone CR. A leading UTF-8 byte-order mark is skipped. Empty lines are
// skipped (they are not rows). A trailing line end after the last row is
// optional. The file may be gzip-compressed (detected from its first bytes).
//
// Missing values: a field whose (unquoted) text equals one of
// `CsvOptions::missing_values` is missing ("" by default; pass {"", "NA"} for
// R-written files).
//
// Type inference per column over the whole file (the rules of tfx_bsl's CSV
// decoder, which CsvExampleGen uses):
//   kInt64  every present value is a base-10 integer in int64 range
//           (optional sign, leading/trailing ASCII whitespace allowed);
//   kFloat  otherwise, every present value is an int64 or a decimal number as
//           Python's float() reads it: "1.5", ".5", "5.", "1e-3", and also
//           "nan", "inf", "infinity" in any case with an optional sign. So
//           "NaN" is a float but "NA" is not (it makes the column a string
//           column unless listed in missing_values);
//   kString otherwise - including a column holding an integer outside int64
//           range, as in tfx_bsl;
//           (unlike Python, digit-group underscores such as "1_000" are not
//           accepted as numbers);
//   kUnknown every value is missing (no type can be inferred).
//
// Thread safety: the functions are reentrant; a CsvTable is a plain value.
#ifndef EDGEPIPE_DATA_CSV_H_
#define EDGEPIPE_DATA_CSV_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/example.pb.h"

namespace edgepipe::data {

enum class CsvType : uint8_t { kUnknown, kInt64, kFloat, kString };

// "unknown", "int64", "float", "string".
std::string_view CsvTypeName(CsvType type);

struct CsvOptions {
  char delimiter = ',';
  // Field texts that mean "no value". Compared after unquoting.
  std::vector<std::string> missing_values = {""};
};

// One column. Exactly one of the value vectors is filled, by `type`
// (none for kUnknown), with one entry per row; entries of missing rows hold
// 0 / 0.0 / "". `present[r]` is 1 when row r has a value.
struct CsvColumn {
  std::string name;
  CsvType type = CsvType::kUnknown;
  std::vector<uint8_t> present;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;

  bool is_present(int64_t row) const { return present[static_cast<size_t>(row)] != 0; }
};

struct CsvTable {
  std::vector<CsvColumn> columns;  // in header order
  int64_t num_rows = 0;

  // Index of the column named `name`, or -1.
  int FindColumn(std::string_view name) const;
};

// Parses CSV text. `name` is used in error messages (normally the file
// name). Errors (InvalidArgument) name the file, the 1-based physical line
// where the row starts and its byte offset:
//   "penguins.csv: line 7 (byte 312): 6 fields, header has 8"
//   "x.csv: line 3: quoted field opened at byte 57 never closed"
// and header problems (empty file, empty or duplicate column names).
Result<CsvTable> ParseCsv(std::string_view text, std::string_view name,
                          const CsvOptions& options = {});

// Reads and parses the file at `path` (plain or gzip) through `env`; errors
// from the file layer are returned as they are; parse errors start with
// `path`. Memory: the whole file text plus the parsed columns.
Result<CsvTable> ReadCsv(const std::string& path, const CsvOptions& options = {},
                         Env* env = Env::Default());

// Fills `*example` (cleared first) from row `row` of `table`, as
// CsvExampleGen does: int64 -> int64_list, float -> float_list (rounded to
// float32), string -> bytes_list, one value each; a missing value leaves the
// feature absent. OutOfRange when `row` is not in [0, num_rows).
Status CsvRowToExample(const CsvTable& table, int64_t row, tf::Example* example);

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_CSV_H_
