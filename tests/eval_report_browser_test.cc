// report.html in a real browser: renders a synthetic EvalResult (2 models,
// 2 slices, confusion matrices, calibration, threshold curves), opens it in
// headless Chromium once, and checks from the DOM Chromium dumps after the
// page's script ran that every chart has rendered marks, from the screenshot
// that the heatmaps were painted, and that hostile feature values stayed
// text. Chromium (Debian package `chromium`, installed by scripts/setup.sh)
// is required: without it the tests fail, they do not skip. Set
// EDGEPIPE_CHROMIUM to use another binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/report.h"
#include "edgepipe/eval/testing/sample_result.h"

namespace {

using ::testing::HasSubstr;

// The first of the usual Chromium binary names found on PATH, or empty.
std::string FindChromium() {
  if (const char* env = std::getenv("EDGEPIPE_CHROMIUM"); env && *env) return env;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (const char* name :
       {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      const std::string candidate = dirs.substr(start, end - start) + "/" + name;
      if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  return "";
}

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
};

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

int Paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// Decodes the PNGs Chromium writes: 8-bit RGB or RGBA, not interlaced
// (PNG spec, ISO/IEC 15948: chunks, zlib stream, per-row filters 0-4).
std::optional<Image> DecodePng(const std::string& png) {
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return std::nullopt;
  Image img;
  int channels = 0;
  std::string idat;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t len = BigEndian32(png, at);
    if (at + 12 + len > png.size()) return std::nullopt;
    const std::string type = png.substr(at + 4, 4);
    const std::string data = png.substr(at + 8, len);
    if (type == "IHDR") {
      if (len < 13) return std::nullopt;
      img.width = static_cast<int>(BigEndian32(data, 0));
      img.height = static_cast<int>(BigEndian32(data, 4));
      const int depth = data[8], color = data[9], interlace = data[12];
      if (depth != 8 || interlace != 0 || (color != 2 && color != 6)) return std::nullopt;
      channels = color == 2 ? 3 : 4;
    } else if (type == "IDAT") {
      idat += data;
    }
    at += 12 + len;
  }
  if (channels == 0 || img.width <= 0 || img.height <= 0) return std::nullopt;
  const size_t stride = static_cast<size_t>(img.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_len != raw.size()) {
    return std::nullopt;
  }
  std::vector<uint8_t> pixels(stride * img.height);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* out = &pixels[y * stride];
    const uint8_t* up = y > 0 ? &pixels[(y - 1) * stride] : nullptr;
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<size_t>(channels) ? out[i - channels] : 0;
      const int b = up ? up[i] : 0;
      const int c = up && i >= static_cast<size_t>(channels) ? up[i - channels] : 0;
      int pred = 0;
      switch (filter) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4:
          pred = Paeth(a, b, c);
          break;
        default:
          return std::nullopt;
      }
      out[i] = static_cast<uint8_t>(in[i] + pred);
    }
  }
  img.rgb.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (size_t p = 0; p < static_cast<size_t>(img.width) * img.height; ++p) {
    for (int k = 0; k < 3; ++k) img.rgb[p * 3 + k] = pixels[p * channels + k];
  }
  return img;
}

// The synthetic result: the sample (2 models, 2 slices, hostile slice value)
// with perfectly diagonal confusion matrices, so that every diagonal cell is
// painted in the heatmap's full "correct" colour.
edgepipe::eval::EvalResult BrowserResult() {
  edgepipe::eval::EvalResult r = edgepipe::eval::testing::SampleEvalResult();
  for (auto& slice : r.slices) {
    for (auto& [model, plots] : slice.plots) {
      plots.multi_class_confusion->counts = {10, 0, 0, 0, 12, 0, 0, 0, 9};
    }
  }
  return r;
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new edgepipe::TempDir();
    chromium_ = FindChromium();
    if (chromium_.empty()) {
      error_ =
          "Chromium not found on PATH (tried chromium, chromium-browser, google-chrome, "
          "google-chrome-stable; or set EDGEPIPE_CHROMIUM). Install the Debian package "
          "`chromium` (scripts/setup.sh does): the report's browser test needs it.";
      return;
    }
    const std::string out_dir = tmp_->Join("out");
    edgepipe::Status s = edgepipe::eval::WriteReport(BrowserResult(), out_dir);
    if (!s.ok()) {
      error_ = "WriteReport: " + s.ToString();
      return;
    }
    const std::string profile = tmp_->Join("profile");
    s = edgepipe::Env::Default()->CreateDirs(profile);
    if (!s.ok()) {
      error_ = s.ToString();
      return;
    }
    const std::string shot = tmp_->Join("shot.png");
    const std::string cmd =
        "timeout 120 '" + chromium_ +
        "' --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
        " --disable-component-update --disable-sync --user-data-dir='" +
        profile +
        "' --hide-scrollbars --force-color-profile=srgb --window-size=1300,3000"
        " --screenshot='" +
        shot + "' --dump-dom 'file://" + out_dir + "/report.html' >'" + tmp_->Join("dom.html") +
        "' 2>'" + tmp_->Join("chromium.log") + "'";
    const int status = std::system(cmd.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    auto dom = edgepipe::ReadFileToString(tmp_->Join("dom.html"));
    auto png = edgepipe::ReadFileToString(shot);
    if (code != 0 || !dom.ok() || dom->empty() || !png.ok()) {
      auto log = edgepipe::ReadFileToString(tmp_->Join("chromium.log"));
      error_ = chromium_ + " exited with " + std::to_string(code) +
               " (124 = timed out); its stderr:\n" + (log.ok() ? log->substr(0, 4000) : "");
      return;
    }
    dom_ = new std::string(*dom);
    png_ = new std::string(*png);
  }
  static void TearDownTestSuite() {
    delete tmp_;
    delete dom_;
    delete png_;
    tmp_ = nullptr;
    dom_ = png_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(error_.empty()) << error_; }

  static inline edgepipe::TempDir* tmp_ = nullptr;
  static inline std::string chromium_;
  static inline std::string error_;
  static inline std::string* dom_ = nullptr;
  static inline std::string* png_ = nullptr;
};

