// edgepipe examples head DIR|FILE [-n N] [--split NAME]
#include <cstdio>

#include "edgepipe/cli/commands.h"
#include "edgepipe/components/example_sources.h"
#include "edgepipe/core/file.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::cli {
namespace {

struct HeadFlags {
  std::string path;
  int n = 5;
  std::string split;
};

// Prints up to `n` records of the TFRecord files `files`, in order.
Status PrintRecords(const std::vector<std::string>& files, const std::string& root, int n) {
  int printed = 0;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(auto reader, data::TFRecordReader::Open(file));
    std::string record;
    for (int64_t index = 0; printed < n; ++index) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&record));
      if (!more) break;
      tf::Example ex;
      if (!ex.ParseFromString(record)) {
        return Status::DataLoss(file + ": record " + std::to_string(index) +
                                " is not a serialized tf.Example");
      }
      std::string name = file.substr(root.empty() ? 0 : std::min(file.size(), root.size() + 1));
      std::printf("%s  record %lld\n%s\n", name.c_str(), static_cast<long long>(index),
                  data::FormatExample(ex).c_str());
      ++printed;
    }
    if (printed >= n) break;
  }
  return Status::Ok();
}

Status RunHead(const HeadFlags& f) {
  if (f.n < 0) return Status::InvalidArgument("-n " + std::to_string(f.n) + " must be >= 0");
  Env* env = Env::Default();
  if (!env->Exists(f.path)) return Status::NotFound(f.path + ": no such file or folder");
  if (!env->IsDirectory(f.path)) return PrintRecords({f.path}, "", f.n);
  ASSIGN_OR_RETURN(auto names, env->ListDir(f.path));
  std::vector<std::string> splits;
  for (const std::string& name : names) {
    if (name.rfind("Split-", 0) == 0) splits.push_back(name.substr(6));
  }
  if (splits.empty()) {
    ASSIGN_OR_RETURN(auto files, components::ListExampleFiles(f.path, env));
    return PrintRecords(files, f.path, f.n);
  }
  bool found = false;
  for (const std::string& split : splits) {
    if (!f.split.empty() && split != f.split) continue;
    found = true;
    std::string dir = JoinPath(f.path, "Split-" + split);
    ASSIGN_OR_RETURN(auto files, components::ListExampleFiles(dir, env));
    std::printf("== split %s\n", split.c_str());
    RETURN_IF_ERROR(PrintRecords(files, f.path, f.n));
  }
  if (!found) {
    std::string have;
    for (const std::string& s : splits) have += (have.empty() ? "" : ", ") + s;
    return Status::NotFound(f.path + ": no split \"" + f.split + "\" (splits: " + have + ")");
  }
  return Status::Ok();
}

}  // namespace

void RegisterExamplesCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* examples = app.add_subcommand("examples", "Look at Examples artifacts");
  examples->require_subcommand(1);
  auto flags = std::make_shared<HeadFlags>();
  CLI::App* head = examples->add_subcommand(
      "head", "Print the first records of an Examples folder (each split) or a TFRecord file");
  head->add_option("path", flags->path, "Examples folder or TFRecord file")->required();
  head->add_option("-n", flags->n, "records to print per split")->capture_default_str();
  head->add_option("--split", flags->split, "only this split");
  head->callback([flags, &registry] { registry.Set([flags] { return RunHead(*flags); }); });
}

}  // namespace edgepipe::cli
