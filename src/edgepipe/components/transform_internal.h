// Internals shared by the transform_*.cc files; not part of the public API.
#ifndef EDGEPIPE_COMPONENTS_TRANSFORM_INTERNAL_H_
#define EDGEPIPE_COMPONENTS_TRANSFORM_INTERNAL_H_

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgepipe/components/transform_graph.h"
#include "edgepipe/core/array.h"

namespace edgepipe::components {

// The graph under construction during TransformGraph::Trace.
struct TraceState {
  std::vector<data::FeatureSpec> raw;
  std::vector<TransformNode> nodes;
  Status error;  // the first error
  std::weak_ptr<TraceState> weak_self;

  std::shared_ptr<TraceState> self() { return weak_self.lock(); }
  // Validates (InferNode) and appends `n`; an error column on failure.
  Column Add(TransformNode n);
  // Records `s` (if first) and returns an error column.
  Column Fail(Status s);
};

// "\"city\"" for an input node, else "the output of <op>".
std::string DescribeNode(const std::vector<TransformNode>& nodes, int index);
// Checks node `index`'s inputs (earlier nodes, arity, types) and parameters
// and sets its output type and shape.
Status InferNode(const std::vector<data::FeatureSpec>& raw, const std::vector<TransformNode>& nodes,
                 int index, TransformNode& n);

// A node's value over a batch: an Array [N, ...shape] (float32 or int64) or
// N * NumElements(shape) strings.
struct ColumnValue {
  bool is_string = false;
  Array array;
  std::vector<std::string> strings;
};

using VocabIndex = std::map<int, std::unordered_map<std::string, int64_t>>;
VocabIndex BuildVocabIndex(const std::vector<TransformNode>& nodes);

// Values of the `wanted` nodes and everything they depend on (other entries
// stay empty). FailedPrecondition when an unanalyzed analyzer is needed.
Result<std::vector<ColumnValue>> EvaluateNodes(const TransformGraph& g, const data::Batch& raw,
                                               const std::vector<int>& wanted,
                                               const VocabIndex& vocab);
// The graph's outputs as a Batch of `size` records.
data::Batch CollectOutputs(const TransformGraph& g, int64_t size, std::vector<ColumnValue> values);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_TRANSFORM_INTERNAL_H_
