#include "edgepipe/components/example_sources.h"

#include <algorithm>
#include <cstring>

#include "edgepipe/core/thread_pool.h"
#include "edgepipe/data/csv.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/idx.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::components {
namespace {

// ---- Protobuf wire encoding of the IDX examples (hot path: no allocation
// per field, keys in sorted order as deterministic serialization has them).

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
void PutTag(std::string* out, int field, int wire_type) {
  PutVarint(out, static_cast<uint64_t>(field << 3 | wire_type));
}
constexpr int kLen = 2;  // length-delimited wire type

// Sizes of a map entry {key, Feature{kind_field: List{1: packed payload}}}.
struct EntrySizes {
  size_t list;     // List message body
  size_t feature;  // Feature message body
  size_t entry;    // map entry body
  size_t total;    // entry with its tag and length
};
EntrySizes SizesOf(std::string_view key, size_t payload) {
  EntrySizes s;
  s.list = 1 + VarintSize(payload) + payload;
  s.feature = 1 + VarintSize(s.list) + s.list;
  s.entry = 1 + VarintSize(key.size()) + key.size() + 1 + VarintSize(s.feature) + s.feature;
  s.total = 1 + VarintSize(s.entry) + s.entry;
  return s;
}

// Writes the entry up to (not including) the packed payload bytes.
void PutEntryHeader(std::string* out, std::string_view key, int kind_field, size_t payload) {
  const EntrySizes s = SizesOf(key, payload);
  PutTag(out, 1, kLen);  // Features.feature (map entry)
  PutVarint(out, s.entry);
  PutTag(out, 1, kLen);  // entry key
  PutVarint(out, key.size());
  out->append(key);
  PutTag(out, 2, kLen);  // entry value: Feature
  PutVarint(out, s.feature);
  PutTag(out, kind_field, kLen);  // Feature.{float,int64}_list
  PutVarint(out, s.list);
  PutTag(out, 1, kLen);  // List.value, packed
  PutVarint(out, payload);
}

constexpr int kFloatList = 2;
constexpr int kInt64List = 3;

// Serializes {image_class: int64[1], image_floats: float[n]} exactly as
// protobuf's deterministic serialization does (keys in sorted order).
void SerializeImageExample(const uint8_t* pixels, size_t n, int64_t label, const float* lut,
                           std::string* out) {
  std::string cls;
  PutVarint(&cls, static_cast<uint64_t>(label));
  const size_t float_bytes = n * sizeof(float);
  const size_t features =
      SizesOf("image_class", cls.size()).total + SizesOf("image_floats", float_bytes).total;
  out->clear();
  out->reserve(1 + VarintSize(features) + features);
  PutTag(out, 1, kLen);  // Example.features
  PutVarint(out, features);
  PutEntryHeader(out, "image_class", kInt64List, cls.size());
  out->append(cls);
  PutEntryHeader(out, "image_floats", kFloatList, float_bytes);
  // Little-endian IEEE-754 floats, written in place.
  const size_t at = out->size();
  out->resize(at + float_bytes);
  char* dst = out->data() + at;
  for (size_t i = 0; i < n; ++i) std::memcpy(dst + i * 4, &lut[pixels[i]], 4);
}

class IdxSource final : public ExampleSource {
 public:
  explicit IdxSource(data::IdxImagesAndLabels d) : d_(std::move(d)) {
    for (int p = 0; p < 256; ++p) lut_[p] = ScaleMnistPixel(static_cast<uint8_t>(p));
    count_ = d_.images.dim(0);
    pixels_ = static_cast<size_t>(d_.images.num_elements() / std::max<int64_t>(1, count_));
  }
  Result<size_t> Next(size_t max, std::vector<std::string>* out) override {
    const size_t n =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(max), count_ - pos_));
    out->resize(n);
    const uint8_t* images = d_.images.data<uint8_t>().data();
    const uint8_t* labels = d_.labels.data<uint8_t>().data();
    const int64_t start = pos_;
    ThreadPool::Default()->ParallelFor(static_cast<int64_t>(n), 256, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t r = start + i;
        SerializeImageExample(images + static_cast<size_t>(r) * pixels_, pixels_, labels[r], lut_,
                              &(*out)[static_cast<size_t>(i)]);
      }
    });
    pos_ += static_cast<int64_t>(n);
    return n;
  }
  int64_t size_hint() const override { return count_; }

 private:
  data::IdxImagesAndLabels d_;
  float lut_[256];
  int64_t count_ = 0;
  size_t pixels_ = 0;
  int64_t pos_ = 0;
};

