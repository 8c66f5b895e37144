// Split an elementwise loop over XLA's intra-op thread pool.
//
// The calling thread takes chunks too, from the same atomic counter as the
// pool tasks, so the loop finishes even if the pool has one thread, is busy,
// or runs the scheduled tasks late: a task that starts after every chunk is
// taken finds nothing to do and only touches the shared, reference-counted
// state. Chunks are disjoint and each element is computed the same way
// wherever it lands, so results do not depend on the thread count.
#ifndef SPIKEGRAD_CPP_SHIM_PARALLEL_H_
#define SPIKEGRAD_CPP_SHIM_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include "xla/ffi/api/ffi.h"

namespace spikegrad {

// The smallest chunk worth handing to another thread, in elements, per kernel:
// a pool task costs a few microseconds to start, so a chunk must take longer
// than that. Measured on a 2-vCPU AMD EPYC (docs/perf.md, "Threads"): the
// surrogate gradient runs ~0.5 ns per f32 element, the step ~0.1 ns.
inline constexpr int64_t kMinGradChunk = 1 << 15;
inline constexpr int64_t kMinStepChunk = 1 << 16;
// Chunks per participating thread: evens out threads that start late.
inline constexpr int64_t kChunksPerThread = 4;
// Chunk boundaries are multiples of this, to keep SIMD loops whole.
inline constexpr int64_t kChunkAlign = 64;

class ParallelLoop {
 public:
  // Runs body(begin, end) over [0, n) in chunks of at least min_chunk
  // elements; arrays under 2 * min_chunk stay on the calling thread. body may
  // throw. Returns an empty string on success, else the first error message
  // thrown by body. A template, not std::function: no allocation or indirect
  // call on the small-array path.
  template <typename Body>
  static std::string Run(xla::ffi::ThreadPool& pool, int64_t n,
                         int64_t min_chunk, const Body& body) {
    // Size first: asking the pool for its thread count costs about as much as
    // a small array's whole computation.
    int64_t by_size = n / min_chunk;
    if (by_size < 2) return RunSerial(n, body);
    int64_t threads = std::max<int64_t>(1, pool.num_threads());
    if (threads <= 1) return RunSerial(n, body);

    int64_t chunks = std::min(by_size, (threads + 1) * kChunksPerThread);
    int64_t chunk = (n + chunks - 1) / chunks;
    chunk = (chunk + kChunkAlign - 1) / kChunkAlign * kChunkAlign;
    chunks = (n + chunk - 1) / chunk;

    auto state = std::make_shared<State<Body>>(n, chunk, chunks, &body);
    int64_t helpers = std::min(threads, chunks - 1);
    for (int64_t i = 0; i < helpers; ++i) {
      pool.Schedule([state]() { state->Work(); });
    }
    state->Work();
    state->WaitAll();
    return state->error;
  }

 private:
  template <typename Body>
  static std::string RunSerial(int64_t n, const Body& body) {
    try {
      body(0, n);
    } catch (const std::exception& e) {
      return e.what();
    }
    return {};
  }

  template <typename Body>
  struct State {
    State(int64_t n, int64_t chunk, int64_t chunks, const Body* body)
        : n(n), chunk(chunk), chunks(chunks), body(body) {}

    // Take chunks until none are left. `body` is only used while a taken
    // chunk is unfinished, and the caller waits for all of them.
    void Work() {
      for (;;) {
        int64_t i = next.fetch_add(1, std::memory_order_relaxed);
        if (i >= chunks) return;
        int64_t begin = i * chunk;
        int64_t end = std::min(n, begin + chunk);
        try {
          (*body)(begin, end);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mu);
          if (error.empty()) error = e.what();
        }
        if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
          std::lock_guard<std::mutex> lock(mu);
          cv.notify_all();
        }
      }
    }

    void WaitAll() {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [this] {
        return done.load(std::memory_order_acquire) == chunks;
      });
    }

    const int64_t n, chunk, chunks;
    const Body* body;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
    std::string error;
  };
};

}  // namespace spikegrad

#endif  // SPIKEGRAD_CPP_SHIM_PARALLEL_H_
