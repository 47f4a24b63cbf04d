// Accuracy parity with LibTorch (issue 3, "Quality"): the three
// trainings, run by both engines on identical data, split, steps, batch,
// optimizer and initialisation scheme (bench/nn_libtorch_models.h), and the
// held-out accuracy side by side. Goal: ours within 1 point of LibTorch's, or
// above. Takes minutes (the CNN dominates); bench/run.sh torch runs it.
//
//   1. MNIST MLP: the 10,000 digits of <data_dir>/mnist split 2:1 as
//      ExampleGen splits them; 5000 steps of batch 40; eval split.
//   2. Fashion-MNIST MLP: 5000 steps of batch 40 on the 60,000 train images;
//      the 10,000 test images.
//   3. Fashion-MNIST CNN: 2 epochs of batch 64 (Adam); the test images.
//
//   nn_libtorch_accuracy [--only=mnist|fashion|cnn] [--seeds=N] [--threads=N]
//                        [--torch_threads=N] [--blas_threads=N]
//                        [--data_dir=DIR] [--fashion_dir=DIR]
// With --seeds=N each training runs for seeds 1..N and the means are shown.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/nn_libtorch_data.h"
#include "bench/nn_libtorch_models.h"
#include "edgepipe/nn/parallel.h"

namespace edgepipe::bench {
namespace {

struct Options {
  std::string only;
  int seeds = 1;
  int threads = 2;
  TorchThreads torch{1, 1};  // robust on a loaded machine; accuracy does not depend on it
  std::string data_dir = EDGEPIPE_DATA_DIR;
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
};

struct Training {
  std::string name;
  Net net;
  int64_t batch;
  int64_t steps;   // > 0: steps from an endless reshuffled stream
  int64_t epochs;  // else: full passes
};

struct Outcome {
  double accuracy = 0;
  double seconds = 0;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Result<Outcome> TrainOurs(const Training& t, const TrainTest& data, uint64_t seed) {
  ASSIGN_OR_RETURN(nn::Sequential model, MakeOursModel(t.net, seed));
  nn::FitOptions fit{.batch_size = t.batch, .seed = seed};
  if (t.steps > 0) {
    fit.steps_per_epoch = t.steps;
  } else {
    fit.epochs = t.epochs;
  }
  const double start = Now();
  ASSIGN_OR_RETURN(nn::History h, model.Fit(data.train.x, data.train.y, fit));
  (void)h;
  Outcome out{.seconds = Now() - start};
  ASSIGN_OR_RETURN(auto eval, model.Evaluate(data.test.x, data.test.y, 1000));
  out.accuracy = eval.at("sparse_categorical_accuracy");
  return out;
}

Result<Outcome> TrainTorch(const Training& t, const TrainTest& data, uint64_t seed) {
  ASSIGN_OR_RETURN(std::unique_ptr<TorchNet> model, TorchNet::Create(t.net, seed));
  const double start = Now();
  if (t.steps > 0) {
    RETURN_IF_ERROR(model->TrainSteps(data.train, t.batch, t.steps));
  } else {
    RETURN_IF_ERROR(model->TrainEpochs(data.train, t.batch, t.epochs));
  }
  Outcome out{.seconds = Now() - start};
  ASSIGN_OR_RETURN(out.accuracy, model->Accuracy(data.test, 1000));
  return out;
}

Status Run(const Options& o) {
  nn::SetNumThreads(o.threads);
  SetTorchThreads(o.torch);
  std::printf("%s\nours at %d thread(s), LibTorch at %s, %d seed(s)\n\n",
              TorchDescription().c_str(), o.threads, ToString(o.torch).c_str(), o.seeds);
  std::printf("%-40s %8s %8s %8s %9s %9s  %s\n", "training", "ours", "LibTorch", "diff pt",
              "ours s", "torch s", "goal (>= torch - 1 pt)");
  const std::vector<Training> trainings = {
      {"mnist: MLP, 5000 steps b40, 2:1 split", Net::kMlp, 40, 5000, 0},
      {"fashion: MLP, 5000 steps b40", Net::kMlp, 40, 5000, 0},
      {"cnn: fashion CNN, 2 epochs b64, Adam", Net::kCnn, 64, 0, 2},
  };
  std::optional<TrainTest> mnist, fashion;
  bool all_met = true;
  for (const Training& t : trainings) {
    const std::string key = t.name.substr(0, t.name.find(':'));
    if (!o.only.empty() && o.only != key) continue;
    const TrainTest* data = nullptr;
    if (key == "mnist") {
      if (!mnist) {
        ASSIGN_OR_RETURN(mnist, LoadMnistExampleGenSplit(o.data_dir + "/mnist"));
      }
      data = &*mnist;
    } else {
      if (!fashion) {
        ASSIGN_OR_RETURN(fashion, LoadFashionMnist(o.fashion_dir));
      }
      data = &*fashion;
    }
    std::fprintf(stderr, "  %s: %lld train / %lld test examples\n", key.c_str(),
                 static_cast<long long>(data->train.y.dim(0)),
                 static_cast<long long>(data->test.y.dim(0)));
    TrainTest shaped;
    if (t.net == Net::kCnn) {  // a reshaped copy: the MLP keeps [N, 784]
      shaped = *data;
      RETURN_IF_ERROR(ToImageShape(&shaped.train));
      RETURN_IF_ERROR(ToImageShape(&shaped.test));
      data = &shaped;
    }
    Outcome ours_sum, torch_sum;
    for (int seed = 1; seed <= o.seeds; ++seed) {
      ASSIGN_OR_RETURN(Outcome ours, TrainOurs(t, *data, static_cast<uint64_t>(seed)));
      ASSIGN_OR_RETURN(Outcome torch, TrainTorch(t, *data, static_cast<uint64_t>(seed)));
      std::fprintf(stderr, "  %s seed %d: ours %.4f (%.1f s), LibTorch %.4f (%.1f s)\n",
                   key.c_str(), seed, ours.accuracy, ours.seconds, torch.accuracy, torch.seconds);
      ours_sum.accuracy += ours.accuracy;
      ours_sum.seconds += ours.seconds;
      torch_sum.accuracy += torch.accuracy;
      torch_sum.seconds += torch.seconds;
    }
    const double n = o.seeds;
    const double diff = 100 * (ours_sum.accuracy - torch_sum.accuracy) / n;
    const bool met = diff >= -1.0;
    all_met = all_met && met;
    std::printf("%-40s %8.4f %8.4f %+8.2f %9.1f %9.1f  %s\n", t.name.c_str(), ours_sum.accuracy / n,
                torch_sum.accuracy / n, diff, ours_sum.seconds / n, torch_sum.seconds / n,
                met ? "met" : "NOT met");
    std::fflush(stdout);
  }
  std::printf("\n%s\n", all_met ? "accuracy parity: met" : "accuracy parity: NOT met");
  return Status::Ok();
}

// "--name=value" -> value, when `arg` has that prefix.
bool Flag(std::string_view arg, std::string_view name, std::string* value) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  *value = std::string(arg.substr(name.size() + 1));
  return true;
}

}  // namespace
}  // namespace edgepipe::bench

