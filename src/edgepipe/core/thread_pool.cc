#include "edgepipe/core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

namespace edgepipe {
namespace {

// The pool whose task the current thread is running, if any.
thread_local ThreadPool* current_pool = nullptr;

}  // namespace

int ThreadPool::MachineThreads() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = MachineThreads();
  workers_.reserve(static_cast<size_t>(num_threads));
  for (int i = 0; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

ThreadPool* ThreadPool::Default() {
  static ThreadPool* pool = [] {
    int n = 0;
    if (const char* env = std::getenv("EDGEPIPE_THREADS")) {
      char* end = nullptr;
      long v = std::strtol(env, &end, 10);
      if (end != env && *end == '\0' && v > 0 && v <= 4096) n = static_cast<int>(v);
    }
    return new ThreadPool(n);
  }();
  return pool;
}

void ThreadPool::Schedule(std::function<void()> task) {
  bool wake_waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
    ++outstanding_;
    wake_waiters = waiting_in_task_ > 0;
  }
  work_cv_.notify_one();
  // Tasks blocked in Wait() help with the queue; let them see the new task.
  if (wake_waiters) done_cv_.notify_all();
}

bool ThreadPool::RunOneLocked(std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) return false;
  std::function<void()> task = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  ThreadPool* saved = current_pool;
  current_pool = this;
  task();
  current_pool = saved;
  task = nullptr;  // destroy captures outside the lock
  lock.lock();
  --outstanding_;
  done_cv_.notify_all();
  return true;
}

void ThreadPool::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    RunOneLocked(lock);
  }
}

void ThreadPool::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (current_pool != this) {
    done_cv_.wait(lock, [this] { return outstanding_ == 0; });
    return;
  }
  // Inside one of our own tasks: help with the queue, and count ourselves as
  // waiting so that waiters do not wait for each other.
  ++waiting_in_task_;
  done_cv_.notify_all();
  while (true) {
    if (RunOneLocked(lock)) continue;
    if (outstanding_ <= waiting_in_task_) break;
    done_cv_.wait(lock, [this] { return !queue_.empty() || outstanding_ <= waiting_in_task_; });
  }
  --waiting_in_task_;
  done_cv_.notify_all();
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (num_threads() <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  const int64_t num_chunks = (n + grain - 1) / grain;

  // Shared with helper tasks, which may start after this call has returned
  // (they then find no chunk left and exit).
  struct State {
    std::atomic<int64_t> next_chunk{0};
    std::mutex mu;
    std::condition_variable cv;
    int64_t chunks_done = 0;
  };
  auto state = std::make_shared<State>();
  const std::function<void(int64_t, int64_t)>* fn_ptr = &fn;
  auto work = [state, fn_ptr, n, grain, num_chunks] {
    int64_t done = 0;
    while (true) {
      int64_t c = state->next_chunk.fetch_add(1, std::memory_order_relaxed);
      if (c >= num_chunks) break;
      int64_t begin = c * grain;
      (*fn_ptr)(begin, std::min(n, begin + grain));
      ++done;
    }
    if (done > 0) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->chunks_done += done;
      if (state->chunks_done == num_chunks) state->cv.notify_all();
    }
  };
  // The caller is one of the runners; helpers claim chunks only while they
  // last, so `fn` (owned by the caller) is never touched after we return.
  const int64_t helpers = std::min<int64_t>(num_threads() - 1, num_chunks - 1);
  for (int64_t i = 0; i < helpers; ++i) Schedule(work);
  work();
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->chunks_done == num_chunks; });
}

}  // namespace edgepipe
