// XLA typed-FFI handlers of the recurrent fused neurons (src/neurons/
// recurrent.rs): one target per pass, for every model. Neurons are rows of n
// (the last axis; w is [n, n]); each row's recurrence is independent of the
// others', so the passes run over XLA's intra-op pool by blocks of rows.
//
//   spikegrad_neuron_rec_forward(x, z0[S], c[C], w) -> (spikes, saved[S])
//       spikes, saved: [T, *shape] and checkpoints, or empty (not kept)
//   spikegrad_neuron_rec_bptt(x, z0[S], c[C], w, saved[S], ct_spikes, ct_z[S])
//       -> (ct_x, ct_z0[S], ct_c[C], ct_w)   ct_z: [T, *shape] or empty (zero)
//   spikegrad_neuron_rec_bptt_states: the same, with ct_c written as zeros
//       and not computed
//   attrs: model (string), surrogate (string), params (f64 array),
//          hard_reset (bool), stride (int64, >= 1)
//
// All float32 or all float64. BPTT is deterministic: the rows are cut into
// blocks fixed by the row count alone, each block adds its weight gradient
// to a partial of its own, and the partials are summed in block order.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "spikegrad/cpp_shim/ffi_util.h"
#include "spikegrad/cpp_shim/neuron_cache.h"
#include "spikegrad/cpp_shim/parallel.h"
#include "spikegrad/src/bridge_neuron.rs.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace spikegrad {
namespace {

// Smallest piece of work handed to another thread, in neuron-steps (as in
// neuron_handlers.cc).
constexpr int64_t kMinRecWork = 1 << 15;
// BPTT's row blocks: at most this many weight-gradient partials.
constexpr int64_t kMaxRecBlocks = 8;
// Rows a block (BPTT) or a piece (forward) should have at least: a row of w
// read at a step serves every row of the block.
constexpr int64_t kMinBlockRows = 16;

enum Pass : uint8_t { kForward = 0, kBptt = 2, kBpttStates = 3 };

const char* OpName(Pass pass) {
  return pass == kForward ? "neuron_rec_forward" : "neuron_rec_bptt";
}

// Run body(first, last) over [0, units) on the pool, at least `min_units`
// per piece. ParallelLoop cuts multiples of kChunkAlign elements, so each
// unit is kChunkAlign elements wide.
template <typename Body>
std::string Units(ffi::ThreadPool& pool, int64_t units, int64_t min_units,
                  const Body& body) {
  return ParallelLoop::Run(
      pool, units * kChunkAlign, std::max<int64_t>(1, min_units) * kChunkAlign,
      [&](int64_t b, int64_t e) { body(b / kChunkAlign, e / kChunkAlign); });
}

template <typename T>
void SumPartials(ffi::ThreadPool& pool, T* gw, const std::vector<T>& rest,
                 int64_t count, int64_t parts, std::string* err) {
  *err = ParallelLoop::Run(pool, count, kMinStepChunk,
                           [&](int64_t b, int64_t e) {
                             for (int64_t p = 0; p < parts; ++p) {
                               const T* src = rest.data() + p * count;
                               for (int64_t i = b; i < e; ++i) gw[i] += src[i];
                             }
                           });
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
  size_t want_in = pass == kForward ? 2 + S + C : 3 + 3 * S + C;
  size_t want_out = pass == kForward ? 1 + S : 2 + S + C;
  if (args.size() != want_in || rets.size() != want_out) {
    return Invalid(op, "model " + std::string(model) + " takes " +
                           std::to_string(want_in) + " operands and " +
                           std::to_string(want_out) + " results, got " +
                           std::to_string(args.size()) + " and " +
                           std::to_string(rets.size()));
  }
  std::vector<ffi::AnyBuffer> ins, outs;
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
  ffi::DataType dtype = ins[0].element_type();
  if (dtype != ffi::DataType::F32 && dtype != ffi::DataType::F64) {
    return Invalid(op, "operands must be float32 or float64");
  }
  for (const auto* group : {&ins, &outs}) {
    for (const auto& b : *group) {
      if (b.element_type() != dtype) return Invalid(op, "operand dtypes differ");
    }
  }
  const ffi::AnyBuffer& w = ins[1 + S + C];
  auto wd = w.dimensions();
  if (wd.size() != 2 || wd[0] != wd[1]) {
    return Invalid(op, "w must be a square [n, n] matrix");
  }
  int64_t n = wd[0];
  int64_t neurons = static_cast<int64_t>(ins[1].element_count());
  if (n == 0 ? neurons != 0 : neurons % n != 0) {
    return Invalid(op, std::to_string(neurons) +
                           " neurons are not rows of n = " + std::to_string(n));
  }
  int64_t rows = n ? neurons / n : 0;
  int64_t seq = static_cast<int64_t>(ins[0].element_count());
  auto xd = ins[0].dimensions();
  if (xd.size() < 1) return Invalid(op, "x must have a time axis");
  int64_t steps = neurons ? seq / neurons : xd[0];
  if (seq != steps * neurons) {
    return Invalid(op, "x has " + std::to_string(seq) +
                           " elements, not a multiple of the " +
                           std::to_string(neurons) + " neurons");
  }
  int64_t ckpt = (steps + stride - 1) / stride;
  // The element count each buffer must have; -1: also empty (absent).
  auto check = [&](const ffi::AnyBuffer& b, int64_t want, bool optional,
                   const std::string& what, uintptr_t* addr) -> std::string {
    int64_t count = static_cast<int64_t>(b.element_count());
    if (optional && count == 0 && want != 0) {
      *addr = 0;
      return {};
    }
    if (count != want) {
      return what + " has " + std::to_string(count) + " elements, expected " +
             std::to_string(want);
    }
    *addr = reinterpret_cast<uintptr_t>(b.untyped_data());
    return {};
  };
  std::vector<uintptr_t> in_addr(ins.size()), out_addr(outs.size());
  auto check_all = [&]() -> std::string {
    size_t i = 0;
    std::string e;
    auto in = [&](int64_t want, bool optional) {
      if (e.empty()) {
        e = check(ins[i], want, optional, "operand " + std::to_string(i),
                  &in_addr[i]);
      }
      ++i;
    };
    in(seq, false);
    for (size_t q = 0; q < S + C; ++q) in(neurons, false);
    in(n * n, false);
    if (pass != kForward) {
      for (size_t q = 0; q < S; ++q) in(ckpt * neurons, false);
      in(seq, false);
      for (size_t q = 0; q < S; ++q) in(seq, true);
    }
    size_t o = 0;
    auto out = [&](int64_t want, bool optional) {
      if (e.empty()) {
        e = check(outs[o], want, optional, "result " + std::to_string(o),
                  &out_addr[o]);
      }
      ++o;
    };
    if (pass == kForward) {
      out(seq, true);
      for (size_t q = 0; q < S; ++q) out(ckpt * neurons, true);
    } else {
      out(seq, false);
      for (size_t q = 0; q < S + C; ++q) out(neurons, false);
      out(n * n, false);
    }
    return e;
  };
  if (std::string e = check_all(); !e.empty()) return Invalid(op, e);
  if (pass != kForward) {
    // Zero first: the kernels add the weight gradient; with no step or no
    // neuron nothing else is written either.
    for (size_t i = 1; i < outs.size(); ++i) {
      std::memset(outs[i].untyped_data(), 0, outs[i].size_bytes());
    }
  }
  if (neurons == 0 || steps == 0) return ffi::Error::Success();
  uint8_t precision = dtype == ffi::DataType::F64 ? 1 : 0;
  rust::Slice<const size_t> in_slice(
      reinterpret_cast<const size_t*>(in_addr.data()), in_addr.size());
  int64_t per_row = steps * n;
  if (pass == kForward) {
    rust::Slice<const size_t> out_slice(
        reinterpret_cast<const size_t*>(out_addr.data()), out_addr.size());
    std::string err =
        Units(pool, rows, std::max(kMinBlockRows, kMinRecWork / per_row),
              [&](int64_t b, int64_t e) {
          neuron_rec_pass(k, pass, precision, steps, rows, n, b, e, in_slice,
                          out_slice);
        });
    return Finish(op, err);
  }
  // Fixed row blocks, each with its own weight-gradient partial: block 0
  // writes the result itself, the others a scratch buffer.
  int64_t blocks =
      std::clamp<int64_t>(rows / kMinBlockRows, 1, kMaxRecBlocks);
  int64_t block_rows = (rows + blocks - 1) / blocks;
  blocks = (rows + block_rows - 1) / block_rows;
  int64_t nn = n * n;
  size_t width = dtype == ffi::DataType::F64 ? sizeof(double) : sizeof(float);
  std::vector<double> rest64;
  std::vector<float> rest32;
  char* rest = nullptr;
  if (precision == 1) {
    rest64.assign((blocks - 1) * nn, 0.0);
    rest = reinterpret_cast<char*>(rest64.data());
  } else {
    rest32.assign((blocks - 1) * nn, 0.0f);
    rest = reinterpret_cast<char*>(rest32.data());
  }
  size_t gw_slot = outs.size() - 1;
  std::string err = Units(
      pool, blocks, kMinRecWork / (per_row * block_rows),
      [&](int64_t b, int64_t e) {
        std::vector<uintptr_t> mine(out_addr);
        for (int64_t blk = b; blk < e; ++blk) {
          if (blk > 0) {
            mine[gw_slot] =
                reinterpret_cast<uintptr_t>(rest + (blk - 1) * nn * width);
          }
          rust::Slice<const size_t> out_slice(
              reinterpret_cast<const size_t*>(mine.data()), mine.size());
          int64_t r0 = blk * block_rows, r1 = std::min(rows, r0 + block_rows);
          neuron_rec_pass(k, pass, precision, steps, rows, n, r0, r1,
                          in_slice, out_slice);
        }
      });
  if (!err.empty() || blocks == 1) return Finish(op, err);
  if (precision == 1) {
    SumPartials(pool, static_cast<double*>(outs[gw_slot].untyped_data()),
                rest64, nn, blocks - 1, &err);
  } else {
    SumPartials(pool, static_cast<float*>(outs[gw_slot].untyped_data()),
                rest32, nn, blocks - 1, &err);
  }
  return Finish(op, err);
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

#define SPIKEGRAD_REC_HANDLER(symbol, pass)                              \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(symbol, spikegrad::Run<spikegrad::pass>, \
                                SPIKEGRAD_NEURON_BINDING())

SPIKEGRAD_REC_HANDLER(spikegrad_neuron_rec_forward, kForward);
SPIKEGRAD_REC_HANDLER(spikegrad_neuron_rec_bptt, kBptt);
SPIKEGRAD_REC_HANDLER(spikegrad_neuron_rec_bptt_states, kBpttStates);