// The integer value of attribute `name` in the tag text, or -1.
int AttributeInt(const std::string& tag, const std::string& name) {
  const size_t p = tag.find(" " + name + "=\"");
  if (p == std::string::npos) return -1;
  return std::atoi(tag.c_str() + p + name.size() + 3);
}

// Chromium starts once per process (ctest runs each TEST in its own
// process), so the checks are steps of one test.
void CheckScriptRanAndEveryChartDrew(const std::string& dom) {
  // 2 slices x (2 heatmaps + reliability + threshold curves).
  EXPECT_THAT(dom, HasSubstr("data-charts=\"8\""));
  EXPECT_THAT(dom, HasSubstr("data-charts-drawn=\"8\""));
  // Each chart: every mark has a rendered size, and there are as many as the
  // data asks for.
  int heatmaps = 0, line_charts = 0;
  const std::string open = "<svg class=\"chart ";
  for (size_t p = dom.find(open); p != std::string::npos; p = dom.find(open, p + 1)) {
    const std::string tag = dom.substr(p, dom.find('>', p) - p);
    const bool heatmap = tag.compare(open.size(), 8, "heatmap\"") == 0;
    const int marks = AttributeInt(tag, "data-marks"), drawn = AttributeInt(tag, "data-drawn");
    EXPECT_EQ(drawn, marks) << tag;
    if (heatmap) {
      ++heatmaps;
      EXPECT_EQ(marks, 9) << tag;  // 3 x 3 cells
    } else {
      ++line_charts;
      // Reliability: 2 curves + 2 x 5 dots; thresholds: 4 curves.
      EXPECT_TRUE(marks == 12 || marks == 4) << tag;
    }
  }
  EXPECT_EQ(heatmaps, 4);
  EXPECT_EQ(line_charts, 4);
}

void CheckHostileFeatureValuesStayText(const std::string& dom) {
  // Only the page's own script element exists; the feature value is text.
  size_t scripts = 0;
  for (size_t p = dom.find("<script"); p != std::string::npos; p = dom.find("<script", p + 1)) {
    ++scripts;
  }
  EXPECT_EQ(scripts, 1u);
  EXPECT_THAT(dom, HasSubstr("color:&lt;script&gt;alert('x')&lt;/script&gt;&amp;\""));
}

void CheckHeatmapsArePainted(const std::string& png) {
  std::optional<Image> img = DecodePng(png);
  ASSERT_TRUE(img.has_value()) << "screenshot is not a PNG this test decodes";
  EXPECT_EQ(img->width, 1300);
  // The fully correct diagonal cells' colour (#08519c): 2 slices x 2 models
  // x 3 cells of 40 x 40 px, less the white count digits. No other part of
  // the page uses it.
  size_t blue = 0, white = 0;
  for (size_t p = 0; p + 2 < img->rgb.size(); p += 3) {
    const int r = img->rgb[p], g = img->rgb[p + 1], b = img->rgb[p + 2];
    if (std::abs(r - 8) <= 3 && std::abs(g - 81) <= 3 && std::abs(b - 156) <= 3) ++blue;
    if (r == 255 && g == 255 && b == 255) ++white;
  }
  EXPECT_GE(blue, 12u * 40 * 40 * 8 / 10);
  EXPECT_LE(blue, 12u * 40 * 40);
  EXPECT_GT(white, img->rgb.size() / 3 / 2);  // a white page with charts on it
}

TEST_F(ReportBrowserTest, ChartsDrawAndUserTextStaysText) {
  {
    SCOPED_TRACE("dumped DOM");
    CheckScriptRanAndEveryChartDrew(*dom_);
    CheckHostileFeatureValuesStayText(*dom_);
  }
  {
    SCOPED_TRACE("screenshot");
    CheckHeatmapsArePainted(*png_);
  }
}

}  // namespace
