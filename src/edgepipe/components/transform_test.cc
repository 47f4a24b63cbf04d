#include "edgepipe/components/transform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/components/schema_gen.h"
#include "edgepipe/components/transform_testing.h"
#include "edgepipe/core/build_id.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/pipeline/cache.h"
#include "edgepipe/pipeline/module.h"

// Modules loaded here bind to this program's copy of edgepipe (pipeline/module.h).
EDGEPIPE_ALLOW_MODULE_GLOBALS()

namespace edgepipe::components {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Row;
using testing::SmallRows;

std::map<std::string, Column> TestFn(const Inputs& in) {
  return {{"x01", tft::ScaleTo01(in["x"])},
          {"city_id", tft::ComputeAndApplyVocabulary(in["city"])},
          {"v2", in["v"] * 2},
          {"city", in["city"]},
          {"n", in["n"]}};
}

// Registered once for the whole test binary.
const bool kRegistered = [] {
  Status s = RegisterPreprocessingFn("transform_test_fn", TestFn);
  return s.ok();
}();

void WriteSplit(const std::string& examples, const std::string& split,
                const std::vector<Row>& rows) {
  const std::string dir = JoinPath(examples, "Split-" + split);
  ASSERT_TRUE(Env::Default()->CreateDirs(dir).ok());
  auto w = data::TFRecordWriter::Open(JoinPath(dir, "data_tfrecord-00000-of-00001.gz"));
  ASSERT_TRUE(w.ok());
  for (const std::string& r : testing::SerializeAll(rows)) ASSERT_TRUE((*w)->Write(r).ok());
  ASSERT_TRUE((*w)->Close().ok());
}

std::vector<Row> EvalRows() {
  return {{3.0f, 5, "a", {1, 2, 3}}, {-10.0f, 6, "zz", {0, 0, 1}}, {1.0f, 7, "d", {5, 5, 5}}};
}

std::vector<std::string> ReadRecords(const std::string& dir) {
  auto files = data::MatchFiles(JoinPath(dir, "*"));
  EXPECT_TRUE(files.ok()) << files.status();
  if (!files.ok()) return {};
  auto r = data::TFRecordFileSetReader::Open(*files);
  EXPECT_TRUE(r.ok());
  std::vector<std::string> out;
  std::string rec;
  while (true) {
    auto more = (*r)->Next(&rec);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    out.push_back(rec);
  }
  return out;
}

pipeline::Artifact MakeArtifact(std::string type, std::string uri) {
  pipeline::Artifact a;
  a.type = std::move(type);
  a.uri = std::move(uri);
  return a;
}

class TransformComponentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kRegistered);
    examples_ = dir_.Join("examples");
    WriteSplit(examples_, "train", SmallRows());
    WriteSplit(examples_, "eval", EvalRows());
  }

  pipeline::ExecutionContext Context(std::string fn = "transform_test_fn") {
    pipeline::ExecutionContext c;
    c.component_id = "Transform";
    c.execution_id = 3;
    c.inputs["examples"] = {MakeArtifact("Examples", examples_)};
    c.outputs["transform_graph"] = {MakeArtifact("TransformGraph", dir_.Join("graph"))};
    c.outputs["transformed_examples"] = {MakeArtifact("Examples", dir_.Join("out"))};
    c.params = {{"preprocessing_fn", std::move(fn)},
                {"module_file", std::string()},
                {"analyze_split", std::string("train")}};
    EXPECT_TRUE(Env::Default()->CreateDirs(dir_.Join("graph")).ok());
    EXPECT_TRUE(Env::Default()->CreateDirs(dir_.Join("out")).ok());
    return c;
  }

  TempDir dir_;
  std::string examples_;
};

