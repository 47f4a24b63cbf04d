#include "edgepipe/data/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "edgepipe/data/compression.h"
#include "edgepipe/data/test_env.h"

namespace edgepipe::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CsvTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTestDir(); }
  // Writes `text` to a file in the test folder and reads it back as CSV.
  Result<CsvTable> Read(const std::string& name, const std::string& text,
                        const CsvOptions& options = {}) {
    const std::string path = JoinPath(dir_, name);
    testing::WriteTestFile(path, text);
    return ReadCsv(path, options);
  }
  const CsvColumn& Col(const CsvTable& t, std::string_view name) {
    const int i = t.FindColumn(name);
    EXPECT_GE(i, 0) << name;
    return t.columns[static_cast<size_t>(std::max(i, 0))];
  }
  std::string dir_;
};

TEST_F(CsvTest, InfersTypesPerColumn) {
  auto t = Read("t.csv",
                "i,f,s,mixed_if,big\n"
                "1,1.5,abc,1,9223372036854775807\n"
                "-2,2,x y,2.5,1\n"
                "+3,-1e-3,3,7,-9223372036854775808\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_rows, 3);
  ASSERT_EQ(t->columns.size(), 5u);
  EXPECT_EQ(Col(*t, "i").type, CsvType::kInt64);
  EXPECT_THAT(Col(*t, "i").ints, ElementsAre(1, -2, 3));
  EXPECT_EQ(Col(*t, "f").type, CsvType::kFloat);
  EXPECT_THAT(Col(*t, "f").floats, ElementsAre(1.5, 2.0, -1e-3));
  EXPECT_EQ(Col(*t, "s").type, CsvType::kString);
  EXPECT_THAT(Col(*t, "s").strings, ElementsAre("abc", "x y", "3"));
  EXPECT_EQ(Col(*t, "mixed_if").type, CsvType::kFloat);
  EXPECT_THAT(Col(*t, "mixed_if").floats, ElementsAre(1.0, 2.5, 7.0));
  EXPECT_EQ(Col(*t, "big").type, CsvType::kInt64);
  EXPECT_THAT(Col(*t, "big").ints, ElementsAre(INT64_MAX, 1, std::numeric_limits<int64_t>::min()));
}

TEST_F(CsvTest, FollowsTfxBslNumberRules) {
  auto t = Read("n.csv",
                "oor,nan,na,ws,dot,hex\n"
                "9223372036854775808,NaN,NA, 12 ,.5,0x10\n"
                "1,-inf,1.0,3,5.,1\n"
                "2,Infinity,2,4,1E3,2\n");
  ASSERT_TRUE(t.ok()) << t.status();
  // An integer outside int64 makes the column a string column (tfx_bsl).
  EXPECT_EQ(Col(*t, "oor").type, CsvType::kString);
  EXPECT_EQ(Col(*t, "oor").strings[0], "9223372036854775808");
  const CsvColumn& nan = Col(*t, "nan");
  EXPECT_EQ(nan.type, CsvType::kFloat);
  EXPECT_TRUE(std::isnan(nan.floats[0]));
  EXPECT_EQ(nan.floats[1], -INFINITY);
  EXPECT_EQ(nan.floats[2], INFINITY);
  EXPECT_EQ(Col(*t, "na").type, CsvType::kString);  // "NA" is not a number
  EXPECT_EQ(Col(*t, "ws").type, CsvType::kInt64);   // whitespace around numbers
  EXPECT_THAT(Col(*t, "ws").ints, ElementsAre(12, 3, 4));
  EXPECT_THAT(Col(*t, "dot").floats, ElementsAre(0.5, 5.0, 1000.0));
  EXPECT_EQ(Col(*t, "hex").type, CsvType::kString);

  // Not numbers: double signs, dangling exponent, nan with payload, blanks.
  for (const char* bad : {"+-1", "1.5e", "nan(1)", "   ", "1 2", "--1", "1_000"}) {
    auto r = ParseCsv(std::string("v\n\"") + bad + "\"\n", "inline.csv");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->columns[0].type, CsvType::kString) << bad;
  }
  // Overflowing floats become inf as in Python.
  auto r = ParseCsv("v\n1e999\n1\n", "inline.csv");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns[0].type, CsvType::kFloat);
  EXPECT_EQ(r->columns[0].floats[0], INFINITY);
}

