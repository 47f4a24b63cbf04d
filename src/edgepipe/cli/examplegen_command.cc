// edgepipe examplegen --input PATH --format idx|csv|tfrecord --output DIR
#include <cstdio>

#include "edgepipe/cli/commands.h"
#include "edgepipe/components/example_gen.h"

namespace edgepipe::cli {
namespace {

struct ExampleGenFlags {
  std::string input;
  std::string format;
  std::string output;
  std::string splits = "train:2,eval:1";
  bool keep_splits = false;
  int shards = 0;
  int gzip_level = 1;
  bool overwrite = false;
  bool quiet = false;
};

Status RunExampleGenCommand(const ExampleGenFlags& f) {
  components::ExampleGenOptions o;
  o.input = f.input;
  ASSIGN_OR_RETURN(o.format, components::ParseInputFormat(f.format));
  o.output = f.output;
  ASSIGN_OR_RETURN(o.splits, components::ParseSplitConfig(f.splits));
  o.keep_input_splits = f.keep_splits;
  o.num_shards = f.shards;
  o.gzip_level = f.gzip_level;
  o.overwrite = f.overwrite;
  o.show_progress = !f.quiet;
  ASSIGN_OR_RETURN(components::ExampleGenSummary s, components::RunExampleGen(o));
  std::printf("ExampleGen: %lld examples from %s (%s) -> %s\n", static_cast<long long>(s.total()),
              f.input.c_str(), f.format.c_str(), s.output.c_str());
  std::printf("  %-10s %10s %7s %8s %12s\n", "split", "examples", "share", "shards", "bytes");
  for (const components::SplitSummary& sp : s.splits) {
    std::printf("  %-10s %10lld %6.1f%% %8d %12llu\n", sp.name.c_str(),
                static_cast<long long>(sp.count),
                100.0 * static_cast<double>(sp.count) / static_cast<double>(s.total()),
                sp.num_shards, static_cast<unsigned long long>(sp.bytes));
  }
  return Status::Ok();
}

}  // namespace

void RegisterExampleGenCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<ExampleGenFlags>();
  CLI::App* cmd = app.add_subcommand("examplegen",
                                     "Ingest IDX, CSV or TFRecord data into an Examples artifact "
                                     "(Split-*/ folders of gzip TFRecord shards of tf.Example)");
  cmd->add_option("--input", flags->input,
                  "input file or folder (IDX: folder of <name>-images-idx3-ubyte[.gz] and "
                  "<name>-labels-idx1-ubyte[.gz] pairs)")
      ->required();
  cmd->add_option("--format", flags->format, "input format")
      ->required()
      ->check(CLI::IsMember({"idx", "csv", "tfrecord"}));
  cmd->add_option("--output", flags->output, "output Examples folder (written atomically)")
      ->required();
  cmd->add_option("--splits", flags->splits,
                  "output splits and their hash buckets, NAME:BUCKETS,...")
      ->capture_default_str();
  cmd->add_flag("--keep-splits", flags->keep_splits,
                "keep the input's own partitions as splits (train/t10k files, CSV files, "
                "Split-* folders); t10k and test become eval");
  cmd->add_option("--shards", flags->shards, "shards per split (0 = automatic)")
      ->capture_default_str();
  cmd->add_option("--gzip-level", flags->gzip_level,
                  "gzip level of the shards: 0 store, 1-3 fast (ISA-L igzip), 4-9 zlib (6 = "
                  "TensorFlow's default)")
      ->capture_default_str()
      ->check(CLI::Range(0, 9));
  cmd->add_flag("--overwrite", flags->overwrite, "replace an existing output folder");
  cmd->add_flag("-q,--quiet", flags->quiet, "no progress display");
  cmd->callback(
      [flags, &registry] { registry.Set([flags] { return RunExampleGenCommand(*flags); }); });
}

}  // namespace edgepipe::cli