TEST_F(TransformComponentTest, ExecutorWritesGraphAndTransformedSplits) {
  pipeline::ExecutionContext c = Context();
  auto executor = NewTransformExecutor();
  Status s = executor->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(std::get<std::string>(c.outputs["transformed_examples"][0].properties["split_names"]),
            "[\"eval\",\"train\"]");

  auto g = LoadTransformGraph(dir_.Join("graph"));
  ASSERT_TRUE(g.ok()) << g.status();
  // Analyzed on train only: min -3, max 8.5, vocabulary a b d c.
  ASSERT_EQ(g->outputs()[1].name, "city_id");
  EXPECT_THAT(g->nodes()[static_cast<size_t>(g->outputs()[1].node)].vocabulary,
              ElementsAre("a", "b", "d", "c"));

  // The transformed eval split holds Apply of the raw eval rows.
  const std::vector<std::string> recs = ReadRecords(dir_.Join("out/Split-eval"));
  ASSERT_EQ(recs.size(), 3u);
  auto parsed = data::ParseExamples(recs, g->TransformedFeatureSpecs());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto want = g->Apply(testing::RowBatch(EvalRows()));
  ASSERT_TRUE(want.ok());
  for (const char* name : {"x01", "v2"}) {
    auto a = parsed->arrays.at(name).data<float>();
    auto b = want->arrays.at(name).data<float>();
    EXPECT_EQ(std::vector<float>(a.begin(), a.end()), std::vector<float>(b.begin(), b.end()))
        << name;
  }
  auto ids = parsed->arrays.at("city_id").data<int64_t>();
  EXPECT_THAT(std::vector<int64_t>(ids.begin(), ids.end()), ElementsAre(0, -1, 2));
  EXPECT_THAT(parsed->strings.at("city"), ElementsAre("a", "zz", "d"));
  auto x01 = parsed->arrays.at("x01").data<float>();
  EXPECT_NEAR(x01[0], 6.0 / 11.5, 1e-6);
  EXPECT_NEAR(x01[1], -7.0 / 11.5, 1e-6);  // outside the train range: not clipped
  EXPECT_EQ(ReadRecords(dir_.Join("out/Split-train")).size(), 7u);
  EXPECT_TRUE(Env::Default()->Exists(dir_.Join("out/transform.json")));
}

TEST_F(TransformComponentTest, EmptyTrainSplitFails) {
  WriteSplit(examples_, "train", {});
  pipeline::ExecutionContext c = Context();
  Status s = NewTransformExecutor()->Do(c);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("Split-train"));
  EXPECT_THAT(s.message(), HasSubstr("no records"));
}

TEST_F(TransformComponentTest, EmptyTrainSplitFailsWithGivenSpecsToo) {
  WriteSplit(examples_, "train", {});
  TransformOptions o;
  o.examples = examples_;
  o.transform_graph = dir_.Join("g2");
  o.transformed_examples = dir_.Join("o2");
  o.raw_features = testing::RawSpecs();
  auto r = RunTransform(TestFn, o);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("analysis data is empty"));
}

TEST_F(TransformComponentTest, ParameterAndInputErrorsAreNamed) {
  pipeline::ExecutionContext c = Context("no_such_fn");
  Status s = NewTransformExecutor()->Do(c);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("preprocessing_fn \"no_such_fn\" is not registered"));
  EXPECT_THAT(s.message(), HasSubstr("transform_test_fn"));

  c = Context();
  c.params["module_file"] = std::string("prep.so");
  s = NewTransformExecutor()->Do(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not both"));

  c = Context();
  c.inputs["examples"][0].uri = dir_.Join("missing");
  s = NewTransformExecutor()->Do(c);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("missing"));

  EXPECT_EQ(RegisterPreprocessingFn("transform_test_fn", TestFn).code(),
            StatusCode::kAlreadyExists);
}

