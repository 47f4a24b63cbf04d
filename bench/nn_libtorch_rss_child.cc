// The child process in which nn_libtorch_bench measures the peak RSS of our
// training run (RssRunFor in bench/nn_libtorch_models.h). It does not link
// LibTorch, so our figure carries none of LibTorch's ~160 MB of loaded code
// and static state; LibTorch's own run is measured in nn_libtorch_bench
// itself.
//
//   nn_libtorch_rss_child idle               # loads, exits: the baseline
//   nn_libtorch_rss_child <mlp|cnn> <threads>
// Prints "peak_rss_kib <n>" (see PeakRssKiB) and exits 0 on success; errors
// on stderr.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "bench/nn_libtorch_data.h"
#include "bench/nn_libtorch_models.h"
#include "edgepipe/nn/parallel.h"

int main(int argc, char** argv) {
  using namespace edgepipe;
  using namespace edgepipe::bench;
  if (argc == 2 && std::string_view(argv[1]) == "idle") {
    ReportPeakRss();
    return 0;
  }
  if (argc != 3 || (std::string_view(argv[1]) != "mlp" && std::string_view(argv[1]) != "cnn")) {
    std::fprintf(stderr, "usage: %s idle | <mlp|cnn> <threads>\n", argv[0]);
    return 2;
  }
  const Net net = std::string_view(argv[1]) == "mlp" ? Net::kMlp : Net::kCnn;
  nn::SetNumThreads(std::max(1, std::atoi(argv[2])));
  const RssRun run = RssRunFor(net);
  Result<LabeledImages> data = SyntheticImages(run.examples, /*seed=*/3);
  if (data.ok() && net == Net::kCnn) (void)ToImageShape(&*data);
  Result<nn::Sequential> model =
      data.ok() ? MakeOursModel(net, /*seed=*/1) : Result<nn::Sequential>(data.status());
  Result<nn::History> h =
      model.ok()
          ? model->Fit(data->x, data->y, {.batch_size = run.batch, .steps_per_epoch = run.steps})
          : Result<nn::History>(model.status());
  if (!h.ok()) {
    std::fprintf(stderr, "ours %s: %s\n", argv[1], h.status().ToString().c_str());
    return 1;
  }
  ReportPeakRss();
  return 0;
}
