#include "edgepipe/data/feature_spec.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "edgepipe/data/example.pb.h"

namespace edgepipe::data {
namespace {

// Enough for one MNIST-sized Example (784 floats + map overhead) without
// another allocation; bigger records make the arena grow for that record.
constexpr size_t kScratchBytes = 16 << 10;

std::string_view ListName(FeatureType t) {
  switch (t) {
    case FeatureType::kFloat32:
      return "float_list";
    case FeatureType::kInt64:
      return "int64_list";
    case FeatureType::kString:
      return "bytes_list";
  }
  return "?";
}

std::string_view KindName(const tf::Feature& f) {
  switch (f.kind_case()) {
    case tf::Feature::kFloatList:
      return "float_list";
    case tf::Feature::kInt64List:
      return "int64_list";
    case tf::Feature::kBytesList:
      return "bytes_list";
    case tf::Feature::KIND_NOT_SET:
      break;
  }
  return "an empty Feature (no list set)";
}

size_t DefaultCount(const FeatureSpec& s) {
  switch (s.type) {
    case FeatureType::kFloat32:
      return s.default_float.size();
    case FeatureType::kInt64:
      return s.default_int64.size();
    case FeatureType::kString:
      return s.default_string.size();
  }
  return 0;
}

// Copies `n` values into `dst`, repeating a single default value.
template <typename T>
void FillDefault(const std::vector<T>& def, T* dst, int64_t n) {
  if (def.size() == 1) {
    std::fill(dst, dst + n, def[0]);
  } else {
    std::copy(def.begin(), def.end(), dst);
  }
}

}  // namespace

std::string_view FeatureTypeName(FeatureType type) {
  switch (type) {
    case FeatureType::kFloat32:
      return "float32";
    case FeatureType::kInt64:
      return "int64";
    case FeatureType::kString:
      return "string";
  }
  return "?";
}

FeatureSpec FeatureSpec::Float32(std::string name, std::vector<int64_t> shape) {
  FeatureSpec s;
  s.name = std::move(name);
  s.type = FeatureType::kFloat32;
  s.shape = std::move(shape);
  return s;
}
FeatureSpec FeatureSpec::Int64(std::string name, std::vector<int64_t> shape) {
  FeatureSpec s = Float32(std::move(name), std::move(shape));
  s.type = FeatureType::kInt64;
  return s;
}
FeatureSpec FeatureSpec::String(std::string name, std::vector<int64_t> shape) {
  FeatureSpec s = Float32(std::move(name), std::move(shape));
  s.type = FeatureType::kString;
  return s;
}
FeatureSpec FeatureSpec::WithDefault(std::vector<float> values) const {
  FeatureSpec s = *this;
  s.has_default = true;
  s.default_float = std::move(values);
  return s;
}
FeatureSpec FeatureSpec::WithDefault(std::vector<int64_t> values) const {
  FeatureSpec s = *this;
  s.has_default = true;
  s.default_int64 = std::move(values);
  return s;
}
FeatureSpec FeatureSpec::WithDefault(std::vector<std::string> values) const {
  FeatureSpec s = *this;
  s.has_default = true;
  s.default_string = std::move(values);
  return s;
}

Status ValidateFeatureSpecs(std::span<const FeatureSpec> specs) {
  std::set<std::string_view> names;
  for (const FeatureSpec& s : specs) {
    if (s.name.empty()) return Status::InvalidArgument("feature spec has an empty name");
    if (!names.insert(s.name).second) {
      return Status::InvalidArgument("feature " + s.name + " is specified twice");
    }
    Result<int64_t> n = NumElements(s.shape);
    if (!n.ok()) {
      return Status::InvalidArgument("feature " + s.name + ": shape " + ShapeToString(s.shape) +
                                     " is invalid: " + n.status().message());
    }
    const size_t own = DefaultCount(s);
    const size_t all = s.default_float.size() + s.default_int64.size() + s.default_string.size();
    if (own != all) {
      return Status::InvalidArgument("feature " + s.name + " is " +
                                     std::string(FeatureTypeName(s.type)) +
                                     " but has a default of another type");
    }
    if (!s.has_default && all != 0) {
      return Status::InvalidArgument("feature " + s.name +
                                     " has default values but has_default is false");
    }
    if (s.has_default && own != 1 && static_cast<int64_t>(own) != *n) {
      return Status::InvalidArgument("feature " + s.name + ": default has " + std::to_string(own) +
                                     " values, shape " + ShapeToString(s.shape) + " needs 1 or " +
                                     std::to_string(*n));
    }
  }
  return Status::Ok();
}

Result<const Array*> Batch::GetArray(std::string_view name) const {
  auto it = arrays.find(name);
  if (it == arrays.end()) {
    return Status::NotFound("batch has no numeric feature " + std::string(name));
  }
  return &it->second;
}

Result<Array*> Batch::GetMutableArray(std::string_view name) {
  auto it = arrays.find(name);
  if (it == arrays.end()) {
    return Status::NotFound("batch has no numeric feature " + std::string(name));
  }
  return &it->second;
}

Result<const std::vector<std::string>*> Batch::GetStrings(std::string_view name) const {
  auto it = strings.find(name);
  if (it == strings.end()) {
    return Status::NotFound("batch has no string feature " + std::string(name));
  }
  return &it->second;
}

Result<ExampleParser> ExampleParser::Create(std::vector<FeatureSpec> specs) {
  RETURN_IF_ERROR(ValidateFeatureSpecs(specs));
  ExampleParser p;
  p.specs_ = std::move(specs);
  for (const FeatureSpec& s : p.specs_) p.elements_.push_back(*NumElements(s.shape));
  p.scratch_.resize(kScratchBytes);
  return p;
}

Result<Batch> ExampleParser::Parse(std::span<const std::string> serialized, int64_t first_index) {
  const auto n = static_cast<int64_t>(serialized.size());
  Batch batch;
  batch.size = n;
  // Output columns and raw pointers into them, per spec.
  std::vector<void*> out(specs_.size(), nullptr);
  std::vector<std::string*> out_str(specs_.size(), nullptr);
  for (size_t k = 0; k < specs_.size(); ++k) {
    const FeatureSpec& s = specs_[k];
    std::vector<int64_t> shape = {n};
    shape.insert(shape.end(), s.shape.begin(), s.shape.end());
    if (s.type == FeatureType::kString) {
      Result<int64_t> total = NumElements(shape);
      if (!total.ok()) return total.status();
      auto& col = batch.strings[s.name];
      col.resize(static_cast<size_t>(*total));
      out_str[k] = col.data();
    } else {
      const DType dt = s.type == FeatureType::kFloat32 ? DType::kFloat32 : DType::kInt64;
      ASSIGN_OR_RETURN(Array a, Array::Zeros(dt, std::move(shape)));
      out[k] = a.raw_data();
      batch.arrays.emplace(s.name, std::move(a));
    }
  }

  google::protobuf::ArenaOptions options;
  options.initial_block = scratch_.data();
  options.initial_block_size = scratch_.size();
  google::protobuf::Arena arena(options);
  for (int64_t i = 0; i < n; ++i) {
    // Built only on error: this loop is hot.
    const auto rec = [&] { return "record " + std::to_string(first_index + i); };
    auto* ex = google::protobuf::Arena::CreateMessage<tf::Example>(&arena);
    if (!ex->ParseFromString(serialized[static_cast<size_t>(i)])) {
      return Status::InvalidArgument(rec() + ": not a valid serialized tf.Example");
    }
    const auto& features = ex->features().feature();
    for (size_t k = 0; k < specs_.size(); ++k) {
      const FeatureSpec& s = specs_[k];
      const int64_t want = elements_[k];
      const int64_t row = i * want;
      auto it = features.find(s.name);
      if (it == features.end()) {
        if (!s.has_default) {
          return Status::InvalidArgument(rec() + ": feature " + s.name +
                                         " is missing and its spec has no default");
        }
        switch (s.type) {
          case FeatureType::kFloat32:
            FillDefault(s.default_float, static_cast<float*>(out[k]) + row, want);
            break;
          case FeatureType::kInt64:
            FillDefault(s.default_int64, static_cast<int64_t*>(out[k]) + row, want);
            break;
          case FeatureType::kString:
            FillDefault(s.default_string, out_str[k] + row, want);
            break;
        }
        continue;
      }
      const tf::Feature& f = it->second;
      int64_t have = 0;
      bool kind_ok = false;
      switch (s.type) {
        case FeatureType::kFloat32:
          kind_ok = f.has_float_list();
          if (kind_ok) have = f.float_list().value_size();
          break;
        case FeatureType::kInt64:
          kind_ok = f.has_int64_list();
          if (kind_ok) have = f.int64_list().value_size();
          break;
        case FeatureType::kString:
          kind_ok = f.has_bytes_list();
          if (kind_ok) have = f.bytes_list().value_size();
          break;
      }
      if (!kind_ok) {
        return Status::InvalidArgument(
            rec() + ": feature " + s.name + " is " + std::string(KindName(f)) + ", spec needs " +
            std::string(FeatureTypeName(s.type)) + " (" + std::string(ListName(s.type)) + ")");
      }
      if (have != want) {
        return Status::InvalidArgument(rec() + ": feature " + s.name + " has " +
                                       std::to_string(have) + " values, spec needs " +
                                       std::to_string(want));
      }
      if (want == 0) continue;
      switch (s.type) {
        case FeatureType::kFloat32:
          std::memcpy(static_cast<float*>(out[k]) + row, f.float_list().value().data(),
                      static_cast<size_t>(want) * sizeof(float));
          break;
        case FeatureType::kInt64:
          std::memcpy(static_cast<int64_t*>(out[k]) + row, f.int64_list().value().data(),
                      static_cast<size_t>(want) * sizeof(int64_t));
          break;
        case FeatureType::kString: {
          const auto& v = f.bytes_list().value();
          for (int64_t j = 0; j < want; ++j) out_str[k][row + j] = v[static_cast<int>(j)];
          break;
        }
      }
    }
    arena.Reset();
  }
  return batch;
}

Result<Batch> ParseExamples(std::span<const std::string> serialized,
                            std::span<const FeatureSpec> specs) {
  ASSIGN_OR_RETURN(ExampleParser parser,
                   ExampleParser::Create(std::vector<FeatureSpec>(specs.begin(), specs.end())));
  return parser.Parse(serialized);
}

}  // namespace edgepipe::data