TEST_F(TransformComponentTest, ModuleFileGivesTheSameOutputAsTheRegisteredFn) {
  pipeline::ExecutionContext c = Context("");
  c.params["module_file"] = std::string(EDGEPIPE_TEST_MODULE_DIR "/preprocessing_fn_good.so");
  Status s = NewTransformExecutor()->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  auto from_module = LoadTransformGraph(dir_.Join("graph"));
  ASSERT_TRUE(from_module.ok()) << from_module.status();
  const std::vector<std::string> module_eval = ReadRecords(dir_.Join("out/Split-eval"));

  TransformOptions o;
  o.examples = examples_;
  o.transform_graph = dir_.Join("g2");
  o.transformed_examples = dir_.Join("o2");
  ASSERT_TRUE(RunTransform(TestFn, o).ok());
  auto registered = LoadTransformGraph(dir_.Join("g2"));
  ASSERT_TRUE(registered.ok());
  EXPECT_EQ(TransformGraphToJson(*from_module), TransformGraphToJson(*registered));
  EXPECT_EQ(module_eval, ReadRecords(dir_.Join("o2/Split-eval")));
}

TEST_F(TransformComponentTest, BadModulesAreNamed) {
  auto thrower = LoadPreprocessingFn(EDGEPIPE_TEST_MODULE_DIR "/preprocessing_fn_throw.so");
  ASSERT_TRUE(thrower.ok()) << thrower.status();
  auto traced = TransformGraph::Trace(*thrower, testing::RawSpecs());
  EXPECT_EQ(traced.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(traced.status().message(), HasSubstr("preprocessing_fn_throw.so"));
  EXPECT_THAT(traced.status().message(), HasSubstr("boom from preprocessing_fn"));

  auto no_fn = LoadPreprocessingFn(EDGEPIPE_TEST_MODULE_DIR "/test_module_good.so");
  EXPECT_EQ(no_fn.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_fn.status().message(), HasSubstr("edgepipe_preprocessing_fn_abi_version"));

  pipeline::ExecutionContext c = Context("");
  c.params["module_file"] = dir_.Join("missing.so");
  Status s = NewTransformExecutor()->Do(c);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("missing.so"));
}

TEST_F(TransformComponentTest, UnknownFeatureInPreprocessingFnIsNamed) {
  TransformOptions o;
  o.examples = examples_;
  o.transform_graph = dir_.Join("g2");
  o.transformed_examples = dir_.Join("o2");
  auto r = RunTransform(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"y", tft::ScaleTo01(in["image_floats"])}};
      },
      o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("feature \"image_floats\" is not a raw feature"));
  EXPECT_THAT(r.status().message(), HasSubstr("city, n, v, x"));
}

TEST(TransformSpecTest, InferredSpecsFillMissingScalars) {
  TempDir dir;
  auto w = data::TFRecordWriter::Open(dir.Join("r.tfrecord"));
  ASSERT_TRUE(w.ok());
  tf::Example a, b;
  data::SetFloats(&a, "x", std::vector<float>{1});
  data::SetFloats(&a, "img", std::vector<float>{1, 2, 3, 4});
  data::SetBytes(&a, "s", std::vector<std::string>{"q"});
  data::SetFloats(&b, "img", std::vector<float>{5, 6, 7, 8});
  data::SetInt64s(&b, "k", std::vector<int64_t>{3});
  for (const auto& ex : {a, b}) ASSERT_TRUE((*w)->Write(data::SerializeDeterministic(ex)).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto specs = InferRawFeatureSpecs({dir.Join("r.tfrecord")});
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 4u);
  EXPECT_EQ((*specs)[0].name, "img");
  EXPECT_EQ((*specs)[0].shape, std::vector<int64_t>{4});
  EXPECT_FALSE((*specs)[0].has_default);
  EXPECT_EQ((*specs)[1].name, "k");
  EXPECT_EQ((*specs)[1].type, data::FeatureType::kInt64);
  EXPECT_TRUE((*specs)[1].has_default);
  EXPECT_EQ((*specs)[2].type, data::FeatureType::kString);
  EXPECT_EQ((*specs)[3].name, "x");
  EXPECT_TRUE((*specs)[3].shape.empty());
  EXPECT_EQ((*specs)[3].default_float, std::vector<float>{0.0f});
}