class CsvSource final : public ExampleSource {
 public:
  explicit CsvSource(data::CsvTable table) : table_(std::move(table)) {}
  Result<size_t> Next(size_t max, std::vector<std::string>* out) override {
    const int64_t rows = table_.num_rows;
    const size_t n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(max), rows - pos_));
    out->resize(n);
    for (size_t i = 0; i < n; ++i, ++pos_) {
      tf::Example ex;
      RETURN_IF_ERROR(data::CsvRowToExample(table_, pos_, &ex));
      (*out)[i] = data::SerializeDeterministic(ex);
    }
    return n;
  }
  int64_t size_hint() const override { return table_.num_rows; }

 private:
  data::CsvTable table_;
  int64_t pos_ = 0;
};

// Passes records through unchanged (as TFX's ImportExampleGen does) after
// checking that each one is a tf.Example.
class TFRecordSource final : public ExampleSource {
 public:
  TFRecordSource(std::vector<std::string> files, Env* env) : files_(std::move(files)), env_(env) {}
  Result<size_t> Next(size_t max, std::vector<std::string>* out) override {
    out->resize(max);
    size_t n = 0;
    while (n < max) {
      if (!reader_) {
        if (file_ >= files_.size()) break;
        ASSIGN_OR_RETURN(reader_, data::TFRecordReader::Open(files_[file_], {}, env_));
        record_in_file_ = 0;
      }
      ASSIGN_OR_RETURN(bool more, reader_->Next(&(*out)[n]));
      if (!more) {
        reader_.reset();
        ++file_;
        continue;
      }
      origin_.emplace_back(file_, record_in_file_++);
      ++n;
    }
    out->resize(n);
    std::vector<char> bad(n, 0);
    ThreadPool::Default()->ParallelFor(static_cast<int64_t>(n), 64, [&](int64_t b, int64_t e) {
      tf::Example ex;
      for (int64_t i = b; i < e; ++i) {
        bad[static_cast<size_t>(i)] = !ex.ParseFromString((*out)[static_cast<size_t>(i)]);
      }
    });
    for (size_t i = 0; i < n; ++i) {
      if (bad[i]) {
        auto [f, r] = origin_[i];
        return Status::DataLoss(files_[f] + ": record " + std::to_string(r) +
                                " is not a serialized tf.Example");
      }
    }
    origin_.clear();
    return n;
  }
  int64_t size_hint() const override { return -1; }

