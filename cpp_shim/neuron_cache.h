// The per-thread cache of built fused-neuron kernels (src/bridge_neuron.rs),
// shared by the feed-forward (neuron_handlers.cc) and recurrent
// (recurrent_handlers.cc) handlers. Same reasoning as kernel_cache.h.

#ifndef SPIKEGRAD_CPP_SHIM_NEURON_CACHE_H_
#define SPIKEGRAD_CPP_SHIM_NEURON_CACHE_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spikegrad/src/bridge_neuron.rs.h"
#include "xla/ffi/api/ffi.h"

namespace spikegrad {

// Per-thread cache of built kernels (same reasoning as kernel_cache.h).
class NeuronCache {
 public:
  static const NeuronFused& Get(std::string_view model,
                                std::string_view surrogate,
                                xla::ffi::Span<const double> params, bool hard,
                                int64_t stride) {
    thread_local NeuronCache cache;
    return cache.Lookup(model, surrogate, params, hard, stride);
  }

 private:
  static constexpr size_t kEntries = 8;
  struct Entry {
    std::string model, surrogate;
    std::vector<double> params;
    bool hard = false;
    int64_t stride = 0;
    std::optional<rust::Box<NeuronFused>> kernel;
  };

  static bool Same(const std::vector<double>& a, xla::ffi::Span<const double> b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.begin(),
                                     a.size() * sizeof(double)) == 0);
  }

  const NeuronFused& Lookup(std::string_view m, std::string_view s,
                            xla::ffi::Span<const double> p, bool hard,
                            int64_t stride) {
    for (const Entry& e : entries_) {
      if (e.kernel && e.model == m && e.surrogate == s && e.hard == hard &&
          e.stride == stride && Same(e.params, p)) {
        return **e.kernel;
      }
    }
    static const double kNone = 0.0;
    rust::Box<NeuronFused> built = new_neuron(
        rust::Str(m.data(), m.size()), rust::Str(s.data(), s.size()),
        rust::Slice<const double>(p.size() ? p.begin() : &kNone, p.size()),
        hard, stride);
    Entry& slot = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    slot.model.assign(m.data(), m.size());
    slot.surrogate.assign(s.data(), s.size());
    slot.params.assign(p.begin(), p.end());
    slot.hard = hard;
    slot.stride = stride;
    slot.kernel.emplace(std::move(built));
    return **slot.kernel;
  }

  std::array<Entry, kEntries> entries_;
  size_t next_ = 0;
};

}  // namespace spikegrad

#endif  // SPIKEGRAD_CPP_SHIM_NEURON_CACHE_H_
