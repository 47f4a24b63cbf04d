#include "edgepipe/components/example_gen.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>

#include "edgepipe/components/example_sources.h"
#include "edgepipe/core/hash.h"
#include "edgepipe/core/progress.h"
#include "edgepipe/core/thread_pool.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::components {
namespace {

constexpr size_t kChunkRecords = 4096;

// The shards of one output split, written in parallel with each other.
struct SplitShards {
  SplitSummary summary;
  std::vector<std::unique_ptr<data::TFRecordWriter>> writers;
  std::vector<std::vector<const std::string*>> pending;  // per shard, this chunk
  int64_t next = 0;                                      // round-robin counter
};

std::string ShardName(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "data_tfrecord-%05d-of-%05d.gz", i, n);
  return buf;
}

Status OpenShards(const std::string& root, const std::string& split, int num_shards, int level,
                  Env* env, SplitShards* out) {
  out->summary.name = split;
  out->summary.num_shards = num_shards;
  std::string dir = JoinPath(root, "Split-" + split);
  RETURN_IF_ERROR(env->CreateDirs(dir));
  for (int i = 0; i < num_shards; ++i) {
    data::TFRecordWriterOptions opts;
    opts.compression = data::Compression::kGzip;
    opts.gzip_level = level;
    ASSIGN_OR_RETURN(
        auto w, data::TFRecordWriter::Open(JoinPath(dir, ShardName(i, num_shards)), opts, env));
    out->writers.push_back(std::move(w));
  }
  out->pending.resize(static_cast<size_t>(num_shards));
  return Status::Ok();
}

// Writes every shard's pending records, shards in parallel.
Status FlushPending(std::vector<SplitShards*>& sets) {
  std::vector<std::pair<SplitShards*, size_t>> jobs;
  for (SplitShards* s : sets) {
    for (size_t i = 0; i < s->pending.size(); ++i) {
      if (!s->pending[i].empty()) jobs.emplace_back(s, i);
    }
  }
  std::vector<Status> results(jobs.size());
  ThreadPool::Default()->ParallelFor(static_cast<int64_t>(jobs.size()), 1,
                                     [&](int64_t begin, int64_t end) {
                                       for (int64_t j = begin; j < end; ++j) {
                                         auto [set, shard] = jobs[static_cast<size_t>(j)];
                                         Status st;
                                         for (const std::string* rec : set->pending[shard]) {
                                           st = set->writers[shard]->Write(*rec);
                                           if (!st.ok()) break;
                                         }
                                         set->pending[shard].clear();
                                         results[static_cast<size_t>(j)] = st;
                                       }
                                     });
  for (Status& st : results) RETURN_IF_ERROR(st);
  return Status::Ok();
}

Status CloseShards(const std::string& root, SplitShards* set, Env* env) {
  std::string dir = JoinPath(root, "Split-" + set->summary.name);
  for (int i = 0; i < set->summary.num_shards; ++i) {
    RETURN_IF_ERROR(set->writers[static_cast<size_t>(i)]->Close());
    ASSIGN_OR_RETURN(uint64_t size,
                     env->FileSize(JoinPath(dir, ShardName(i, set->summary.num_shards))));
    set->summary.bytes += size;
  }
  return Status::Ok();
}

int AutoShards(int64_t expected_records) {
  if (expected_records >= 0 && expected_records < 10000) return 1;
  return std::max(1, ThreadPool::Default()->num_threads());
}

Status ValidateSplits(const std::vector<SplitConfig>& splits) {
  if (splits.empty()) return Status::InvalidArgument("at least one output split is needed");
  for (size_t i = 0; i < splits.size(); ++i) {
    const SplitConfig& s = splits[i];
    if (s.name.empty())
      return Status::InvalidArgument("split " + std::to_string(i) + " has no name");
    if (s.name.find('/') != std::string::npos) {
      return Status::InvalidArgument("split name \"" + s.name + "\" must not contain '/'");
    }
    if (s.hash_buckets <= 0) {
      return Status::InvalidArgument("split \"" + s.name + "\": hash_buckets " +
                                     std::to_string(s.hash_buckets) + " must be positive");
    }
    for (size_t j = 0; j < i; ++j) {
      if (splits[j].name == s.name) {
        return Status::InvalidArgument("split \"" + s.name + "\" is named twice");
      }
    }
  }
  return Status::Ok();
}

