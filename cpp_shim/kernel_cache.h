// A per-thread cache of built surrogate kernels, so that a call with the same
// surrogate name and parameters as a recent one skips the registry lookup,
// parameter validation, coefficient setup and allocation (they cost more than
// the whole computation at small sizes). Only successfully built kernels are
// cached; a bad name or parameter still raises on every call.
#ifndef SPIKEGRAD_CPP_SHIM_KERNEL_CACHE_H_
#define SPIKEGRAD_CPP_SHIM_KERNEL_CACHE_H_

#include <array>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spikegrad/src/bridge.rs.h"

namespace spikegrad {

class KernelCache {
 public:
  // The kernel for (surrogate, params), built on a miss. Throws what
  // new_fused_grad throws (rust::Error) for bad input. The reference stays
  // valid until this thread's next call of Get.
  static const FusedGrad& Get(std::string_view surrogate, const double* params,
                              size_t n_params) {
    thread_local KernelCache cache;
    return cache.Lookup(surrogate, params, n_params);
  }

 private:
  // Enough for a network that alternates a few surrogates in one step.
  static constexpr size_t kEntries = 4;

  struct Entry {
    std::string surrogate;
    std::vector<double> params;
    std::optional<rust::Box<FusedGrad>> kernel;

    bool Matches(std::string_view s, const double* p, size_t n) const {
      return kernel && surrogate == s && params.size() == n &&
             (n == 0 || std::memcmp(params.data(), p, n * sizeof(double)) == 0);
    }
  };

  const FusedGrad& Lookup(std::string_view s, const double* p, size_t n) {
    for (const Entry& e : entries_) {
      if (e.Matches(s, p, n)) return **e.kernel;
    }
    static const double kNoParams = 0.0;
    rust::Box<FusedGrad> built = new_fused_grad(
        rust::Str(s.data(), s.size()),
        rust::Slice<const double>(n ? p : &kNoParams, n));
    Entry& slot = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    slot.surrogate.assign(s.data(), s.size());
    slot.params.assign(p, p + n);
    slot.kernel.emplace(std::move(built));
    return **slot.kernel;
  }

  std::array<Entry, kEntries> entries_;
  size_t next_ = 0;
};

}  // namespace spikegrad

#endif  // SPIKEGRAD_CPP_SHIM_KERNEL_CACHE_H_
