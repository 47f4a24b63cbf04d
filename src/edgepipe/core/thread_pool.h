// A small fixed-size thread pool with a parallel-for.
//
// What is allowed (and tested):
//   * Schedule() and ParallelFor() from any thread, including from inside a
//     task running on this pool.
//   * ParallelFor() inside a task (nesting): the calling thread works through
//     the chunks itself, so the call completes even when every worker is busy;
//     it never deadlocks.
//   * Wait() inside a task: it runs queued tasks on the calling thread and
//     returns once every task is done except those that are themselves
//     blocked in Wait() (including the caller's own task). It cannot deadlock
//     on the pool, but it does not wait for its own task's enclosing tasks.
// What is not allowed: tasks that throw (std::terminate), destroying the pool
// from one of its own tasks, and tasks that block forever on something only
// another queued task would provide (a pool cannot run more tasks at once
// than it has threads).
//
// Thread-safe. The destructor runs every queued task, then joins the workers.
#ifndef EDGEPIPE_CORE_THREAD_POOL_H_
#define EDGEPIPE_CORE_THREAD_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace edgepipe {

class ThreadPool {
 public:
  // `num_threads` <= 0 means the machine's size: hardware_concurrency(),
  // at least 1.
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The process-wide pool, created on first use and never destroyed. Its size
  // is the environment variable EDGEPIPE_THREADS when set to a positive
  // integer, otherwise the machine's size.
  static ThreadPool* Default();

  // hardware_concurrency(), at least 1.
  static int MachineThreads();

  int num_threads() const { return static_cast<int>(workers_.size()); }

  // Queues `task` to run on a worker thread.
  void Schedule(std::function<void()> task);

  // Blocks until every task scheduled so far, and every task those schedule,
  // has finished (see the header comment for calls from inside a task).
  void Wait();

  // Calls fn(begin, end) over disjoint ranges covering [0, n), each of about
  // `grain` indices (grain < 1 counts as 1), spread over the pool and the
  // calling thread; returns when all ranges are done. Runs fn(0, n) inline
  // when the pool has one thread or n <= grain. Nothing is called when n <= 0.
  // Independent of other tasks: it waits only for its own ranges. `fn` must
  // be safe to call concurrently on disjoint ranges.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void WorkerLoop();
  // Runs one queued task if any; `lock` is held on entry and on return.
  bool RunOneLocked(std::unique_lock<std::mutex>& lock);

  std::mutex mu_;
  std::condition_variable work_cv_;  // a task was queued, or stopping
  std::condition_variable done_cv_;  // outstanding_ or waiting_in_task_ changed, or a task
                                     // was queued while a task waits
  std::deque<std::function<void()>> queue_;
  int64_t outstanding_ = 0;      // queued + running tasks
  int64_t waiting_in_task_ = 0;  // tasks blocked in Wait()
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_THREAD_POOL_H_
