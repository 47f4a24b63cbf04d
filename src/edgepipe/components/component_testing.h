// Test helpers for components/ tests (header-only; not part of the library
// API): Examples artifacts written from tf.Examples, and ExecutionContexts
// filled by hand (no runner needed).
#ifndef EDGEPIPE_COMPONENTS_COMPONENT_TESTING_H_
#define EDGEPIPE_COMPONENTS_COMPONENT_TESTING_H_

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "edgepipe/components/statistics_gen.h"
#include "edgepipe/core/file.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components::testing {

// Writes `examples` as <dir>/Split-<split>/data_tfrecord-<i>-of-<n>.gz,
// spread round-robin over `num_shards` gzip shards.
inline void WriteExamplesSplit(const std::string& dir, const std::string& split,
                               const std::vector<tf::Example>& examples, int num_shards = 1) {
  std::string split_dir = JoinPath(dir, "Split-" + split);
  ASSERT_TRUE(Env::Default()->CreateDirs(split_dir).ok());
  std::vector<std::unique_ptr<data::TFRecordWriter>> writers;
  for (int i = 0; i < num_shards; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "data_tfrecord-%05d-of-%05d.gz", i, num_shards);
    data::TFRecordWriterOptions options;
    options.gzip_level = 1;
    auto w = data::TFRecordWriter::Open(JoinPath(split_dir, name), options);
    ASSERT_TRUE(w.ok()) << w.status();
    writers.push_back(std::move(*w));
  }
  for (size_t k = 0; k < examples.size(); ++k) {
    Status s = writers[k % writers.size()]->Write(data::SerializeDeterministic(examples[k]));
    ASSERT_TRUE(s.ok()) << s;
  }
  for (auto& w : writers) ASSERT_TRUE(w->Close().ok());
}

// An example with one float, int64 or bytes feature per map entry.
struct ExampleBuilder {
  tf::Example ex;
  ExampleBuilder& Floats(std::string_view name, std::vector<float> v) {
    data::SetFloats(&ex, name, v);
    return *this;
  }
  ExampleBuilder& Ints(std::string_view name, std::vector<int64_t> v) {
    data::SetInt64s(&ex, name, v);
    return *this;
  }
  ExampleBuilder& Bytes(std::string_view name, std::vector<std::string> v) {
    data::SetBytes(&ex, name, std::span<const std::string>(v));
    return *this;
  }
  tf::Example Build() const { return ex; }
};

// Options of RunStatisticsGen over all splits of `examples`.
inline StatisticsGenOptions StatsGenOptions(std::string examples, std::string output) {
  StatisticsGenOptions o;
  o.examples = std::move(examples);
  o.output = std::move(output);
  return o;
}

inline pipeline::Artifact MakeArtifact(std::string_view type, std::string uri,
                                       pipeline::Properties properties = {}) {
  pipeline::Artifact a;
  a.type = std::string(type);
  a.uri = std::move(uri);
  a.properties = std::move(properties);
  return a;
}

// A context as the runner would fill it: params are the spec's defaults
// overridden by `params` (not validated: tests of wrong types pass them on).
inline pipeline::ExecutionContext MakeContext(const pipeline::ComponentSpec& spec,
                                              pipeline::ArtifactMap inputs,
                                              pipeline::ArtifactMap outputs,
                                              pipeline::Params params = {}) {
  pipeline::ExecutionContext c;
  c.component_id = spec.type;
  c.execution_id = 7;
  c.inputs = std::move(inputs);
  c.outputs = std::move(outputs);
  for (const pipeline::ParamSpec& p : spec.params) {
    if (p.default_value) c.params[p.name] = *p.default_value;
  }
  for (auto& [k, v] : params) c.params[k] = v;
  for (auto& [key, arts] : c.outputs) {
    for (auto& a : arts) EXPECT_TRUE(Env::Default()->CreateDirs(a.uri).ok());
  }
  return c;
}

}  // namespace edgepipe::components::testing

#endif  // EDGEPIPE_COMPONENTS_COMPONENT_TESTING_H_
