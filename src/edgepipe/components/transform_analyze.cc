// TransformGraph::Analyze: full passes computing the analyzers' constants.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "edgepipe/components/transform_graph.h"
#include "edgepipe/components/transform_internal.h"

namespace edgepipe::components {

namespace {

// Accumulates the values of one analyzer's input over a pass.
struct Accumulator {
  int64_t count = 0;
  double min = INFINITY, max = -INFINITY;
  double mean = 0, m2 = 0;  // Chan et al.'s parallel mean / sum of squared deviations
  std::unordered_map<std::string, int64_t> tokens;
  std::vector<float> values;
};

void AddNumbers(TransformOp op, const ColumnValue& v, Accumulator& acc) {
  const size_t n = static_cast<size_t>(v.array.num_elements());
  auto get = [&](size_t i) -> double {
    return v.array.dtype() == DType::kFloat32 ? v.array.data<float>()[i]
                                              : static_cast<double>(v.array.data<int64_t>()[i]);
  };
  if (n == 0) return;
  if (op == TransformOp::kScaleByMinMax) {
    for (size_t i = 0; i < n; ++i) {
      acc.min = std::min(acc.min, get(i));
      acc.max = std::max(acc.max, get(i));
    }
  } else if (op == TransformOp::kScaleToZScore) {
    // Batch mean and M2, then merged into the running ones.
    double mean = 0;
    for (size_t i = 0; i < n; ++i) mean += get(i);
    mean /= static_cast<double>(n);
    double m2 = 0;
    for (size_t i = 0; i < n; ++i) m2 += (get(i) - mean) * (get(i) - mean);
    const double na = static_cast<double>(acc.count), nb = static_cast<double>(n);
    const double delta = mean - acc.mean;
    acc.mean += delta * nb / (na + nb);
    acc.m2 += m2 + delta * delta * na * nb / (na + nb);
  } else {  // kBucketize
    for (size_t i = 0; i < n; ++i) acc.values.push_back(static_cast<float>(get(i)));
  }
  acc.count += static_cast<int64_t>(n);
}

void AddTokens(const ColumnValue& v, Accumulator& acc) {
  if (v.is_string) {
    for (const std::string& s : v.strings) ++acc.tokens[s];
    acc.count += static_cast<int64_t>(v.strings.size());
  } else {
    for (int64_t x : v.array.data<int64_t>()) ++acc.tokens[std::to_string(x)];
    acc.count += v.array.num_elements();
  }
}

Status Finish(const std::string& what, Accumulator& acc, TransformNode& n) {
  n.count = acc.count;
  switch (n.op) {
    case TransformOp::kScaleByMinMax: {
      n.stat_a = acc.count ? acc.min : 0;
      n.stat_b = acc.count ? acc.max : 0;
      const double lo = *n.lo, hi = *n.hi;
      if (acc.count == 0 || acc.max == acc.min) {
        n.applied_scale = 0;
        n.applied_offset = static_cast<float>((lo + hi) / 2);
      } else {
        const double s = (hi - lo) / (acc.max - acc.min);
        n.applied_scale = static_cast<float>(s);
        n.applied_offset = static_cast<float>(lo - acc.min * s);
      }
      break;
    }
    case TransformOp::kScaleToZScore: {
      n.stat_a = acc.mean;
      n.stat_b = acc.count ? acc.m2 / static_cast<double>(acc.count) : 0;
      const double sd = std::sqrt(n.stat_b);
      if (sd == 0) {
        n.applied_scale = 1;
        n.applied_offset = static_cast<float>(-acc.mean);
      } else {
        n.applied_scale = static_cast<float>(1 / sd);
        n.applied_offset = static_cast<float>(-acc.mean / sd);
      }
      break;
    }
    case TransformOp::kVocabulary: {
      std::vector<std::pair<std::string, int64_t>> v(acc.tokens.begin(), acc.tokens.end());
      // Frequency descending, ties by the token's bytes descending (TFT).
      std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first > b.first;
      });
      n.vocabulary.clear();
      for (auto& [token, freq] : v) {
        if (freq < n.frequency_threshold) break;
        if (n.top_k >= 0 && static_cast<int64_t>(n.vocabulary.size()) >= n.top_k) break;
        n.vocabulary.push_back(std::move(token));
      }
      if (n.vocabulary.empty()) {
        return Status::InvalidArgument(what + ": vocabulary is empty (" + std::to_string(v.size()) +
                                       " distinct tokens, frequency_threshold " +
                                       std::to_string(n.frequency_threshold) + ")");
      }
      break;
    }
    case TransformOp::kBucketize: {
      std::vector<float>& vals = acc.values;
      std::sort(vals.begin(), vals.end());
      n.boundaries.clear();
      const size_t total = vals.size();
      if (total > 0) {
        for (int64_t i = 1; i < n.num_buckets; ++i) {
          const size_t k =
              std::min(total - 1, static_cast<size_t>(static_cast<uint64_t>(i) * total /
                                                      static_cast<uint64_t>(n.num_buckets)));
          if (n.boundaries.empty() || vals[k] != n.boundaries.back()) {
            n.boundaries.push_back(vals[k]);
          }
        }
      }
      acc.values = {};
      break;
    }
    default:
      break;
  }
  n.analyzed = true;
  return Status::Ok();
}

}  // namespace