TEST_F(CsvTest, MissingValuesAndNaOption) {
  const std::string text =
      "a,b,c,d\n"
      "1,,x,\n"
      "NA,2.5,,\n"
      "3,NA,y,\n";
  auto t = Read("m.csv", text);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Col(*t, "a").type, CsvType::kString);  // "NA" is a string by default
  EXPECT_EQ(Col(*t, "b").type, CsvType::kString);
  EXPECT_THAT(Col(*t, "b").present, ElementsAre(0, 1, 1));
  EXPECT_EQ(Col(*t, "d").type, CsvType::kUnknown);
  EXPECT_THAT(Col(*t, "d").present, ElementsAre(0, 0, 0));

  auto na = Read("m2.csv", text, CsvOptions{.missing_values = {"", "NA"}});
  ASSERT_TRUE(na.ok()) << na.status();
  EXPECT_EQ(Col(*na, "a").type, CsvType::kInt64);
  EXPECT_THAT(Col(*na, "a").present, ElementsAre(1, 0, 1));
  EXPECT_THAT(Col(*na, "a").ints, ElementsAre(1, 0, 3));
  EXPECT_EQ(Col(*na, "b").type, CsvType::kFloat);
  EXPECT_THAT(Col(*na, "b").present, ElementsAre(0, 1, 0));
  EXPECT_EQ(Col(*na, "c").type, CsvType::kString);
  EXPECT_THAT(Col(*na, "c").present, ElementsAre(1, 0, 1));
}

TEST_F(CsvTest, QuotingLineEndsBomAndBlankLines) {
  const std::string text =
      "\xEF\xBB\xBF"
      "name,note,n\r\n"
      "\"Smith, J\",\"said \"\"hi\"\"\",1\r\n"
      "\r\n"
      "plain,\"two\nlines\",2\n"
      "q\"mid,\"\",3\r"
      "last,,4";  // no final line end
  auto t = Read("q.csv", text);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->num_rows, 4);
  EXPECT_EQ(t->columns[0].name, "name");  // BOM skipped
  EXPECT_THAT(Col(*t, "name").strings, ElementsAre("Smith, J", "plain", "q\"mid", "last"));
  EXPECT_THAT(Col(*t, "note").strings, ElementsAre("said \"hi\"", "two\nlines", "", ""));
  EXPECT_THAT(Col(*t, "note").present, ElementsAre(1, 1, 0, 0));  // "" is missing
  EXPECT_THAT(Col(*t, "n").ints, ElementsAre(1, 2, 3, 4));
  // Trailing delimiter means a final empty field.
  auto r = ParseCsv("a,b\n1,\n", "inline.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->columns[1].present, ElementsAre(0));
  // Other delimiters.
  r = ParseCsv("a;b\n1;2,5\n", "inline.csv", CsvOptions{.delimiter = ';'});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->columns[1].type, CsvType::kString);
  EXPECT_EQ(r->columns[1].strings[0], "2,5");
}

TEST_F(CsvTest, ReadsGzipFiles) {
  const std::string path = JoinPath(dir_, "z.csv.gz");
  auto out = Env::Default()->OpenForWrite(path);
  ASSERT_TRUE(out.ok());
  auto gz = NewGzipWritableFile(std::move(*out));
  ASSERT_TRUE(gz->Append("x,y\n1,a\n2,b\n").ok());
  ASSERT_TRUE(gz->Close().ok());
  auto t = ReadCsv(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_rows, 2);
  EXPECT_THAT(t->columns[1].strings, ElementsAre("a", "b"));
}

TEST_F(CsvTest, WrongFieldCountNamesLineAndByte) {
  // Row 3 starts on physical line 4 (row 2 spans two lines) at byte 23.
  const std::string text =
      "a,b,c\n"         // bytes 0-5
      "1,\"x\ny\",3\n"  // bytes 6-15, lines 2-3
      "4,5,6\n"         // bytes 16-21
      "7,8\n";          // byte 22
  auto t = Read("w.csv", text);
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("w.csv: line 5 (byte 22): 2 fields, header has 3"));
  auto r = ParseCsv("a,b\n1,2,3\n", "penguins.csv");
  EXPECT_EQ(r.status().message(), "penguins.csv: line 2 (byte 4): 3 fields, header has 2");
}

TEST_F(CsvTest, UnclosedQuoteAndJunkAfterQuote) {
  auto r = ParseCsv("a,b\n1,2\n3,\"open\n4,5\n", "x.csv");
  EXPECT_EQ(r.status().message(), "x.csv: line 3: quoted field opened at byte 10 never closed");
  r = ParseCsv("a,b\n1,\"ab\"c\n", "x.csv");
  EXPECT_EQ(r.status().message(),
            "x.csv: line 2 (byte 10): unexpected character 'c' after the closing quote of field "
            "2; a quoted field must end at a delimiter or line end");
}

