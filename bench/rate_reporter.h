// RateReporter: a console reporter that remembers each benchmark's
// bytes_per_second (the median when repetitions are aggregated), so a
// benchmark's main() can print ratios against its peer after the table.
#ifndef EDGEPIPE_BENCH_RATE_REPORTER_H_
#define EDGEPIPE_BENCH_RATE_REPORTER_H_

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace edgepipe::bench {

class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const bool usable = run.run_type == Run::RT_Iteration || run.aggregate_name == "median";
      auto it = run.counters.find("bytes_per_second");
      if (usable && it != run.counters.end()) {
        // "BM_Name/args", without the "/real_time" suffix.
        std::string name = run.run_name.function_name;
        if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
        rates_[name] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // Bytes per second of `name` ("BM_Name/args"), 0 when it did not run.
  double Rate(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace edgepipe::bench

#endif  // EDGEPIPE_BENCH_RATE_REPORTER_H_