Status TransformGraph::Analyze(data::Dataset& train) {
  for (TransformNode& n : nodes_) {
    if (IsAnalyzer(n.op)) n.analyzed = false;
  }
  for (int pass = 1;; ++pass) {
    // Analyzers whose inputs need no unanalyzed analyzer.
    std::vector<bool> blocked(nodes_.size(), false);
    std::vector<int> ready;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const TransformNode& n = nodes_[i];
      bool b = false;
      for (int in : n.inputs) b = b || blocked[static_cast<size_t>(in)];
      if (IsAnalyzer(n.op) && !n.analyzed) {
        if (!b) ready.push_back(static_cast<int>(i));
        b = true;
      }
      blocked[i] = b;
    }
    if (ready.empty()) break;
    std::vector<int> inputs;
    for (int r : ready) inputs.push_back(nodes_[static_cast<size_t>(r)].inputs[0]);
    std::vector<Accumulator> accs(ready.size());
    const VocabIndex index = BuildVocabIndex(nodes_);
    RETURN_IF_ERROR(train.Reset());
    int64_t records = 0;
    for (;;) {
      ASSIGN_OR_RETURN(std::optional<data::Batch> batch, train.Next());
      if (!batch) break;
      records += batch->size;
      ASSIGN_OR_RETURN(std::vector<ColumnValue> values,
                       EvaluateNodes(*this, *batch, inputs, index));
      for (size_t k = 0; k < ready.size(); ++k) {
        const TransformOp op = nodes_[static_cast<size_t>(ready[k])].op;
        const ColumnValue& v = values[static_cast<size_t>(inputs[k])];
        if (op == TransformOp::kVocabulary) {
          AddTokens(v, accs[k]);
        } else {
          AddNumbers(op, v, accs[k]);
        }
      }
    }
    if (records == 0) {
      return Status::FailedPrecondition("analysis pass " + std::to_string(pass) +
                                        ": analysis data is empty (no records); analyzers "
                                        "need a full pass over at least one record");
    }
    for (size_t k = 0; k < ready.size(); ++k) {
      const int r = ready[k];
      TransformNode& n = nodes_[static_cast<size_t>(r)];
      const std::string what =
          std::string(TransformOpName(n.op)) + " over " + DescribeNode(nodes_, n.inputs[0]);
      RETURN_IF_ERROR(Finish(what, accs[k], n));
    }
  }
  RebuildIndex();
  return Status::Ok();
}

}  // namespace edgepipe::components
