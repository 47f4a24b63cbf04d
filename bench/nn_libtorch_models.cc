#include "bench/nn_libtorch_models.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <dlfcn.h>
#include <torch/torch.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace edgepipe::bench {
namespace {

// OpenBLAS' C entry points, found at run time in the process (libtorch
// links libblas.so.3, which Debian's alternatives point at OpenBLAS when it
// is installed).
using SetThreadsFn = void (*)(int);
using GetConfigFn = char* (*)();
SetThreadsFn OpenBlasSetThreads() {
  return reinterpret_cast<SetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}

// Runs `fn`, turning LibTorch's exceptions into a Status naming `what`.
template <typename Fn>
Status Guard(const char* what, Fn&& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("libtorch ") + what + ": " + e.what());
  }
}

torch::Tensor WrapImages(const Array& x, Net net) {
  const int64_t n = x.num_elements() / 784;
  auto* p = const_cast<void*>(x.raw_data());  // read only
  return net == Net::kMlp ? torch::from_blob(p, {n, 784}, torch::kFloat32)
                          : torch::from_blob(p, {n, 1, 28, 28}, torch::kFloat32);
}

torch::Tensor WrapLabels(const Array& y) {
  return torch::from_blob(const_cast<void*>(y.raw_data()), {y.dim(0)}, torch::kInt64);
}

Status CheckData(const LabeledImages& data, int64_t batch) {
  if (data.x.dtype() != DType::kFloat32 || data.x.num_elements() != data.y.num_elements() * 784 ||
      data.y.dtype() != DType::kInt64 || data.y.rank() != 1) {
    return Status::InvalidArgument(
        "libtorch data: need float32 [N, 784] images and int64 [N] "
        "labels, got " +
        ShapeToString(data.x.shape()) + " and " + ShapeToString(data.y.shape()));
  }
  if (batch <= 0) {
    return Status::InvalidArgument("libtorch batch " + std::to_string(batch) + " must be positive");
  }
  return Status::Ok();
}

// Keras' defaults: glorot_uniform kernels (torch's xavier_uniform_ computes
// the same fans for Linear and Conv2d), zero biases.
void KerasInit(torch::nn::Sequential& model) {
  torch::NoGradGuard no_grad;
  for (const auto& m : model->modules(/*include_self=*/false)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      torch::nn::init::xavier_uniform_(lin->weight);
      torch::nn::init::zeros_(lin->bias);
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::xavier_uniform_(conv->weight);
      torch::nn::init::zeros_(conv->bias);
    }
  }
}

}  // namespace

std::string ToString(TorchThreads t) {
  return "torch " + std::to_string(t.torch) + " / blas " + std::to_string(t.blas);
}

bool HasOpenBlas() { return OpenBlasSetThreads() != nullptr; }

void SetTorchThreads(TorchThreads t) {
  at::set_num_threads(t.torch);
  if (SetThreadsFn set = OpenBlasSetThreads()) set(t.blas);
}

std::string TorchDescription() {
  std::string out = "LibTorch " TORCH_VERSION;
  auto get_config = reinterpret_cast<GetConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  out += get_config != nullptr ? std::string(", ") + get_config()
                               : std::string(", BLAS: not OpenBLAS (blas threads not settable)");
  return out;
}

struct TorchNet::Impl {
  Net net = Net::kMlp;
  torch::nn::Sequential model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  // The endless shuffled stream of TrainSteps.
  torch::Tensor perm;
  int64_t perm_size = -1;
  int64_t cursor = 0;
  // Running loss / accuracy, as Fit keeps them.
  double loss_sum = 0;
  int64_t correct = 0;

  void Step(const torch::Tensor& x, const torch::Tensor& y) {
    optimizer->zero_grad();
    torch::Tensor logits = model->forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
    loss.backward();
    optimizer->step();
    loss_sum += loss.item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
};

TorchNet::TorchNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorchNet::~TorchNet() = default;

Result<std::unique_ptr<TorchNet>> TorchNet::Create(Net net, uint64_t seed) {
  auto impl = std::make_unique<Impl>();
  impl->net = net;
  RETURN_IF_ERROR(Guard("create", [&] {
    namespace tnn = torch::nn;
    torch::manual_seed(seed);
    if (net == Net::kMlp) {
      impl->model =
          tnn::Sequential(tnn::Linear(784, 64), tnn::ReLU(), tnn::Dropout(0.2), tnn::Linear(64, 64),
                          tnn::ReLU(), tnn::Dropout(0.2), tnn::Linear(64, 10));
    } else {
      impl->model = tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(1, 32, 3)), tnn::ReLU(),
                                    tnn::MaxPool2d(tnn::MaxPool2dOptions(2)),
                                    tnn::Conv2d(tnn::Conv2dOptions(32, 64, 3)), tnn::ReLU(),
                                    tnn::MaxPool2d(tnn::MaxPool2dOptions(2)), tnn::Flatten(),
                                    tnn::Dropout(0.5), tnn::Linear(64 * 5 * 5, 10));
    }
    KerasInit(impl->model);
    impl->model->train();
    if (net == Net::kMlp) {
      impl->optimizer = std::make_unique<torch::optim::RMSprop>(
          impl->model->parameters(), torch::optim::RMSpropOptions(0.0015).alpha(0.9).eps(1e-7));
    } else {
      impl->optimizer = std::make_unique<torch::optim::Adam>(
          impl->model->parameters(),
          torch::optim::AdamOptions(0.001).betas({0.9, 0.999}).eps(1e-7));
    }
  }));
  return std::unique_ptr<TorchNet>(new TorchNet(std::move(impl)));
}

