// XLA typed-FFI handlers of the fused neurons (src/neurons/): one target per
// pass, for every model. They decode buffers and attributes, check counts,
// shapes and dtypes, and run the Rust kernels (src/bridge_neuron.rs) over
// XLA's intra-op thread pool by blocks of neurons: every neuron's time loop
// is independent of the others.
//
// A model has S states and C constants (the kernel reports both). Sequences
// are time-major [T, *shape]; states and constants [*shape]; checkpoints
// [ceil(T / stride), *shape]. All float32 or float64, except that the
// sequences x, dx, ct_spikes and the results spikes, dspikes, ct_x may be
// float16 or bfloat16 with float32 for the rest (the kernels convert as they
// load and store).
//
//   spikegrad_neuron_forward(x, z0[S], c[C]) -> (spikes, saved[S])
//       saved: checkpoints, or S empty placeholders (not kept)
//   spikegrad_neuron_tangent(x, z0[S], c[C], saved[S], dx, dz0[S], dc[C])
//       -> (dspikes, dz[S])          (saved is carried, not read)
//   spikegrad_neuron_bptt(x, z0[S], c[C], saved[S], ct_spikes, ct_z[S])
//       -> (ct_x, ct_z0[S], ct_c[C])  ct_z: [T, *shape] or empty (zero)
//   spikegrad_neuron_bptt_states: the same, with ct_c written as zeros and
//       not computed (no neuron parameter differentiated)
//   attrs: model (string), surrogate (string), params (f64 array),
//          hard_reset (bool), stride (int64, >= 1)

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spikegrad/cpp_shim/neuron_cache.h"
#include "spikegrad/cpp_shim/parallel.h"
#include "spikegrad/src/bridge_neuron.rs.h"
#include "spikegrad/cpp_shim/ffi_util.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace spikegrad {
namespace {

// Smallest neuron block handed to another thread, in neuron-steps: the
// passes cost ~1-3 ns per neuron and step, so 2^15 of them outlast a pool
// task's start-up several times (docs/perf.md, "Fused LIF").
constexpr int64_t kMinNeuronWork = 1 << 15;

// kBpttStates: BPTT without the constants' cotangents (written as zeros),
// for programs that differentiate no neuron parameter.
enum Pass : uint8_t { kForward = 0, kTangent = 1, kBptt = 2, kBpttStates = 3 };

const char* OpName(Pass pass) {
  switch (pass) {
    case kForward:
      return "neuron_forward";
    case kTangent:
      return "neuron_tangent";
    default:
      return "neuron_bptt";
  }
}

// What each operand and result must hold, in elements.
enum Size { kSeq, kState, kCheckpoints, kSeqOrEmpty, kCheckpointsOrEmpty,
            kAny };

struct Layout {
  std::vector<Size> ins, outs;
};

// The operand and result layout of a pass for S states and C constants
// (src/bridge_neuron.rs `arity` has the same counts).
Layout LayoutOf(Pass pass, size_t S, size_t C) {
  Layout l;
  auto add = [](std::vector<Size>& v, size_t count, Size size) {
    v.insert(v.end(), count, size);
  };
  add(l.ins, 1, kSeq);
  add(l.ins, S + C, kState);
  switch (pass) {
    case kForward:
      add(l.outs, 1, kSeqOrEmpty);
      add(l.outs, S, kCheckpointsOrEmpty);
      break;
    case kTangent:
      add(l.ins, S, kAny);
      add(l.ins, 1, kSeq);
      add(l.ins, S + C, kState);
      add(l.outs, 1, kSeq);
      add(l.outs, S, kSeq);
      break;
    case kBptt:
    case kBpttStates:
      add(l.ins, S, kCheckpoints);
      add(l.ins, 1, kSeq);
      add(l.ins, S, kSeqOrEmpty);
      add(l.outs, 1, kSeq);
      add(l.outs, S + C, kState);
      break;
  }
  return l;
}

// The check of one buffer's element count; empty: fine. `present` is set
// false for an empty placeholder.
std::optional<std::string> CheckSize(const ffi::AnyBuffer& b, Size size,
                                     int64_t seq, int64_t n, int64_t rows,
                                     const std::string& what, bool* present) {
  int64_t count = static_cast<int64_t>(b.element_count());
  *present = true;
  int64_t want = 0;
  switch (size) {
    case kAny:
      return std::nullopt;
    case kSeq:
      want = seq;
      break;
    case kState:
      want = n;
      break;
    case kCheckpoints:
      want = rows * n;
      break;
    case kSeqOrEmpty:
    case kCheckpointsOrEmpty:
      want = size == kSeqOrEmpty ? seq : rows * n;
      if (count == 0 && want != 0) {
        *present = false;
        return std::nullopt;
      }
      break;
  }
  if (count != want) {
    return what + " has " + std::to_string(count) + " elements, expected " +
           std::to_string(want);
  }
  return std::nullopt;
}

// Run body(begin, end) over neuron blocks on the pool.
template <typename Body>
ffi::Error Columns(std::string_view op, ffi::ThreadPool& pool, int64_t n,
                   int64_t steps, const Body& body) {
  if (n == 0) return ffi::Error::Success();
  int64_t min_chunk = std::max<int64_t>(
      kChunkAlign, kMinNeuronWork / std::max<int64_t>(1, steps));
  std::string err = ParallelLoop::Run(pool, n, min_chunk, body);
  if (err.empty()) return ffi::Error::Success();
  return ffi::Error::Internal("spikegrad " + std::string(op) + ": " + err);
}

ffi::Error PassImpl(Pass pass, ffi::ThreadPool pool, ffi::RemainingArgs args,
                    ffi::RemainingRets rets, std::string_view model,
                    std::string_view surrogate,
                    ffi::Span<const double> params, bool hard_reset,
                    int64_t stride) {
  const std::string op = OpName(pass);
  const NeuronFused& k =
      NeuronCache::Get(model, surrogate, params, hard_reset, stride);
  size_t S = neuron_states(k), C = neuron_consts(k);
  Layout layout = LayoutOf(pass, S, C);
  if (args.size() != layout.ins.size() || rets.size() != layout.outs.size()) {
    return Invalid(op, "model " + std::string(model) + " takes " +
                           std::to_string(layout.ins.size()) +
                           " operands and " +
                           std::to_string(layout.outs.size()) +
                           " results, got " + std::to_string(args.size()) +
                           " and " + std::to_string(rets.size()));
  }
  std::vector<ffi::AnyBuffer> ins;
  std::vector<ffi::AnyBuffer> outs;
  for (size_t i = 0; i < args.size(); ++i) {
    auto b = args.get<ffi::AnyBuffer>(i);
    if (b.has_error()) return b.error();
    ins.push_back(*b);
  }
  for (size_t i = 0; i < rets.size(); ++i) {
    auto b = rets.get<ffi::AnyBuffer>(i);
    if (b.has_error()) return b.error();
    outs.push_back(**b);
  }
  // The sequences' dtype (x's) and the compute dtype (the first state's).
  ffi::DataType io = ins[0].element_type();
  ffi::DataType dtype = ins[1].element_type();
  bool half = io == ffi::DataType::F16 || io == ffi::DataType::BF16;
  if ((dtype != ffi::DataType::F32 && dtype != ffi::DataType::F64) ||
      !(io == dtype || (half && dtype == ffi::DataType::F32))) {
    return Invalid(op,
                   "operands must be float32 or float64 (x may be float16 or "
                   "bfloat16 with float32 states)");
  }
  // x, and dx (tangent) or ct_spikes (BPTT), and the first result.
  auto is_io = [&](bool in, size_t i) {
    return i == 0 || (in && pass != kForward && i == 1 + 2 * S + C);
  };
  for (bool in : {true, false}) {
    const auto& group = in ? ins : outs;
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].element_type() != (is_io(in, i) ? io : dtype)) {
        return Invalid(op, "operand dtypes differ");
      }
    }
  }
  // Neurons from the first state, steps from x's element count (a partitioned
  // call sees x as a [*shape, T] view whose layout keeps it time-major).
  auto dims = ins[0].dimensions();
  if (dims.size() < 1) return Invalid(op, "x must have a time axis");
  int64_t n = static_cast<int64_t>(ins[1].element_count());
  int64_t seq = static_cast<int64_t>(ins[0].element_count());
  int64_t steps = n > 0 ? seq / n : dims[0];
  if (n > 0 && seq != steps * n) {
    return Invalid(op, "x has " + std::to_string(seq) +
                           " elements, not a multiple of the " +
                           std::to_string(n) + " neurons");
  }
  if (dims[0] != steps && dims[dims.size() - 1] != steps) {
    return Invalid(op, "x's first or last dimension must be its " +
                           std::to_string(steps) + " steps");
  }
  int64_t rows = (steps + stride - 1) / stride;
  std::vector<uintptr_t> in_addr(ins.size()), out_addr(outs.size());
  for (size_t i = 0; i < ins.size(); ++i) {
    bool present = true;
    if (auto msg = CheckSize(ins[i], layout.ins[i], steps * n, n, rows,
                             "operand " + std::to_string(i), &present)) {
      return Invalid(op, *msg);
    }
    in_addr[i] = present ? reinterpret_cast<uintptr_t>(ins[i].untyped_data())
                         : 0;
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    bool present = true;
    if (auto msg = CheckSize(outs[i], layout.outs[i], steps * n, n, rows,
                             "result " + std::to_string(i), &present)) {
      return Invalid(op, *msg);
    }
    out_addr[i] = present
                      ? reinterpret_cast<uintptr_t>(outs[i].untyped_data())
                      : 0;
  }
  if (n == 0) return ffi::Error::Success();
  if (steps == 0) {
    // No step: the initial state and the constants reach no output.
    if (pass == kBptt || pass == kBpttStates) {
      for (size_t i = 1; i < outs.size(); ++i) {
        std::memset(outs[i].untyped_data(), 0, outs[i].size_bytes());
      }
    }
    return ffi::Error::Success();
  }
  // Every buffer holds data now (n, steps > 0); a checkpoint or cotangent
  // placeholder stays 0 and the kernel treats it as absent.
  for (size_t i = 0; i < ins.size(); ++i) {
    if (layout.ins[i] == kAny) in_addr[i] = in_addr[i] ? in_addr[i] : 1;
  }
  // The kernel's precision: 0 f32, 1 f64, 2 f16 sequences, 3 bf16 sequences.
  uint8_t precision = io == ffi::DataType::F64    ? 1
                      : io == ffi::DataType::F16  ? 2
                      : io == ffi::DataType::BF16 ? 3
                                                  : 0;
  rust::Slice<const size_t> in_slice(
      reinterpret_cast<const size_t*>(in_addr.data()), in_addr.size());
  rust::Slice<const size_t> out_slice(
      reinterpret_cast<const size_t*>(out_addr.data()), out_addr.size());
  return Columns(op, pool, n, steps, [&](int64_t b, int64_t e) {
    neuron_pass(k, static_cast<uint8_t>(pass), precision, steps, n, b, e, in_slice,
                out_slice);
  });
}

template <Pass kPass>
ffi::Error Run(ffi::ThreadPool pool, ffi::RemainingArgs args,
               ffi::RemainingRets rets, std::string_view model,
               std::string_view surrogate, ffi::Span<const double> params,
               bool hard_reset, int64_t stride) {
  return Guard(OpName(kPass), [&] {
    return PassImpl(kPass, pool, args, rets, model, surrogate, params,
                    hard_reset, stride);
  });
}

}  // namespace
}  // namespace spikegrad

#define SPIKEGRAD_NEURON_HANDLER(symbol, pass)                           \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(symbol, spikegrad::Run<spikegrad::pass>, \
                                SPIKEGRAD_NEURON_BINDING())

SPIKEGRAD_NEURON_HANDLER(spikegrad_neuron_forward, kForward);
SPIKEGRAD_NEURON_HANDLER(spikegrad_neuron_tangent, kTangent);
SPIKEGRAD_NEURON_HANDLER(spikegrad_neuron_bptt, kBptt);
SPIKEGRAD_NEURON_HANDLER(spikegrad_neuron_bptt_states, kBpttStates);