std::string FormatName(InputFormat f) {
  switch (f) {
    case InputFormat::kIdx:
      return "idx";
    case InputFormat::kCsv:
      return "csv";
    case InputFormat::kTFRecord:
      return "tfrecord";
  }
  return "?";
}

Status WriteSummaryJson(const ExampleGenOptions& options, const ExampleGenSummary& summary,
                        const std::string& root, Env* env) {
  nlohmann::json j;
  j["component"] = "ExampleGen";
  j["input"] = options.input;
  j["format"] = FormatName(options.format);
  j["keep_input_splits"] = options.keep_input_splits;
  j["gzip_level"] = options.gzip_level;
  nlohmann::json buckets = nlohmann::json::array();
  for (const SplitConfig& s : options.splits) {
    buckets.push_back({{"name", s.name}, {"hash_buckets", s.hash_buckets}});
  }
  if (!options.keep_input_splits) j["hash_buckets"] = buckets;
  nlohmann::json splits = nlohmann::json::array();
  for (const SplitSummary& s : summary.splits) {
    splits.push_back(
        {{"name", s.name}, {"count", s.count}, {"shards", s.num_shards}, {"bytes", s.bytes}});
  }
  j["splits"] = splits;
  return WriteFileAtomic(JoinPath(root, "example_gen.json"), j.dump(2) + "\n", env);
}

}  // namespace

int64_t ExampleGenSummary::total() const {
  int64_t n = 0;
  for (const SplitSummary& s : splits) n += s.count;
  return n;
}

float ScaleMnistPixel(uint8_t pixel) {
  return static_cast<float>(static_cast<double>(pixel) / 255.0 - 0.5);
}

Result<InputFormat> ParseInputFormat(std::string_view name) {
  if (name == "idx") return InputFormat::kIdx;
  if (name == "csv") return InputFormat::kCsv;
  if (name == "tfrecord") return InputFormat::kTFRecord;
  return Status::InvalidArgument("unknown input format \"" + std::string(name) +
                                 "\" (expected idx, csv or tfrecord)");
}

Result<std::vector<SplitConfig>> ParseSplitConfig(std::string_view spec) {
  std::vector<SplitConfig> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string_view item =
        spec.substr(pos, comma == std::string_view::npos ? spec.npos : comma - pos);
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("split spec \"" + std::string(item) +
                                     "\" must be NAME:BUCKETS, e.g. train:2,eval:1");
    }
    SplitConfig s;
    s.name = std::string(item.substr(0, colon));
    std::string_view num = item.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), s.hash_buckets);
    if (ec != std::errc() || ptr != num.data() + num.size()) {
      return Status::InvalidArgument("split spec \"" + std::string(item) + "\": buckets \"" +
                                     std::string(num) + "\" is not an integer");
    }
    out.push_back(std::move(s));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  RETURN_IF_ERROR(ValidateSplits(out));
  return out;
}