Status TorchNet::TrainSteps(const LabeledImages& data, int64_t batch, int64_t steps) {
  RETURN_IF_ERROR(CheckData(data, batch));
  const int64_t n = data.y.dim(0);
  if (batch > n) {
    return Status::InvalidArgument("libtorch TrainSteps: batch " + std::to_string(batch) +
                                   " exceeds the " + std::to_string(n) + " examples");
  }
  Impl& s = *impl_;
  return Guard("train", [&] {
    torch::Tensor x = WrapImages(data.x, s.net), y = WrapLabels(data.y);
    if (s.perm_size != n) {
      s.perm = torch::randperm(n, torch::kInt64);
      s.perm_size = n;
      s.cursor = 0;
    }
    for (int64_t step = 0; step < steps; ++step) {
      if (s.cursor + batch > n) {
        s.perm = torch::randperm(n, torch::kInt64);
        s.cursor = 0;
      }
      torch::Tensor idx = s.perm.narrow(0, s.cursor, batch);
      s.cursor += batch;
      s.Step(x.index_select(0, idx), y.index_select(0, idx));
    }
  });
}

Status TorchNet::TrainEpochs(const LabeledImages& data, int64_t batch, int64_t epochs) {
  RETURN_IF_ERROR(CheckData(data, batch));
  const int64_t n = data.y.dim(0);
  Impl& s = *impl_;
  return Guard("train", [&] {
    torch::Tensor x = WrapImages(data.x, s.net), y = WrapLabels(data.y);
    for (int64_t epoch = 0; epoch < epochs; ++epoch) {
      torch::Tensor perm = torch::randperm(n, torch::kInt64);
      for (int64_t i = 0; i < n; i += batch) {
        torch::Tensor idx = perm.narrow(0, i, std::min(batch, n - i));
        s.Step(x.index_select(0, idx), y.index_select(0, idx));
      }
    }
  });
}

Result<double> TorchNet::Accuracy(const LabeledImages& data, int64_t batch) {
  RETURN_IF_ERROR(CheckData(data, batch));
  const int64_t n = data.y.dim(0);
  Impl& s = *impl_;
  int64_t correct = 0;
  RETURN_IF_ERROR(Guard("accuracy", [&] {
    torch::Tensor x = WrapImages(data.x, s.net), y = WrapLabels(data.y);
    s.model->eval();
    c10::InferenceMode inference;
    for (int64_t i = 0; i < n; i += batch) {
      const int64_t b = std::min(batch, n - i);
      correct +=
          s.model->forward(x.narrow(0, i, b)).argmax(1).eq(y.narrow(0, i, b)).sum().item<int64_t>();
    }
    s.model->train();
  }));
  return n == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(n);
}

Status TorchNet::Predict(const Array& x, int64_t batch, Array* out) {
  const int64_t n = x.num_elements() / 784;
  if (x.dtype() != DType::kFloat32 || out->dtype() != DType::kFloat32 ||
      out->num_elements() != n * 10 || batch <= 0) {
    return Status::InvalidArgument("libtorch predict: need float32 images, a float32 [" +
                                   std::to_string(n) + ", 10] output and a positive batch; got " +
                                   ShapeToString(out->shape()) + ", batch " +
                                   std::to_string(batch));
  }
  Impl& s = *impl_;
  return Guard("predict", [&] {
    torch::Tensor xt = WrapImages(x, s.net);
    torch::Tensor ot = torch::from_blob(out->raw_data(), {n, 10}, torch::kFloat32);
    s.model->eval();
    {
      c10::InferenceMode inference;
      for (int64_t i = 0; i < n; i += batch) {
        const int64_t b = std::min(batch, n - i);
        ot.narrow(0, i, b).copy_(s.model->forward(xt.narrow(0, i, b)));
      }
    }
    s.model->train();
  });
}

}  // namespace edgepipe::bench
