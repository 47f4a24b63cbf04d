// Reads calibration rows from TFRecords of tf.Examples or .npy files into
// float32 batches keyed by signature input name (calibration_data.h).
#include "edgepipe/cli/calibration_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "edgepipe/core/npy.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::cli {
namespace {

// A signature input: its name and per-row shape (batch dim dropped).
struct Input {
  std::string name;
  std::vector<int64_t> dims;
  int64_t size = 1;  // elements per row
};

Result<std::vector<Input>> SignatureInputs(const model::Signature& sig) {
  std::vector<Input> inputs;
  if (sig.kind == model::SignatureKind::kExamples) {
    for (const data::FeatureSpec& f : sig.features) {
      if (f.type == data::FeatureType::kString) {
        return Status::InvalidArgument(
            fmt::format("signature \"{}\": feature \"{}\" is a string; calibration data is numeric",
                        sig.name, f.name));
      }
      inputs.push_back({f.name, f.shape, 1});
    }
  } else {
    for (const model::TensorSpec& t : sig.inputs) {
      if (t.shape.empty()) {
        return Status::InvalidArgument(
            fmt::format("signature \"{}\": input \"{}\" has no batch dimension", sig.name, t.name));
      }
      inputs.push_back({t.name, std::vector<int64_t>(t.shape.begin() + 1, t.shape.end()), 1});
    }
  }
  for (Input& in : inputs) {
    ASSIGN_OR_RETURN(in.size, NumElements(in.dims));
  }
  if (inputs.empty()) {
    return Status::InvalidArgument(fmt::format("signature \"{}\" has no inputs", sig.name));
  }
  return inputs;
}

std::string InputNames(const std::vector<Input>& inputs) {
  std::string s;
  for (const Input& in : inputs) s += (s.empty() ? "" : ", ") + in.name;
  return s;
}

bool IsNpy(std::string_view spec) {
  return spec.size() >= 4 && spec.substr(spec.size() - 4) == ".npy";
}

// Row-major rows, one vector per input, gathered before batching.
struct Rows {
  std::vector<std::vector<float>> values;  // [input][row * size + i]
  int64_t n = 0;
};

Status ReadTFRecords(const std::vector<std::string>& specs, const std::vector<Input>& inputs,
                     int64_t max_rows, Env* env, Rows* rows) {
  for (const std::string& spec : specs) {
    ASSIGN_OR_RETURN(std::vector<std::string> files, data::MatchFiles(spec, env));
    for (const std::string& file : files) {
      if (max_rows > 0 && rows->n >= max_rows) return Status::Ok();
      ASSIGN_OR_RETURN(auto reader, data::TFRecordReader::Open(file, {}, env));
      std::string_view record;
      while (max_rows <= 0 || rows->n < max_rows) {
        const uint64_t index = reader->record_index();
        ASSIGN_OR_RETURN(bool more, reader->Next(&record));
        if (!more) break;
        tf::Example ex;
        if (!ex.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
          return Status::DataLoss(
              fmt::format("{}: record {}: not a tf.Example (protobuf parse failed)", file, index));
        }
        for (size_t i = 0; i < inputs.size(); ++i) {
          const Input& in = inputs[i];
          Result<const tf::Feature*> f = data::GetFeature(ex, in.name);
          if (!f.ok()) {
            return Status::InvalidArgument(fmt::format("{}: record {}: input \"{}\": {}", file,
                                                       index, in.name, f.status().message()));
          }
          std::vector<float>& out = rows->values[i];
          int64_t count = 0;
          if ((*f)->has_float_list()) {
            const auto& v = (*f)->float_list().value();
            count = v.size();
            if (count == in.size) out.insert(out.end(), v.begin(), v.end());
          } else if ((*f)->has_int64_list()) {
            const auto& v = (*f)->int64_list().value();
            count = v.size();
            if (count == in.size) {
              for (int64_t x : v) out.push_back(static_cast<float>(x));
            }
          } else {
            return Status::InvalidArgument(
                fmt::format("{}: record {}: feature \"{}\" is {}; calibration needs float or int64",
                            file, index, in.name, data::FeatureKindName(**f)));
          }
          if (count != in.size) {
            return Status::InvalidArgument(fmt::format(
                "{}: record {}: feature \"{}\" has {} values; input \"{}\" needs {} (shape {})",
                file, index, in.name, count, in.name, in.size, ShapeToString(in.dims)));
          }
        }
        ++rows->n;
      }
    }
  }
  return Status::Ok();
}

// Appends the rows of `a` (read from `path`) as float32.
Status AppendNpyRows(const std::string& path, const Array& a, const Input& in, int64_t n,
                     std::vector<float>* out) {
  const size_t count = static_cast<size_t>(n * in.size);
  out->reserve(count);
  switch (a.dtype()) {
    case DType::kFloat32:
      out->insert(out->end(), a.data<float>().begin(), a.data<float>().begin() + count);
      return Status::Ok();
    case DType::kInt8:
      for (size_t i = 0; i < count; ++i) out->push_back(a.data<int8_t>()[i]);
      return Status::Ok();
    case DType::kUInt8:
      for (size_t i = 0; i < count; ++i) out->push_back(a.data<uint8_t>()[i]);
      return Status::Ok();
    case DType::kInt32:
      for (size_t i = 0; i < count; ++i) out->push_back(static_cast<float>(a.data<int32_t>()[i]));
      return Status::Ok();
    case DType::kInt64:
      for (size_t i = 0; i < count; ++i) out->push_back(static_cast<float>(a.data<int64_t>()[i]));
      return Status::Ok();
    default:
      return Status::InvalidArgument(fmt::format(
          "{}: dtype {}; calibration data for input \"{}\" must be float32 or an integer type",
          path, DTypeName(a.dtype()), in.name));
  }
}

Status ReadNpyFiles(const std::vector<std::string>& specs, const std::vector<Input>& inputs,
                    int64_t max_rows, Env* env, Rows* rows) {
  std::map<std::string, std::string> file_of;  // input name -> path
  for (const std::string& spec : specs) {
    std::string name, path = spec;
    if (const size_t eq = spec.find('='); eq != std::string::npos) {
      name = spec.substr(0, eq);
      path = spec.substr(eq + 1);
    } else if (inputs.size() == 1) {
      name = inputs[0].name;
    } else {
      return Status::InvalidArgument(fmt::format(
          "{}: the signature has {} inputs ({}); name the one it feeds as NAME=FILE.npy", spec,
          inputs.size(), InputNames(inputs)));
    }
    const bool known =
        std::any_of(inputs.begin(), inputs.end(), [&](const Input& in) { return in.name == name; });
    if (!known) {
      return Status::InvalidArgument(fmt::format("{}: \"{}\" is not a signature input (inputs: {})",
                                                 spec, name, InputNames(inputs)));
    }
    if (!file_of.emplace(name, path).second) {
      return Status::InvalidArgument(
          fmt::format("{}: input \"{}\" is already fed by {}", spec, name, file_of[name]));
    }
  }
  std::vector<Array> arrays;
  int64_t n = -1;
  std::string first;
  for (const Input& in : inputs) {
    auto it = file_of.find(in.name);
    if (it == file_of.end()) {
      return Status::InvalidArgument(
          fmt::format("calibration data: no .npy file for signature input \"{}\" (inputs: {})",
                      in.name, InputNames(inputs)));
    }
    const std::string& path = it->second;
    ASSIGN_OR_RETURN(Array a, ReadNpy(path, env));
    const bool rows_of_dims = a.rank() == static_cast<int>(in.dims.size()) + 1 &&
                              std::equal(in.dims.begin(), in.dims.end(), a.shape().begin() + 1);
    if (!rows_of_dims) {
      return Status::InvalidArgument(
          fmt::format("{}: shape {}; input \"{}\" needs rows of shape {}, i.e. [N, {}]", path,
                      ShapeToString(a.shape()), in.name, ShapeToString(in.dims),
                      ShapeToString(in.dims).substr(1, ShapeToString(in.dims).size() - 2)));
    }
    if (n >= 0 && a.dim(0) != n) {
      return Status::InvalidArgument(
          fmt::format("{}: {} rows; {} has {} (one row per sample)", path, a.dim(0), first, n));
    }
    n = a.dim(0);
    first = path;
    arrays.push_back(std::move(a));
  }
  rows->n = max_rows > 0 ? std::min(n, max_rows) : n;
  for (size_t i = 0; i < inputs.size(); ++i) {
    RETURN_IF_ERROR(
        AppendNpyRows(file_of[inputs[i].name], arrays[i], inputs[i], rows->n, &rows->values[i]));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<model::NamedArrays>> ReadCalibrationData(const std::vector<std::string>& specs,
                                                            const model::Signature& signature,
                                                            const CalibrationOptions& options,
                                                            Env* env) {
  if (options.batch_rows <= 0) {
    return Status::InvalidArgument(
        fmt::format("calibration batch_rows {} must be positive", options.batch_rows));
  }
  if (specs.empty()) return Status::InvalidArgument("calibration data: no files given");
  ASSIGN_OR_RETURN(std::vector<Input> inputs, SignatureInputs(signature));
  const size_t npy = static_cast<size_t>(std::count_if(specs.begin(), specs.end(), IsNpy));
  if (npy != 0 && npy != specs.size()) {
    return Status::InvalidArgument(
        "calibration data: give either TFRecord files of tf.Examples or .npy files, not both");
  }
  Rows rows;
  rows.values.resize(inputs.size());
  if (npy) {
    RETURN_IF_ERROR(ReadNpyFiles(specs, inputs, options.max_rows, env, &rows));
  } else {
    RETURN_IF_ERROR(ReadTFRecords(specs, inputs, options.max_rows, env, &rows));
  }
  if (rows.n == 0) {
    std::string all;
    for (const std::string& s : specs) all += (all.empty() ? "" : ", ") + s;
    return Status::InvalidArgument(fmt::format("calibration data {}: no rows", all));
  }
  std::vector<model::NamedArrays> batches;
  for (int64_t start = 0; start < rows.n; start += options.batch_rows) {
    const int64_t n = std::min(options.batch_rows, rows.n - start);
    model::NamedArrays batch;
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::vector<int64_t> shape = {n};
      shape.insert(shape.end(), inputs[i].dims.begin(), inputs[i].dims.end());
      ASSIGN_OR_RETURN(Array a, Array::Zeros(DType::kFloat32, shape));
      const auto begin = rows.values[i].begin() + start * inputs[i].size;
      std::copy(begin, begin + n * inputs[i].size, a.data<float>().begin());
      batch.emplace(inputs[i].name, std::move(a));
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

}  // namespace edgepipe::cli