TEST(TransformSpecTest, DslNodeHasTheComponentsShape) {
  pipeline::ComponentSpec gen_spec;
  gen_spec.type = "ExampleGen";
  gen_spec.outputs = {{"examples", "Examples", false}};
  pipeline::Node gen(gen_spec, nullptr, {}, {});
  pipeline::Node t = Transform(gen.outputs()["examples"], std::nullopt, "transform_test_fn");
  EXPECT_EQ(t.id(), "Transform");
  EXPECT_EQ(t.spec().type, "Transform");
  EXPECT_EQ(t.data()->inputs.count("examples"), 1u);
  EXPECT_EQ(t.data()->inputs.count("schema"), 0u);
  EXPECT_EQ(t.outputs()["transform_graph"].type, "TransformGraph");
  EXPECT_EQ(t.outputs()["transformed_examples"].type, "Examples");
  // Every param the node sets is declared by the spec, with the right type
  // (pipeline::ValidateParams is the runner's; it is not on main yet).
  for (const auto& [name, value] : t.data()->params) {
    bool declared = false;
    for (const pipeline::ParamSpec& p : t.spec().params) {
      declared = declared || (p.name == name && p.type == pipeline::ParamType::kString &&
                              std::holds_alternative<std::string>(value));
    }
    EXPECT_TRUE(declared) << name;
  }
  EXPECT_NE(t.data()->make_executor(), nullptr);
  pipeline::Node m =
      TransformWithModule(gen.outputs()["examples"], gen.outputs()["examples"], "prep.cc");
  EXPECT_EQ(std::get<std::string>(m.data()->params.at("module_file")), "prep.cc");
  EXPECT_EQ(std::get<std::string>(m.data()->params.at("preprocessing_fn")), "");
  EXPECT_EQ(m.data()->inputs.count("schema"), 1u);
}

// --- the schema input --------------------------------------------------------

// The schema of SmallRows' features; `edit` changes it before it is written.
std::string WriteTestSchema(const TempDir& dir, const std::function<void(tfmd::Schema&)>& edit) {
  tfmd::Schema schema;
  auto add = [&](const char* name, tfmd::FeatureType type, int64_t count) {
    tfmd::Feature* f = schema.add_feature();
    f->set_name(name);
    f->set_type(type);
    auto* shape = f->mutable_shape();
    if (count != 1) shape->add_dim()->set_size(count);
  };
  add("x", tfmd::FLOAT, 1);
  add("n", tfmd::INT, 1);
  add("city", tfmd::BYTES, 1);
  add("v", tfmd::FLOAT, 3);
  add("unused_by_the_fn", tfmd::INT, 1);
  edit(schema);
  const std::string folder = dir.Join("schema");
  EXPECT_TRUE(Env::Default()->CreateDirs(folder).ok());
  EXPECT_TRUE(WriteSchema(schema, JoinPath(folder, "schema.pbtxt")).ok());
  return folder;
}

tfmd::Feature& FeatureNamed(tfmd::Schema& s, const std::string& name) {
  for (tfmd::Feature& f : *s.mutable_feature()) {
    if (f.name() == name) return f;
  }
  ADD_FAILURE() << "no feature " << name;
  return *s.add_feature();
}

TEST_F(TransformComponentTest, SchemaInputMatchingTheExamplesPasses) {
  pipeline::ExecutionContext c = Context();
  c.inputs["schema"] = {MakeArtifact("Schema", WriteTestSchema(dir_, [](tfmd::Schema&) {}))};
  Status s = NewTransformExecutor()->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(ReadRecords(dir_.Join("out/Split-train")).size(), 7u);
}

