// A progress display for long loops (reading records, training steps).
//
// On a terminal (isatty(fileno(out)), or force_tty) one line is redrawn in
// place, at most every `tty_interval_s` (10 times a second by default):
//   mnist [########............] 45% 4500/10000 1.2k records/s ETA 3s loss 0.31
// Elsewhere (logs, CI) it prints a plain line at most every `log_interval_s`
// (5 s by default) and a summary when finished:
//   mnist: 4500/10000 records (45%) 1.2k records/s ETA 3s loss 0.31
//   mnist: 10000 records in 1.3s (7.7k records/s) loss 0.31
// With an unknown total (-1) the bar, percentage and ETA are left out.
// The environment variable EDGEPIPE_PROGRESS=0 (read at construction)
// silences it entirely, as does a null `out`.
//
// Thread safety: Add() may be called from many threads at once (an atomic
// counter; drawing is done by whichever caller finds a redraw due and the
// display free, others skip it). SetPostfix() and Finish() are thread-safe
// too. The FILE* is borrowed and must outlive the Progress.
// Cost of Add(): one atomic add and one clock read.
#ifndef EDGEPIPE_CORE_PROGRESS_H_
#define EDGEPIPE_CORE_PROGRESS_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

namespace edgepipe {

struct ProgressOptions {
  FILE* out = stderr;
  // Draw the redrawn terminal line even when `out` is not a terminal (tests).
  bool force_tty = false;
  // Plural noun of what is counted.
  std::string units = "records";
  double tty_interval_s = 0.1;
  double log_interval_s = 5.0;
  // Width of the bar in characters (terminal mode).
  int bar_width = 20;
  // Monotonic time in seconds; the default is std::chrono::steady_clock.
  // Injected by tests. Must be callable from any thread that calls Add().
  std::function<double()> clock;
};

class Progress {
 public:
  // `total` is the expected count, or -1 when unknown.
  Progress(std::string label, int64_t total, ProgressOptions options = {});
  // Calls Finish() if it was not called.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Counts `n` more items done and redraws when a redraw is due.
  void Add(int64_t n = 1);
  // Text shown after the counters, e.g. "loss 0.31 acc 0.91".
  void SetPostfix(std::string postfix);
  // Draws the final state (terminal: the line at its final value and a
  // newline; log: the summary line). Later calls, and Add() after it, do not
  // draw.
  void Finish();

  int64_t count() const { return count_.load(std::memory_order_relaxed); }

  // Formatting helpers, public for tests: 950 -> "950", 7692.3 -> "7.7k",
  // 2.5e6 -> "2.5M", 3.25 -> "3.2".
  static std::string FormatCount(double v);
  // Seconds as "0.4s", "12.0s", "2m05s", "1h02m"; with whole=true below a
  // minute "3s" (used for ETA).
  static std::string FormatDuration(double seconds, bool whole = false);

 private:
  enum class Mode { kOff, kTty, kLog };
  double Now() const;
  // count / total clamped to [0, 1]; 1 when total is 0.
  double Fraction(int64_t count) const;
  // Builds the current line; mu_ held.
  std::string TtyLine(int64_t count, double now) const;
  std::string LogLine(int64_t count, double now) const;
  void MaybeDraw(double now);

  const std::string label_;
  const int64_t total_;
  const ProgressOptions options_;
  Mode mode_ = Mode::kOff;
  double start_ = 0;

  std::atomic<int64_t> count_{0};
  std::atomic<double> next_draw_{0};  // clock time when a redraw is due
  std::atomic<bool> finished_{false};
  std::mutex mu_;  // guards postfix_, last_line_len_ and the output
  std::string postfix_;
  size_t last_line_len_ = 0;
};

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_PROGRESS_H_