TEST_F(CsvTest, HeaderProblems) {
  EXPECT_EQ(ParseCsv("", "e.csv").status().message(),
            "e.csv: file is empty, expected a header row");
  EXPECT_EQ(ParseCsv("\xEF\xBB\xBF\n\n", "e.csv").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCsv("a,,c\n", "h.csv").status().message(),
            "h.csv: header: column 2 has an empty name");
  EXPECT_EQ(ParseCsv("a,b,a\n", "h.csv").status().message(),
            "h.csv: header: column name \"a\" appears as columns 1 and 3");
  // A header alone is a table with no rows.
  auto t = ParseCsv("a,b\n", "h.csv");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_rows, 0);
  EXPECT_EQ(t->columns[0].type, CsvType::kUnknown);
}

TEST_F(CsvTest, UnreadableFile) {
  auto t = ReadCsv(JoinPath(dir_, "absent.csv"));
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(t.status().message(), HasSubstr("absent.csv"));
  const std::string path = JoinPath(dir_, "ok.csv");
  testing::WriteTestFile(path, "a\n1\n2\n3\n");
  testing::FailingReadEnv env(4);
  t = ReadCsv(path, {}, &env);
  EXPECT_EQ(t.status().code(), StatusCode::kIoError);
}

TEST_F(CsvTest, RowToExampleLikeCsvExampleGen) {
  auto t = ParseCsv("i,f,s,u\n7,0.1,abc,\n,2,,\n", "inline.csv");
  ASSERT_TRUE(t.ok()) << t.status();
  tf::Example ex;
  ASSERT_TRUE(CsvRowToExample(*t, 0, &ex).ok());
  const auto& f = ex.features().feature();
  ASSERT_EQ(f.size(), 3u);  // "u" is missing
  ASSERT_TRUE(f.at("i").has_int64_list());
  EXPECT_THAT(f.at("i").int64_list().value(), ElementsAre(7));
  ASSERT_TRUE(f.at("f").has_float_list());
  EXPECT_THAT(f.at("f").float_list().value(), ElementsAre(0.1f));
  ASSERT_TRUE(f.at("s").has_bytes_list());
  EXPECT_THAT(f.at("s").bytes_list().value(), ElementsAre("abc"));

  ASSERT_TRUE(CsvRowToExample(*t, 1, &ex).ok());  // cleared, then refilled
  EXPECT_EQ(ex.features().feature().size(), 1u);
  EXPECT_THAT(ex.features().feature().at("f").float_list().value(), ElementsAre(2.0f));
  EXPECT_EQ(CsvRowToExample(*t, 2, &ex).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(CsvRowToExample(*t, -1, &ex).code(), StatusCode::kOutOfRange);
}

TEST(CsvFixtureTest, ReadsTfxPenguinsProcessed) {
  const std::string path = EDGEPIPE_SHARED_DIR "/fixtures/tfx/penguins_processed.csv";
  ASSERT_TRUE(Env::Default()->Exists(path)) << path << " is missing";
  auto t = ReadCsv(path);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->columns.size(), 5u);
  EXPECT_EQ(t->columns[0].name, "species");
  EXPECT_EQ(t->columns[0].type, CsvType::kInt64);
  EXPECT_GT(t->num_rows, 300);
  int seen[3] = {0, 0, 0};
  for (int64_t s : t->columns[0].ints) {
    ASSERT_GE(s, 0);
    ASSERT_LE(s, 2);
    ++seen[s];
  }
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
  const char* names[] = {"culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"};
  for (size_t c = 1; c < 5; ++c) {
    const CsvColumn& col = t->columns[c];
    EXPECT_EQ(col.name, names[c - 1]);
    EXPECT_EQ(col.type, CsvType::kFloat) << col.name;
    double lo = 1, hi = 0;
    for (size_t r = 0; r < col.floats.size(); ++r) {
      ASSERT_TRUE(col.present[r]) << col.name << " row " << r;
      lo = std::min(lo, col.floats[r]);
      hi = std::max(hi, col.floats[r]);
    }
    EXPECT_GE(lo, 0.0) << col.name;
    EXPECT_LE(hi, 1.0) << col.name;
    EXPECT_LT(lo, hi) << col.name;
  }
  tf::Example ex;
  ASSERT_TRUE(CsvRowToExample(*t, 0, &ex).ok());
  EXPECT_EQ(ex.features().feature().size(), 5u);
  EXPECT_EQ(ex.features().feature().at("culmen_length_mm").float_list().value(0),
            static_cast<float>(t->columns[1].floats[0]));
}

}  // namespace
}  // namespace edgepipe::data