TEST_F(TransformComponentTest, SchemaInputIsCheckedAgainstTheFeaturesTheFnReads) {
  struct Case {
    const char* what;
    std::function<void(tfmd::Schema&)> edit;
    std::vector<std::string> message_has;
  };
  const std::vector<Case> cases = {
      {"missing",
       [](tfmd::Schema& s) { s.mutable_feature()->DeleteSubrange(2, 1); },  // city
       {"feature \"city\"", "not in the schema"}},
      {"type",
       [](tfmd::Schema& s) { FeatureNamed(s, "n").set_type(tfmd::FLOAT); },
       {"feature \"n\"", "type FLOAT", "int64"}},
      {"shape",
       [](tfmd::Schema& s) { FeatureNamed(s, "v").mutable_shape()->mutable_dim(0)->set_size(4); },
       {"feature \"v\"", "4 values", "3 in the examples"}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    TempDir schema_dir;
    pipeline::ExecutionContext c = Context();
    const std::string schema = WriteTestSchema(schema_dir, k.edit);
    c.inputs["schema"] = {MakeArtifact("Schema", schema)};
    Status s = NewTransformExecutor()->Do(c);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(s.message(), HasSubstr(schema));
    for (const std::string& m : k.message_has) EXPECT_THAT(s.message(), HasSubstr(m));
  }
}

// --- the cache key of a registered preprocessing_fn ------------------------------

std::map<std::string, Column> OtherFn(const Inputs& in) { return {{"x", in["x"]}}; }

const bool kLambdaRegistered = [] {
  return RegisterPreprocessingFn("transform_test_lambda",
                                 [](const Inputs& in) { return OtherFn(in); })
      .ok();
}();

TEST(TransformCacheKeyTest, RegisteredFnIsKeyedByTheBuildIdOfItsCode) {
  ASSERT_TRUE(kRegistered);
  ASSERT_TRUE(kLambdaRegistered);
  auto exe = BuildIdOf(reinterpret_cast<const void*>(&TestFn));
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto fp = PreprocessingFnFingerprint("transform_test_fn");
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_EQ(*fp, "build-id:" + *exe);
  // A lambda: the object that registered it (this test program too).
  auto lambda = PreprocessingFnFingerprint("transform_test_lambda");
  ASSERT_TRUE(lambda.ok()) << lambda.status();
  EXPECT_EQ(*lambda, *fp);
  EXPECT_EQ(PreprocessingFnFingerprint("no_such_fn").status().code(), StatusCode::kNotFound);
}

TEST(TransformCacheKeyTest, TheFingerprintIsPartOfTheKey) {
  ASSERT_TRUE(kRegistered);
  const pipeline::ComponentSpec spec = TransformSpec();
  auto params = pipeline::ResolveParams(
      spec, {{"preprocessing_fn", std::string("transform_test_fn")}}, "Transform");
  ASSERT_TRUE(params.ok()) << params.status();
  auto key = pipeline::ComputeCacheKey(spec, "Transform", *params, {});
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*pipeline::ComputeCacheKey(spec, "Transform", *params, {}), *key);  // deterministic
  // The same function name in another build of its code: another key.
  pipeline::ComponentSpec rebuilt = spec;
  rebuilt.cache_fingerprint = [](const pipeline::Params&) -> Result<std::string> {
    return std::string("build-id:0123456789abcdef0123456789abcdef01234567");
  };
  auto other = pipeline::ComputeCacheKey(rebuilt, "Transform", *params, {});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(*other, *key);
  // An unregistered name fails the key, naming the component and the name.
  auto unknown_params =
      pipeline::ResolveParams(spec, {{"preprocessing_fn", std::string("no_such_fn")}}, "Transform");
  ASSERT_TRUE(unknown_params.ok());
  auto unknown = pipeline::ComputeCacheKey(spec, "Transform", *unknown_params, {});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("Transform"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("no_such_fn"));
}

}  // namespace
}  // namespace edgepipe::components
