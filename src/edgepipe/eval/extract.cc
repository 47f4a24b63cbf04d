#include "edgepipe/eval/extract.h"

#include <fmt/format.h>
#include <google/protobuf/arena.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgepipe/data/example.pb.h"
#include "edgepipe/eval/example_wire.h"

namespace edgepipe::eval {
namespace {

using FeatureMap = google::protobuf::Map<std::string, tf::Feature>;

std::string Available(const FeatureMap& features) {
  std::vector<std::string> names;
  for (const auto& [name, f] : features) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

bool Hidden(const std::string& name) { return name.empty() || name[0] == '.' || name[0] == '_'; }

// The first value of a numeric feature as float, or false (empty / bytes).
// Sets *count to the number of values.
int NumericCount(const tf::Feature& f) {
  switch (f.kind_case()) {
    case tf::Feature::kFloatList:
      return f.float_list().value_size();
    case tf::Feature::kInt64List:
      return f.int64_list().value_size();
    default:
      return -1;  // bytes or no kind
  }
}

float NumericAt(const tf::Feature& f, int i) {
  return f.kind_case() == tf::Feature::kFloatList ? f.float_list().value(i)
                                                  : static_cast<float>(f.int64_list().value(i));
}

void AppendValues(const tf::Feature& f, std::vector<std::string>* out) {
  out->clear();
  switch (f.kind_case()) {
    case tf::Feature::kFloatList:
      for (float v : f.float_list().value()) out->push_back(fmt::format("{:g}", v));
      break;
    case tf::Feature::kInt64List:
      for (int64_t v : f.int64_list().value()) out->push_back(std::to_string(v));
      break;
    case tf::Feature::kBytesList:
      for (const std::string& v : f.bytes_list().value()) out->push_back(v);
      break;
    default:
      break;
  }
  if (out->size() > 1) {
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
}

}  // namespace

Result<std::vector<std::string>> ResolveExampleFiles(const std::string& path,
                                                     const std::string& split, Env* env) {
  if (!env->Exists(path)) return Status::NotFound("examples " + path + " do not exist");
  if (!env->IsDirectory(path)) return std::vector<std::string>{path};
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(path));
  std::vector<std::string> splits;
  for (const std::string& n : names) {
    if (n.starts_with("Split-") && env->IsDirectory(JoinPath(path, n))) splits.push_back(n);
  }
  std::string dir = path;
  if (!splits.empty()) {
    const std::string want = "Split-" + split;
    if (std::find(splits.begin(), splits.end(), want) == splits.end()) {
      std::string have;
      for (const std::string& s : splits) have += (have.empty() ? "" : ", ") + s;
      return Status::NotFound("examples " + path + " have no " + want + " (splits: " + have + ")");
    }
    dir = JoinPath(path, want);
    ASSIGN_OR_RETURN(names, env->ListDir(dir));
  }
  std::vector<std::string> files;
  for (const std::string& n : names) {
    const std::string p = JoinPath(dir, n);
    if (!Hidden(n) && !env->IsDirectory(p)) files.push_back(p);
  }
  if (files.empty()) return Status::NotFound("examples folder " + dir + " holds no files");
  return files;
}

Result<std::unique_ptr<ExampleReader>> ExampleReader::Open(const std::string& path,
                                                           const ExampleReaderOptions& options) {
  if (options.block_size == 0) {
    return Status::InvalidArgument("example reader: block_size must be positive");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> files,
                   ResolveExampleFiles(path, options.split, options.env));
  return std::unique_ptr<ExampleReader>(new ExampleReader(std::move(files), options));
}

Status ExampleChunk::VerifyDataCrcs() {
  if (!crc_pending) return Status::Ok();
  crc_pending = false;
  for (size_t i = 0; i < views.size(); ++i) {
    RETURN_IF_ERROR(data::CheckTFRecordDataCrc(
        views[i], file, static_cast<uint64_t>(first_in_file) + i, offsets[i], gzip));
  }
  return Status::Ok();
}

Result<bool> ExampleReader::Next(int64_t max_records, ExampleChunk* chunk) {
  chunk->records.clear();
  chunk->views.clear();
  chunk->blocks.clear();  // releases the blocks: the reader may reuse them
  chunk->offsets.clear();
  chunk->crc_pending = false;
  if (max_records < 1) {
    return Status::InvalidArgument(fmt::format("chunk size {} must be >= 1", max_records));
  }
  const bool defer = options_.defer_data_crc;
  while (file_ < files_.size()) {
    if (reader_ == nullptr) {
      data::TFRecordReaderOptions ro;
      ro.stable_views = true;
      ro.verify_data_crc = !defer;
      ro.buffer_size = options_.block_size;
      ASSIGN_OR_RETURN(reader_, data::TFRecordReader::Open(files_[file_], ro, options_.env));
      in_file_ = 0;
    }
    chunk->file = files_[file_];
    chunk->first_index = next_index_;
    chunk->first_in_file = in_file_;
    chunk->gzip = reader_->gzip();
    chunk->crc_pending = defer;
    while (static_cast<int64_t>(chunk->views.size()) < max_records) {
      const uint64_t offset = reader_->offset();
      std::string_view record;
      data::TFRecordBlock block;
      Result<bool> more = reader_->Next(&record, &block);
      if (!more.ok()) {
        chunk->views.clear();
        chunk->blocks.clear();
        return more.status();
      }
      if (!*more) {
        reader_.reset();
        ++file_;
        break;
      }
      chunk->views.push_back(record);
      if (defer) chunk->offsets.push_back(offset);
      if (chunk->blocks.empty() || chunk->blocks.back() != block) {
        chunk->blocks.push_back(std::move(block));
      }
      ++in_file_;
      ++next_index_;
    }
    if (!chunk->views.empty()) return true;
  }
  chunk->crc_pending = false;
  return false;
}

Result<Extractor> Extractor::Create(ExtractSpec spec) {
  if (spec.label_key.empty()) return Status::InvalidArgument("extract: label_key is empty");
  RETURN_IF_ERROR(data::ValidateFeatureSpecs(spec.features));
  for (const data::FeatureSpec& f : spec.features) {
    if (f.type == data::FeatureType::kString) {
      return Status::InvalidArgument("extract: model feature \"" + f.name +
                                     "\" is a string feature; models take numeric features");
    }
  }
  return Extractor(std::move(spec));
}

Result<ExtractedChunk> Extractor::Extract(ExampleChunk&& chunk) {
  ExtractedChunk out;
  RETURN_IF_ERROR(Extract(std::move(chunk), &out));
  return out;
}

Status Extractor::Extract(ExampleChunk&& chunk, ExtractedChunk* out_ptr) {
  RETURN_IF_ERROR(chunk.VerifyDataCrcs());
  ExtractedChunk& out = *out_ptr;
  const int64_t n = chunk.size();
  out.size = n;
  out.file = chunk.file;
  out.first_in_file = chunk.first_in_file;
  out.example_ids.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.example_ids[static_cast<size_t>(i)] = chunk.first_index + i;
  const bool has_weight = !spec_.example_weight_key.empty();
  if (has_weight) {
    out.weights.resize(static_cast<size_t>(n));
  } else {
    out.weights.clear();
  }
  out.labels.clear();
  out.labels.reserve(static_cast<size_t>(n) * static_cast<size_t>(std::max(label_width_, 1)));
  out.records.clear();

  std::vector<int64_t>& elements = elements_;
  std::vector<void*>& dst = dst_;
  elements.clear();
  dst.clear();
  out.features.size = n;
  for (const data::FeatureSpec& f : spec_.features) {
    int64_t count = 1;
    for (int64_t d : f.shape) count *= d;
    elements.push_back(count);
    const DType dt = f.type == data::FeatureType::kInt64 ? DType::kInt64 : DType::kFloat32;
    auto it = out.features.arrays.find(f.name);
    if (it == out.features.arrays.end() || it->second.dtype() != dt || it->second.rank() < 1 ||
        it->second.dim(0) != n || it->second.num_elements() != n * count) {
      std::vector<int64_t> shape = {n};
      shape.insert(shape.end(), f.shape.begin(), f.shape.end());
      ASSIGN_OR_RETURN(Array a, Array::Uninitialized(dt, std::move(shape)));
      it = out.features.arrays.insert_or_assign(f.name, std::move(a)).first;
    }
    dst.push_back(it->second.raw_data());
  }
  out.slice_values.resize(spec_.slice_keys.size());
  for (auto& per_key : out.slice_values) {
    // Shrinking keeps the inner vectors' capacity for the next chunk.
    per_key.resize(static_cast<size_t>(n));
  }

  alignas(16) static thread_local char scratch[1 << 16];
  google::protobuf::ArenaOptions options;
  options.initial_block = scratch;
  options.initial_block_size = sizeof(scratch);
  google::protobuf::Arena arena(options);
  // The fast path: every check of the protobuf path below, on the wire
  // view; any record it does not accept (including every error) goes
  // through the protobuf path, which then gives the same result or message.
  WireExample wire;
  std::vector<float> label_values;
  const std::vector<std::string>& slice_keys = spec_.slice_keys;
  std::vector<const WireFeature*> model_f(spec_.features.size());
  std::vector<const WireFeature*> slice_f(slice_keys.size());
  const auto fast = [&](int64_t i) -> bool {
    if (!wire.Parse(chunk.record(i))) return false;
    const WireFeature* label = nullptr;
    if (!wire.Find(spec_.label_key, &label) || label == nullptr) return false;
    const bool numeric =
        label->kind == WireFeature::Kind::kFloat || label->kind == WireFeature::Kind::kInt64;
    const int64_t count = label->count;
    if (!numeric || count == 0 || (label_width_ != 0 && count != label_width_)) return false;
    label_values.resize(static_cast<size_t>(count));
    label->Floats(label_values.data());
    for (float v : label_values) {
      if (!std::isfinite(v)) return false;
      if (count == 1 && spec_.num_classes > 0 &&
          (v < 0 || v >= static_cast<float>(spec_.num_classes) || v != std::floor(v))) {
        return false;
      }
    }
    float weight = 0;
    if (has_weight) {
      const WireFeature* w = nullptr;
      if (!wire.Find(spec_.example_weight_key, &w) || w == nullptr || w->count != 1 ||
          (w->kind != WireFeature::Kind::kFloat && w->kind != WireFeature::Kind::kInt64)) {
        return false;
      }
      w->Floats(&weight);
      if (!(weight >= 0) || !std::isfinite(weight)) return false;
    }
    for (size_t k = 0; k < spec_.features.size(); ++k) {
      const WireFeature* f = nullptr;
      if (!wire.Find(spec_.features[k].name, &f) || f == nullptr || f->count != elements[k]) {
        return false;
      }
      const bool ok =
          spec_.features[k].type == data::FeatureType::kFloat32
              ? (f->kind == WireFeature::Kind::kFloat || f->kind == WireFeature::Kind::kInt64)
              : f->kind == WireFeature::Kind::kInt64;
      if (!ok) return false;
      model_f[k] = f;
    }
    for (size_t k = 0; k < slice_keys.size(); ++k) {
      if (!wire.Find(slice_keys[k], &slice_f[k])) return false;
    }
    // Accepted: write the example.
    if (label_width_ == 0) label_width_ = static_cast<int>(count);
    out.labels.insert(out.labels.end(), label_values.begin(), label_values.end());
    if (has_weight) out.weights[static_cast<size_t>(i)] = weight;
    for (size_t k = 0; k < spec_.features.size(); ++k) {
      const int64_t want = elements[k];
      if (spec_.features[k].type == data::FeatureType::kFloat32) {
        model_f[k]->Floats(static_cast<float*>(dst[k]) + i * want);
      } else {
        model_f[k]->Int64s(static_cast<int64_t*>(dst[k]) + i * want);
      }
    }
    for (size_t k = 0; k < slice_keys.size(); ++k) {
      std::vector<std::string>& values = out.slice_values[k][static_cast<size_t>(i)];
      values.clear();
      if (slice_f[k] == nullptr) continue;
      slice_f[k]->AppendText(&values);
      if (values.size() > 1) {
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
      }
    }
    return true;
  };

  for (int64_t i = 0; i < n; ++i) {
    if (spec_.fast_parse && fast(i)) continue;
    const auto where = [&] {
      return fmt::format("{}: example {}", chunk.file, chunk.first_in_file + i);
    };
    auto* ex = google::protobuf::Arena::CreateMessage<tf::Example>(&arena);
    const std::string_view record = chunk.record(i);
    if (!ex->ParseFromArray(record.data(), static_cast<int>(record.size()))) {
      return Status::DataLoss(where() + ": not a valid serialized tf.Example");
    }
    const FeatureMap& fmap = ex->features().feature();

    // Label.
    auto it = fmap.find(spec_.label_key);
    if (it == fmap.end()) {
      return Status::InvalidArgument(where() + ": label \"" + spec_.label_key +
                                     "\" is missing (features: " + Available(fmap) + ")");
    }
    const int count = NumericCount(it->second);
    if (count < 0) {
      return Status::InvalidArgument(
          where() + ": label \"" + spec_.label_key + "\" is " +
          (it->second.kind_case() == tf::Feature::kBytesList ? "bytes" : "empty") +
          "; labels must be int64 or float");
    }
    if (label_width_ == 0 && count > 0) label_width_ = count;
    if (count == 0 || count != label_width_) {
      return Status::InvalidArgument(
          fmt::format("{}: label \"{}\" has {} values; {} expected (as in the first example)",
                      where(), spec_.label_key, count, label_width_));
    }
    for (int j = 0; j < count; ++j) {
      const float v = NumericAt(it->second, j);
      if (!std::isfinite(v)) {
        return Status::InvalidArgument(
            fmt::format("{}: label \"{}\" is {}", where(), spec_.label_key, v));
      }
      if (count == 1 && spec_.num_classes > 0 &&
          (v < 0 || v >= static_cast<float>(spec_.num_classes) || v != std::floor(v))) {
        return Status::OutOfRange(
            fmt::format("{}: label \"{}\" is {}; class ids must be integers in [0, {}) for a "
                        "model with {} outputs",
                        where(), spec_.label_key, v, spec_.num_classes, spec_.num_classes));
      }
      out.labels.push_back(v);
    }

    // Weight.
    if (has_weight) {
      auto w = fmap.find(spec_.example_weight_key);
      if (w == fmap.end()) {
        return Status::InvalidArgument(where() + ": example weight \"" + spec_.example_weight_key +
                                       "\" is missing (features: " + Available(fmap) + ")");
      }
      if (NumericCount(w->second) != 1) {
        return Status::InvalidArgument(where() + ": example weight \"" + spec_.example_weight_key +
                                       "\" must be a single int64 or float value");
      }
      const float v = NumericAt(w->second, 0);
      if (!(v >= 0) || !std::isfinite(v)) {
        return Status::InvalidArgument(fmt::format("{}: example weight \"{}\" is {}; must be >= 0",
                                                   where(), spec_.example_weight_key, v));
      }
      out.weights[static_cast<size_t>(i)] = v;
    }

    // Model features.
    for (size_t k = 0; k < spec_.features.size(); ++k) {
      const data::FeatureSpec& s = spec_.features[k];
      auto f = fmap.find(s.name);
      if (f == fmap.end()) {
        return Status::InvalidArgument(where() + ": model input feature \"" + s.name +
                                       "\" is missing (features: " + Available(fmap) + ")");
      }
      const int64_t want = elements[k];
      const int have = NumericCount(f->second);
      if (have != want) {
        return Status::InvalidArgument(
            fmt::format("{}: model input feature \"{}\" has {} {} values; the model needs {}",
                        where(), s.name, have < 0 ? 0 : have, have < 0 ? "numeric" : "", want));
      }
      if (s.type == data::FeatureType::kFloat32) {
        float* d = static_cast<float*>(dst[k]) + i * want;
        if (f->second.kind_case() == tf::Feature::kFloatList) {
          std::memcpy(d, f->second.float_list().value().data(),
                      static_cast<size_t>(want) * sizeof(float));
        } else {
          for (int64_t j = 0; j < want; ++j) {
            d[j] = static_cast<float>(f->second.int64_list().value(static_cast<int>(j)));
          }
        }
      } else {
        if (f->second.kind_case() != tf::Feature::kInt64List) {
          return Status::InvalidArgument(where() + ": model input feature \"" + s.name +
                                         "\" is float; the model needs int64");
        }
        std::memcpy(static_cast<int64_t*>(dst[k]) + i * want, f->second.int64_list().value().data(),
                    static_cast<size_t>(want) * sizeof(int64_t));
      }
    }

    // Slice features: missing stays an empty list.
    for (size_t k = 0; k < spec_.slice_keys.size(); ++k) {
      auto f = fmap.find(spec_.slice_keys[k]);
      std::vector<std::string>& values = out.slice_values[k][static_cast<size_t>(i)];
      values.clear();
      if (f != fmap.end()) AppendValues(f->second, &values);
    }
    arena.Reset();
  }
  out.label_width = std::max(label_width_, 1);
  if (spec_.keep_serialized) {
    if (chunk.views.empty()) {
      out.records = std::move(chunk.records);
    } else {
      out.records.assign(chunk.views.begin(), chunk.views.end());
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> FeatureNamesOf(std::string_view serialized) {
  tf::Example ex;
  if (!ex.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return Status::InvalidArgument("not a valid serialized tf.Example");
  }
  std::vector<std::string> names;
  for (const auto& [name, f] : ex.features().feature()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace edgepipe::eval
