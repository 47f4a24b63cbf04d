// Our side of the benchmark networks (no LibTorch here: the RSS child that
// measures our training links only this and the data file).
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/nn_libtorch_models.h"
#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"

namespace edgepipe::bench {

std::string_view NetName(Net net) { return net == Net::kMlp ? "mlp" : "cnn"; }

Result<nn::Sequential> MakeOursModel(Net net, uint64_t seed) {
  namespace L = nn::layers;
  nn::Sequential model(std::string(NetName(net)), seed);
  if (net == Net::kMlp) {
    RETURN_IF_ERROR(model.Add(L::InputLayer({784}, "image_floats")));
    RETURN_IF_ERROR(model.Add(L::Dense(64, {.activation = "relu"})));
    RETURN_IF_ERROR(model.Add(L::Dropout(0.2f)));
    RETURN_IF_ERROR(model.Add(L::Dense(64, {.activation = "relu"})));
    RETURN_IF_ERROR(model.Add(L::Dropout(0.2f)));
    RETURN_IF_ERROR(model.Add(L::Dense(10)));
    RETURN_IF_ERROR(model.Compile(nn::RMSprop(0.0015f, /*rho=*/0.9f, 0.0f, /*epsilon=*/1e-7f),
                                  nn::SparseCategoricalCrossentropy(/*from_logits=*/true),
                                  nn::SparseCategoricalAccuracy()));
  } else {
    RETURN_IF_ERROR(model.Add(L::InputLayer({28, 28, 1}, "image")));
    RETURN_IF_ERROR(model.Add(L::Conv2D(32, 3, {.activation = "relu"})));
    RETURN_IF_ERROR(model.Add(L::MaxPooling2D()));
    RETURN_IF_ERROR(model.Add(L::Conv2D(64, 3, {.activation = "relu"})));
    RETURN_IF_ERROR(model.Add(L::MaxPooling2D()));
    RETURN_IF_ERROR(model.Add(L::Flatten()));
    RETURN_IF_ERROR(model.Add(L::Dropout(0.5f)));
    RETURN_IF_ERROR(model.Add(L::Dense(10)));
    RETURN_IF_ERROR(model.Compile(nn::Adam(0.001f, 0.9f, 0.999f, 1e-7f),
                                  nn::SparseCategoricalCrossentropy(/*from_logits=*/true),
                                  nn::SparseCategoricalAccuracy()));
  }
  return model;
}

RssRun RssRunFor(Net net) {
  return net == Net::kMlp ? RssRun{.batch = 256, .steps = 100} : RssRun{.batch = 64, .steps = 30};
}

int64_t PeakRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6));  // "VmHWM:  1234 kB"
  }
  return -1;
}

void ReportPeakRss() {
  std::printf("peak_rss_kib %lld\n", static_cast<long long>(PeakRssKiB()));
  std::fflush(stdout);
}

}  // namespace edgepipe::bench
