#include "edgepipe/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace edgepipe {
namespace {

double SteadySeconds() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

std::string Printf(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

bool SilencedByEnv() {
  const char* v = std::getenv("EDGEPIPE_PROGRESS");
  return v != nullptr && std::strcmp(v, "0") == 0;
}

}  // namespace

std::string Progress::FormatCount(double v) {
  if (!std::isfinite(v) || v < 0) return "?";
  if (v < 999.95) {
    if (v == std::floor(v)) return Printf("%.0f", v);
    return Printf("%.1f", v);
  }
  static constexpr const char* kSuffixes[] = {"k", "M", "G", "T", "P"};
  double scaled = v;
  for (const char* suffix : kSuffixes) {
    scaled /= 1000.0;
    if (scaled < 999.95 || suffix == kSuffixes[4]) return Printf("%.1f", scaled) + suffix;
  }
  return "?";  // unreachable
}

std::string Progress::FormatDuration(double seconds, bool whole) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 59.5 || (!whole && seconds < 59.95)) {
    return Printf(whole ? "%.0fs" : "%.1fs", seconds);
  }
  auto total = static_cast<int64_t>(std::llround(seconds));
  char buf[64];
  if (total < 3600) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>((total % 3600) / 60));
  }
  return buf;
}

Progress::Progress(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)), total_(total < 0 ? -1 : total), options_(std::move(options)) {
  if (options_.out == nullptr || SilencedByEnv()) {
    mode_ = Mode::kOff;
  } else if (options_.force_tty || ::isatty(::fileno(options_.out))) {
    mode_ = Mode::kTty;
  } else {
    mode_ = Mode::kLog;
  }
  start_ = Now();
  next_draw_.store(mode_ == Mode::kTty ? start_ : start_ + options_.log_interval_s);
}

Progress::~Progress() { Finish(); }

double Progress::Now() const { return options_.clock ? options_.clock() : SteadySeconds(); }

void Progress::Add(int64_t n) {
  count_.fetch_add(n, std::memory_order_relaxed);
  if (mode_ == Mode::kOff) return;
  double now = Now();
  if (now < next_draw_.load(std::memory_order_relaxed)) return;
  MaybeDraw(now);
}

void Progress::SetPostfix(std::string postfix) {
  std::lock_guard<std::mutex> lock(mu_);
  postfix_ = std::move(postfix);
}

void Progress::MaybeDraw(double now) {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // someone else is drawing
  if (finished_.load() || now < next_draw_.load()) return;
  const int64_t count = count_.load(std::memory_order_relaxed);
  if (mode_ == Mode::kTty) {
    std::string line = TtyLine(count, now);
    size_t len = line.size();
    if (len < last_line_len_) line.append(last_line_len_ - len, ' ');
    last_line_len_ = len;
    std::fprintf(options_.out, "\r%s", line.c_str());
    next_draw_.store(now + options_.tty_interval_s);
  } else {
    std::fprintf(options_.out, "%s\n", LogLine(count, now).c_str());
    next_draw_.store(now + options_.log_interval_s);
  }
  std::fflush(options_.out);
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_.exchange(true) || mode_ == Mode::kOff) return;
  const double now = Now();
  const int64_t count = count_.load();
  const double elapsed = std::max(0.0, now - start_);
  if (mode_ == Mode::kTty) {
    std::string line = TtyLine(count, now);
    size_t len = line.size();
    if (len < last_line_len_) line.append(last_line_len_ - len, ' ');
    std::fprintf(options_.out, "\r%s\n", line.c_str());
  } else {
    std::string line =
        fmt::format("{}: {} {} in {}", label_, count, options_.units, FormatDuration(elapsed));
    if (elapsed > 0) {
      fmt::format_to(std::back_inserter(line), " ({} {}/s)",
                     FormatCount(static_cast<double>(count) / elapsed), options_.units);
    }
    if (!postfix_.empty()) fmt::format_to(std::back_inserter(line), " {}", postfix_);
    std::fprintf(options_.out, "%s\n", line.c_str());
  }
  std::fflush(options_.out);
}

double Progress::Fraction(int64_t count) const {
  if (total_ <= 0) return 1.0;
  return std::clamp(static_cast<double>(count) / static_cast<double>(total_), 0.0, 1.0);
}

std::string Progress::TtyLine(int64_t count, double now) const {
  const double elapsed = std::max(0.0, now - start_);
  const double rate = elapsed > 0 ? static_cast<double>(count) / elapsed : 0;
  std::string line = label_;
  auto out = std::back_inserter(line);
  if (total_ >= 0) {
    const double frac = Fraction(count);
    const int width = std::max(options_.bar_width, 0);
    const int filled = std::min(width, static_cast<int>(std::floor(frac * width)));
    fmt::format_to(out, " [{}{}] {}% {}/{}", std::string(static_cast<size_t>(filled), '#'),
                   std::string(static_cast<size_t>(width - filled), '.'),
                   static_cast<int>(std::floor(frac * 100)), count, total_);
  } else {
    fmt::format_to(out, " {} {}", count, options_.units);
  }
  if (elapsed > 0) fmt::format_to(out, " {} {}/s", FormatCount(rate), options_.units);
  if (total_ >= 0 && !finished_.load() && rate > 0 && count < total_) {
    fmt::format_to(out, " ETA {}",
                   FormatDuration(static_cast<double>(total_ - count) / rate, true));
  } else {
    fmt::format_to(out, " {}", FormatDuration(elapsed));
  }
  if (!postfix_.empty()) fmt::format_to(out, " {}", postfix_);
  return line;
}

std::string Progress::LogLine(int64_t count, double now) const {
  const double elapsed = std::max(0.0, now - start_);
  const double rate = elapsed > 0 ? static_cast<double>(count) / elapsed : 0;
  std::string line = fmt::format("{}: {}", label_, count);
  auto out = std::back_inserter(line);
  if (total_ >= 0) {
    fmt::format_to(out, "/{} {} ({}%)", total_, options_.units,
                   static_cast<int>(std::floor(Fraction(count) * 100)));
  } else {
    fmt::format_to(out, " {}", options_.units);
  }
  if (elapsed > 0) fmt::format_to(out, " {} {}/s", FormatCount(rate), options_.units);
  if (total_ >= 0 && rate > 0 && count < total_) {
    fmt::format_to(out, " ETA {}",
                   FormatDuration(static_cast<double>(total_ - count) / rate, true));
  } else {
    fmt::format_to(out, " elapsed {}", FormatDuration(elapsed));
  }
  if (!postfix_.empty()) fmt::format_to(out, " {}", postfix_);
  return line;
}

}  // namespace edgepipe