Result<ExampleGenSummary> RunExampleGen(const ExampleGenOptions& options, Env* env) {
  if (!options.keep_input_splits) RETURN_IF_ERROR(ValidateSplits(options.splits));
  if (options.gzip_level < 0 || options.gzip_level > 9) {
    return Status::InvalidArgument("gzip level " + std::to_string(options.gzip_level) +
                                   " must be in 0..9");
  }
  if (options.num_shards < 0) {
    return Status::InvalidArgument("num_shards " + std::to_string(options.num_shards) +
                                   " must be >= 0");
  }
  SourceOptions source_options;
  source_options.csv_missing_values = options.csv_missing_values;
  ASSIGN_OR_RETURN(std::vector<Partition> partitions,
                   OpenPartitions(options.input, options.format, source_options, env));

  ASSIGN_OR_RETURN(auto out_dir, AtomicDir::Create(options.output, options.overwrite, env));
  const std::string& root = out_dir->temp_path();

  int64_t expected_total = 0;
  for (const Partition& p : partitions) {
    int64_t n = p.source->size_hint();
    expected_total = (n < 0 || expected_total < 0) ? -1 : expected_total + n;
  }
  std::unique_ptr<Progress> progress;
  if (options.show_progress) {
    ProgressOptions po;
    po.units = "records";
    progress = std::make_unique<Progress>("ExampleGen", expected_total, po);
  }

  // Output splits: either the hash-bucket splits or one per input partition.
  std::vector<std::unique_ptr<SplitShards>> outputs;
  auto shards_for = [&](int64_t expected) {
    return options.num_shards > 0 ? options.num_shards : AutoShards(expected);
  };
  std::vector<int> bucket_to_split;
  if (!options.keep_input_splits) {
    int total_buckets = 0;
    for (const SplitConfig& t : options.splits) total_buckets += t.hash_buckets;
    for (size_t i = 0; i < options.splits.size(); ++i) {
      const SplitConfig& s = options.splits[i];
      bucket_to_split.insert(bucket_to_split.end(), static_cast<size_t>(s.hash_buckets),
                             static_cast<int>(i));
      auto set = std::make_unique<SplitShards>();
      int64_t expected = expected_total < 0 ? -1 : expected_total * s.hash_buckets / total_buckets;
      RETURN_IF_ERROR(
          OpenShards(root, s.name, shards_for(expected), options.gzip_level, env, set.get()));
      outputs.push_back(std::move(set));
    }
  }

  std::vector<std::string> chunk;
  std::vector<uint64_t> hashes;
  for (Partition& part : partitions) {
    SplitShards* fixed = nullptr;
    if (options.keep_input_splits) {
      for (auto& o : outputs) {
        if (o->summary.name == part.name) fixed = o.get();
      }
      if (fixed == nullptr) {
        auto set = std::make_unique<SplitShards>();
        RETURN_IF_ERROR(OpenShards(root, part.name, shards_for(part.source->size_hint()),
                                   options.gzip_level, env, set.get()));
        fixed = set.get();
        outputs.push_back(std::move(set));
      }
    }
    while (true) {
      ASSIGN_OR_RETURN(size_t n, part.source->Next(kChunkRecords, &chunk));
      if (n == 0) break;
      if (fixed == nullptr) {
        hashes.resize(n);
        ThreadPool::Default()->ParallelFor(static_cast<int64_t>(n), 512, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            hashes[static_cast<size_t>(i)] = Fingerprint64(chunk[static_cast<size_t>(i)]);
          }
        });
      }
      for (size_t i = 0; i < n; ++i) {
        SplitShards* set =
            fixed != nullptr
                ? fixed
                : outputs[static_cast<size_t>(bucket_to_split[hashes[i] % bucket_to_split.size()])]
                      .get();
        size_t shard = static_cast<size_t>(set->next++ % set->summary.num_shards);
        set->pending[shard].push_back(&chunk[i]);
        ++set->summary.count;
      }
      std::vector<SplitShards*> sets;
      for (auto& o : outputs) sets.push_back(o.get());
      RETURN_IF_ERROR(FlushPending(sets));
      if (progress) progress->Add(static_cast<int64_t>(n));
    }
  }
  if (progress) progress->Finish();

  ExampleGenSummary summary;
  summary.output = options.output;
  for (auto& o : outputs) {
    RETURN_IF_ERROR(CloseShards(root, o.get(), env));
    summary.splits.push_back(o->summary);
  }
  if (summary.total() == 0) {
    return Status::InvalidArgument(options.input + ": input holds no records");
  }
  RETURN_IF_ERROR(WriteSummaryJson(options, summary, root, env));
  RETURN_IF_ERROR(out_dir->Commit());
  return summary;
}

}  // namespace edgepipe::components