int main(int argc, char** argv) {
  using namespace edgepipe::bench;
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    const std::string_view a = argv[i];
    if (Flag(a, "--only", &o.only)) {
      if (o.only != "mnist" && o.only != "fashion" && o.only != "cnn") {
        std::fprintf(stderr, "--only=%s: expected mnist, fashion or cnn\n", o.only.c_str());
        return 2;
      }
    } else if (Flag(a, "--seeds", &v)) {
      o.seeds = std::max(1, std::atoi(v.c_str()));
    } else if (Flag(a, "--threads", &v)) {
      o.threads = std::max(1, std::atoi(v.c_str()));
    } else if (Flag(a, "--torch_threads", &v)) {
      o.torch.torch = std::max(1, std::atoi(v.c_str()));
    } else if (Flag(a, "--blas_threads", &v)) {
      o.torch.blas = std::max(1, std::atoi(v.c_str()));
    } else if (!Flag(a, "--data_dir", &o.data_dir) && !Flag(a, "--fashion_dir", &o.fashion_dir)) {
      std::fprintf(stderr,
                   "unknown argument \"%s\"; usage: %s [--only=mnist|fashion|cnn] [--seeds=N] "
                   "[--threads=N] [--torch_threads=N] [--blas_threads=N] [--data_dir=DIR] "
                   "[--fashion_dir=DIR]\n",
                   argv[i], argv[0]);
      return 2;
    }
  }
  edgepipe::Status s = Run(o);
  if (!s.ok()) {
    std::fprintf(stderr, "nn_libtorch_accuracy: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
