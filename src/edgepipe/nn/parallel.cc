#include "edgepipe/nn/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace edgepipe::nn {
namespace {

thread_local bool in_parallel_task = false;  // set while running a task

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int DefaultThreads() {
  if (const char* env = std::getenv("EDGEPIPE_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp<unsigned>(hw, 1, 8));
}

// One ParallelFor call. Workers that wake late find no task left and never
// touch fn, so the caller waits only for claimed tasks, never for a
// descheduled worker to acknowledge.
struct Job {
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t n = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
};

void Work(Job& job) {
  const bool outer = in_parallel_task;
  in_parallel_task = true;
  for (int64_t i; (i = job.next.fetch_add(1)) < job.n;) {
    (*job.fn)(i);
    job.done.fetch_add(1, std::memory_order_release);
  }
  in_parallel_task = outer;
}

// Workers spin briefly for a new job (jobs come in quick succession during
// training), then sleep on a condition variable.
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  void Run(int64_t n, const std::function<void(int64_t)>& fn) {
    auto job = std::make_shared<Job>();
    job->fn = &fn;
    job->n = n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    Work(*job);
    for (int spin = 0; job->done.load(std::memory_order_acquire) < n; ++spin) {
      if (spin < 4000) {
        CpuRelax();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  void WorkerLoop() {
    uint64_t seen = 0;
    while (true) {
      uint64_t gen = generation_.load(std::memory_order_acquire);
      for (int spin = 0; gen == seen && spin < 4000; ++spin) {
        CpuRelax();
        gen = generation_.load(std::memory_order_acquire);
      }
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_.load() != seen; });
        seen = generation_.load();
        if (stop_) return;
        job = job_;
      }
      if (job) Work(*job);
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::shared_ptr<Job> job_;  // guarded by mu_
  bool stop_ = false;         // guarded by mu_
};

std::mutex pool_mu;  // one job at a time; guards the pool pointer
std::atomic<int> num_threads{0};
std::unique_ptr<Pool>& PoolPtr() {
  static auto* pool = new std::unique_ptr<Pool>();  // never destroyed (exit-safe)
  return *pool;
}

}  // namespace

void SetNumThreads(int n) { num_threads.store(std::max(n, 1)); }

int NumThreads() {
  int n = num_threads.load();
  if (n == 0) {
    n = DefaultThreads();
    int expected = 0;
    num_threads.compare_exchange_strong(expected, n);
    n = num_threads.load();
  }
  return n;
}

void ParallelFor(int64_t n, const std::function<void(int64_t)>& fn) {
  const int threads = NumThreads();
  if (n <= 1 || threads <= 1 || in_parallel_task) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::lock_guard<std::mutex> lock(pool_mu);
  std::unique_ptr<Pool>& pool = PoolPtr();
  if (pool == nullptr || pool->workers() != threads - 1) pool = std::make_unique<Pool>(threads - 1);
  pool->Run(n, fn);
}

}  // namespace edgepipe::nn