 private:
  std::vector<std::string> files_;
  Env* env_;
  size_t file_ = 0;
  int64_t record_in_file_ = 0;
  std::unique_ptr<data::TFRecordReader> reader_;
  std::vector<std::pair<size_t, int64_t>> origin_;
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string CanonicalSplitName(std::string name) {
  if (name == "t10k" || name == "test") return "eval";
  return name;
}

// The names (MNIST-style) of an IDX pair's files: <prefix><suffix>.
constexpr std::string_view kIdxImagesSuffixes[] = {"-images-idx3-ubyte", "-images-idx3-ubyte.gz",
                                                   "-images.idx3-ubyte", "-images.idx3-ubyte.gz"};
constexpr std::string_view kIdxLabelsSuffixes[] = {"-labels-idx1-ubyte", "-labels-idx1-ubyte.gz",
                                                   "-labels.idx1-ubyte", "-labels.idx1-ubyte.gz"};

// "<prefix>-images-idx3-ubyte[.gz]" -> prefix; "" when not an images file.
std::string IdxImagesPrefix(std::string_view file) {
  for (std::string_view suffix : kIdxImagesSuffixes) {
    if (EndsWith(file, suffix)) return std::string(file.substr(0, file.size() - suffix.size()));
  }
  return "";
}

Result<std::string> FindIdxLabels(const std::string& dir, const std::string& prefix, Env* env) {
  for (std::string_view suffix : kIdxLabelsSuffixes) {
    std::string p = JoinPath(dir, prefix + std::string(suffix));
    if (env->Exists(p)) return p;
  }
  return Status::NotFound(JoinPath(dir, prefix + "-labels-idx1-ubyte[.gz]") +
                          ": labels file for the images \"" + prefix +
                          "-images-idx3-ubyte\" not found");
}

Result<std::vector<Partition>> OpenIdx(const std::string& input, Env* env) {
  struct ImagesFile {
    std::string prefix;
    std::string dir;
    std::string path;
  };
  std::vector<ImagesFile> pairs;
  if (env->IsDirectory(input)) {
    ASSIGN_OR_RETURN(auto names, env->ListDir(input));
    for (const std::string& n : names) {
      std::string prefix = IdxImagesPrefix(n);
      if (!prefix.empty()) pairs.push_back({prefix, input, JoinPath(input, n)});
    }
    if (pairs.empty()) {
      return Status::NotFound(input +
                              ": no IDX images file (<name>-images-idx3-ubyte[.gz]) in folder");
    }
  } else {
    std::string prefix = IdxImagesPrefix(Basename(input));
    if (prefix.empty()) {
      if (!env->Exists(input)) return Status::NotFound(input + ": no such file or folder");
      return Status::InvalidArgument(
          input +
          ": an IDX input must be a folder or a file named "
          "<name>-images-idx3-ubyte[.gz] with its labels file beside it");
    }
    pairs.push_back({prefix, Dirname(input), input});
  }
  std::vector<Partition> parts;
  for (const ImagesFile& images : pairs) {
    ASSIGN_OR_RETURN(std::string labels, FindIdxLabels(images.dir, images.prefix, env));
    ASSIGN_OR_RETURN(data::IdxImagesAndLabels d,
                     data::ReadIdxImagesAndLabels(images.path, labels, env));
    parts.push_back({CanonicalSplitName(images.prefix), std::make_unique<IdxSource>(std::move(d))});
  }
  return parts;
}

Result<std::vector<Partition>> OpenCsv(const std::string& input, const SourceOptions& options,
                                       Env* env) {
  std::vector<std::string> files;
  if (env->IsDirectory(input)) {
    ASSIGN_OR_RETURN(auto names, env->ListDir(input));
    for (const std::string& n : names) {
      if (EndsWith(n, ".csv")) files.push_back(JoinPath(input, n));
    }
    if (files.empty()) return Status::NotFound(input + ": no .csv file in folder");
  } else {
    files.push_back(input);
  }
  std::vector<Partition> parts;
  for (const std::string& f : files) {
    data::CsvOptions co;
    co.missing_values = options.csv_missing_values;
    ASSIGN_OR_RETURN(data::CsvTable table, data::ReadCsv(f, co, env));
    std::string stem(Basename(f));
    if (EndsWith(stem, ".csv")) stem.resize(stem.size() - 4);
    parts.push_back({CanonicalSplitName(stem), std::make_unique<CsvSource>(std::move(table))});
  }
  return parts;
}

Result<std::vector<Partition>> OpenTFRecord(const std::string& input, Env* env) {
  std::vector<Partition> parts;
  if (!env->IsDirectory(input)) {
    if (!env->Exists(input)) return Status::NotFound(input + ": no such file or folder");
    parts.push_back(
        {"data", std::make_unique<TFRecordSource>(std::vector<std::string>{input}, env)});
    return parts;
  }
  ASSIGN_OR_RETURN(auto names, env->ListDir(input));
  for (const std::string& n : names) {
    if (n.rfind("Split-", 0) == 0 && env->IsDirectory(JoinPath(input, n))) {
      ASSIGN_OR_RETURN(auto files, ListExampleFiles(JoinPath(input, n), env));
      parts.push_back({n.substr(6), std::make_unique<TFRecordSource>(std::move(files), env)});
    }
  }
  if (parts.empty()) {
    ASSIGN_OR_RETURN(auto files, ListExampleFiles(input, env));
    if (files.empty()) return Status::NotFound(input + ": no TFRecord files in folder");
    parts.push_back({"data", std::make_unique<TFRecordSource>(std::move(files), env)});
  }
  return parts;
}

}  // namespace

Result<std::vector<std::string>> ListExampleFiles(const std::string& dir, Env* env) {
  ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
  std::vector<std::string> files;
  for (const std::string& n : names) {
    if (n.empty() || n[0] == '.' || n[0] == '_' || EndsWith(n, ".json")) continue;
    std::string p = JoinPath(dir, n);
    if (!env->IsDirectory(p)) files.push_back(p);
  }
  return files;
}

Result<std::vector<Partition>> OpenPartitions(const std::string& input, InputFormat format,
                                              const SourceOptions& options, Env* env) {
  if (input.empty()) return Status::InvalidArgument("no input given");
  switch (format) {
    case InputFormat::kIdx:
      return OpenIdx(input, env);
    case InputFormat::kCsv:
      return OpenCsv(input, options, env);
    case InputFormat::kTFRecord:
      return OpenTFRecord(input, env);
  }
  return Status::InvalidArgument("unknown input format");
}

}  // namespace edgepipe::components
