#include "edgepipe/core/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace edgepipe {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

// Collects what a Progress writes, through a memory FILE*.
class Capture {
 public:
  Capture() : file_(open_memstream(&buf_, &len_)) {}
  ~Capture() {
    if (file_) std::fclose(file_);
    std::free(buf_);
  }
  FILE* file() { return file_; }
  std::string Text() {
    std::fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  FILE* file_;
};

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(capture_.file(), nullptr);
    unsetenv("EDGEPIPE_PROGRESS");
  }
  ProgressOptions Options(bool tty) {
    ProgressOptions o;
    o.out = capture_.file();
    o.force_tty = tty;
    o.clock = [this] { return now_; };
    return o;
  }
  Capture capture_;
  double now_ = 100.0;  // arbitrary epoch: only differences matter
};

TEST_F(ProgressTest, LogModePrintsPeriodicLinesAndSummary) {
  {
    Progress p("mnist", 10000, Options(false));
    now_ = 101;
    p.Add(1000);  // before the first 5 s: silent
    EXPECT_EQ(capture_.Text(), "");
    now_ = 105;
    p.Add(1000);
    now_ = 106;
    p.Add(500);  // next line not due before 110
    p.SetPostfix("loss 0.31");
    now_ = 110.5;
    p.Add(3500);
    now_ = 113;
    p.Add(4000);
    p.Finish();
    p.Finish();  // idempotent
    now_ = 200;
    p.Add(1);  // after Finish: silent
  }            // destructor: no second summary
  EXPECT_EQ(capture_.Text(),
            "mnist: 2000/10000 records (20%) 400 records/s ETA 20s\n"
            "mnist: 6000/10000 records (60%) 571.4 records/s ETA 7s loss 0.31\n"
            "mnist: 10000 records in 13.0s (769.2 records/s) loss 0.31\n");
}

TEST_F(ProgressTest, LogModeUnknownTotalAndDestructorFinishes) {
  {
    ProgressOptions o = Options(false);
    o.units = "steps";
    o.log_interval_s = 2;
    Progress p("train", -1, o);
    now_ = 102;
    p.Add(300);
    now_ = 103;
    p.Add(300);
  }
  EXPECT_EQ(capture_.Text(),
            "train: 300 steps 150 steps/s elapsed 2.0s\n"
            "train: 600 steps in 3.0s (200 steps/s)\n");
}

TEST_F(ProgressTest, TtyModeRedrawsOneThrottledLine) {
  ProgressOptions o = Options(true);
  o.bar_width = 10;
  Progress p("mnist", 10000, o);
  now_ = 103.75;
  p.Add(4500);
  EXPECT_EQ(capture_.Text(), "\rmnist [####......] 45% 4500/10000 1.2k records/s ETA 5s");
  now_ = 103.8;
  p.Add(100);  // within 0.1 s of the last draw: no redraw
  p.SetPostfix("loss 0.31 acc 0.91");
  now_ = 103.9;
  p.Add(400);
  std::string expected =
      "\rmnist [####......] 45% 4500/10000 1.2k records/s ETA 5s"
      "\rmnist [#####.....] 50% 5000/10000 1.3k records/s ETA 4s "
      "loss 0.31 acc 0.91";
  EXPECT_EQ(capture_.Text(), expected);
  p.SetPostfix("");
  now_ = 104.0;
  p.Add(0);
  // Shorter than the previous line: padded with spaces to erase it.
  std::string line = "\rmnist [#####.....] 50% 5000/10000 1.2k records/s ETA 4s";
  expected += line + std::string(19, ' ');
  EXPECT_EQ(capture_.Text(), expected);
  now_ = 110;
  p.Add(5000);  // draws
  p.Finish();
  EXPECT_THAT(capture_.Text(),
              EndsWith("\rmnist [##########] 100% 10000/10000 1.0k records/s 10.0s\n"));
}

TEST_F(ProgressTest, TtyModeUnknownTotal) {
  Progress p("read", -1, Options(true));
  now_ = 103;
  p.Add(300);
  p.Finish();
  EXPECT_EQ(capture_.Text(),
            "\rread 300 records 100 records/s 3.0s\rread 300 records 100 records/s 3.0s\n");
}

TEST_F(ProgressTest, EnvVarSilences) {
  setenv("EDGEPIPE_PROGRESS", "0", 1);
  {
    Progress p("quiet", 10, Options(true));
    now_ = 200;
    p.Add(10);
  }
  {
    Progress p("quiet", 10, Options(false));
    now_ = 300;
    p.Add(10);
  }
  unsetenv("EDGEPIPE_PROGRESS");
  EXPECT_EQ(capture_.Text(), "");
  Progress p("loud", 10, Options(false));
  p.Finish();
  EXPECT_THAT(capture_.Text(), HasSubstr("loud: 0 records in"));
}

TEST_F(ProgressTest, NullOutputIsSilent) {
  ProgressOptions o;
  o.out = nullptr;
  Progress p("x", 5, o);
  p.Add(5);
  p.Finish();
  EXPECT_EQ(p.count(), 5);
}

TEST_F(ProgressTest, ConcurrentAddsAreCounted) {
  ProgressOptions o;
  o.out = capture_.file();
  o.force_tty = true;
  o.tty_interval_s = 0.0001;  // real clock, redraw often
  constexpr int kThreads = 4, kPerThread = 50000;
  {
    Progress p("par", int64_t{kThreads} * kPerThread, o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&p, t] {
        for (int i = 0; i < kPerThread; ++i) {
          p.Add(1);
          if (i % 10000 == 0) p.SetPostfix("thread " + std::to_string(t));
        }
      });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(p.count(), int64_t{kThreads} * kPerThread);
  }
  std::string text = capture_.Text();
  EXPECT_THAT(text, HasSubstr("100% 200000/200000"));
  EXPECT_THAT(text, EndsWith("\n"));
}

TEST(ProgressFormatTest, Count) {
  EXPECT_EQ(Progress::FormatCount(0), "0");
  EXPECT_EQ(Progress::FormatCount(950), "950");
  EXPECT_EQ(Progress::FormatCount(7.5), "7.5");
  EXPECT_EQ(Progress::FormatCount(999.9), "999.9");
  EXPECT_EQ(Progress::FormatCount(999.96), "1.0k");
  EXPECT_EQ(Progress::FormatCount(7692.3), "7.7k");
  EXPECT_EQ(Progress::FormatCount(2.5e6), "2.5M");
  EXPECT_EQ(Progress::FormatCount(3e9), "3.0G");
  EXPECT_EQ(Progress::FormatCount(-1), "?");
}

TEST(ProgressFormatTest, Duration) {
  EXPECT_EQ(Progress::FormatDuration(0.44), "0.4s");
  EXPECT_EQ(Progress::FormatDuration(12), "12.0s");
  EXPECT_EQ(Progress::FormatDuration(3.4, true), "3s");
  EXPECT_EQ(Progress::FormatDuration(59.7, true), "1m00s");
  EXPECT_EQ(Progress::FormatDuration(125), "2m05s");
  EXPECT_EQ(Progress::FormatDuration(3725), "1h02m");
  EXPECT_EQ(Progress::FormatDuration(-1), "?");
}

}  // namespace
}  // namespace edgepipe
