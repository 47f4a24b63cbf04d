// ImputeMissingWithMeans: the defaults Transform gives raw features that
// some records lack (declared in transform.h).
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "edgepipe/components/transform.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::components {
namespace {

struct Presence {
  int64_t records = 0;  // records holding the feature (non-empty list)
  double sum = 0;       // of the scalar numeric values
  int64_t values = 0;
};

// Scans every record of `files`; adds to `seen` per feature and returns the
// number of records.
Result<int64_t> Scan(const std::vector<std::string>& files, std::map<std::string, Presence>& seen,
                     Env* env) {
  if (files.empty()) return int64_t{0};
  ASSIGN_OR_RETURN(auto reader, data::TFRecordFileSetReader::Open(files, {}, env));
  std::string record;
  tf::Example ex;
  int64_t records = 0;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    if (!ex.ParseFromString(record)) {
      return Status::DataLoss(files[std::min(reader->file_index(), files.size() - 1)] +
                              ": record " + std::to_string(records) +
                              ": not a valid serialized tf.Example");
    }
    for (const auto& [name, f] : ex.features().feature()) {
      Presence& p = seen[name];
      if (f.has_float_list() && f.float_list().value_size() > 0) {
        ++p.records;
        for (float v : f.float_list().value()) {
          if (std::isnan(v)) continue;
          p.sum += v;
          ++p.values;
        }
      } else if (f.has_int64_list() && f.int64_list().value_size() > 0) {
        ++p.records;
        for (int64_t v : f.int64_list().value()) {
          p.sum += static_cast<double>(v);
          ++p.values;
        }
      } else if (f.has_bytes_list() && f.bytes_list().value_size() > 0) {
        ++p.records;
      }
    }
    ++records;
  }
  return records;
}

}  // namespace

Status ImputeMissingWithMeans(const std::vector<std::string>& analyze_files,
                              const std::vector<std::string>& other_files,
                              std::vector<data::FeatureSpec>& specs, Env* env) {
  std::map<std::string, Presence> analyzed, others;
  ASSIGN_OR_RETURN(const int64_t n_analyzed, Scan(analyze_files, analyzed, env));
  ASSIGN_OR_RETURN(const int64_t n_others, Scan(other_files, others, env));
  for (data::FeatureSpec& s : specs) {
    if (!s.shape.empty()) continue;  // only scalars are filled
    const Presence& a = analyzed[s.name];
    const Presence& o = others[s.name];
    if (a.records == n_analyzed && o.records == n_others) continue;  // never missing
    s.has_default = true;
    s.default_float.clear();
    s.default_int64.clear();
    s.default_string.clear();
    if (s.type == data::FeatureType::kString) {
      s.default_string = {""};
      continue;
    }
    if (a.values == 0) {
      return Status::FailedPrecondition(
          "raw feature \"" + s.name +
          "\": missing in some records and absent from every record of the analyze split, so "
          "there is no mean to impute");
    }
    const double mean = a.sum / static_cast<double>(a.values);
    if (s.type == data::FeatureType::kFloat32) {
      s.default_float = {static_cast<float>(mean)};
    } else {
      s.default_int64 = {std::llround(mean)};
    }
  }
  return Status::Ok();
}

}  // namespace edgepipe::components
