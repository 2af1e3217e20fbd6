// grimoire runtime library: grimoire_rowwise.cuh.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// The pieces every rowwise op's CUDA kernels share (templates/kinds/rowwise/csrc/[op]_cuda.cu.j2
// writes the kernels themselves, from each op's planned passes): row reductions, the launch
// shapes of the streamed and the register path, 16-byte packs, and the per-block column partials.
#pragma once

#include "grimoire_online.h"

#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraphsUtils.cuh>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAMacros.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <cooperative_groups.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <utility>

namespace grimoire::rowwise {

// Row reductions: NaN-propagating max/min as torch's, identities for empty rows.
struct RowSum {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
  template <typename T>
  __device__ __forceinline__ static T identity() {
    return T(0);
  }
};
struct RowMax {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return (a != a || a > b) ? a : b;
  }
  template <typename T>
  __device__ __forceinline__ static T identity() {
    return -std::numeric_limits<T>::infinity();
  }
};
struct RowMin {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return (a != a || a < b) ? a : b;
  }
  template <typename T>
  __device__ __forceinline__ static T identity() {
    return std::numeric_limits<T>::infinity();
  }
};

// The online max and sum of exp across a row's threads (a thread's steps: grimoire_online.h).
template <typename T>
__device__ __forceinline__ void warp_reduce_online(T& m, T& s) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    online_combine(m, s, __shfl_xor_sync(0xffffffffu, m, offset),
                   __shfl_xor_sync(0xffffffffu, s, offset));
  }
}
// The block-wide end: the warps' (m, s) pairs, which lane 0 of each warp put in ms[warp], ss[warp].
template <typename T>
__device__ __forceinline__ void block_total_online(const T* ms, const T* ss, T& m, T& s) {
  m = ms[0];
  s = ss[0];
  for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w) {
    online_combine(m, s, ms[w], ss[w]);
  }
}
// A warp's reduction of one value a thread; every lane gets it.
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

// The block-wide end of a reduction: the warps' values, which lane 0 of each warp put in
// warp_values[warp] before a __syncthreads, combined in a fixed order.
template <typename T, typename Op>
__device__ __forceinline__ T block_total(const T* warp_values, Op op) {
  T r = warp_values[0];
  for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w) {
    r = op(r, warp_values[w]);
  }
  return r;
}

// The reduction of one value per thread of a row's group; every thread of the group gets it.
// A block-wide group syncs first, so a previous call's reads of `scratch` are done. (The kernels
// reduce all the statistics of one pass with one such exchange: see reduce_stats in the op files.)
template <typename T, typename Op>
__device__ __forceinline__ T group_reduce(T v, Op op, T* scratch) {
  v = warp_reduce(v, op);
  if (blockDim.x == 32) {
    return v;
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) {
    scratch[threadIdx.x / 32] = v;
  }
  __syncthreads();
  return block_total(scratch, op);
}

// Whether pred holds for every thread of the row's group: one warp vote, or one barrier that votes
// (a group of more than a warp is a whole block, one row), without group_reduce's shared memory.
__device__ __forceinline__ bool group_all(bool pred) {
  if (blockDim.x == 32) {
    return __all_sync(0xffffffffu, pred);
  }
  return __syncthreads_and(pred) != 0;
}

// ---- 16-byte packs, and the register path's shape -------------------------------------
// A thread's share of a row: K vectors of 16 bytes (VEC elements each), vector tx + k*G. K is 4
// for 4- and 8-byte types and 2 for half types, so a thread holds 16 elements at most either way:
// with 32 half elements a thread the backwards needed 122-168 registers, too few rows in flight.
// Rows longer than 1024 threads hold that way take the wide shape, twice the vectors a thread (32
// elements of 4-byte and half types, none for 8-byte ones), one block of up to 1024 threads a row,
// for kernels that hold one row tensor (a forward; a backward holds two and streams): rows of up to
// 32768 elements are read from memory once. Kernels of the wide shape are bounded to blocks of 1024
// threads, and for half types to two such blocks an SM where that keeps the row in registers
// (wide_min_blocks, reg_settle): a half row's 32 elements take 16 registers of the 32 that leaves,
// and with one block an SM each row's reductions left the SM idle (softmax's bf16 forward at
// 4096x32000 read at 70% of the copy rate on an H100; a probe of hand-written kernels, at two
// blocks, at 93%: benchmarks/results/llm-scale/probe-h100.txt). Float rows take 32 registers of 64,
// one block an SM. Should a kernel of the wide shape not launch (resident_blocks: 0) or spill
// (reg_blocks), its rows stream.
constexpr int packs_for(int64_t elem_size) { return elem_size >= 4 ? 4 : 2; }
template <typename scalar_t>
constexpr int packs() {
  return packs_for(sizeof(scalar_t));
}
constexpr bool has_wide_for(int64_t elem_size) { return elem_size <= 4; }
template <typename scalar_t>
constexpr int wide_min_blocks() {
  return sizeof(scalar_t) == 2 ? 2 : 1;
}

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

template <int N, typename T>
__device__ __forceinline__ Pack<T, N> load_pack(const T* p, int64_t vi) {
  return reinterpret_cast<const Pack<T, N>*>(p)[vi];
}

template <int N, typename T>
__device__ __forceinline__ void store_pack(T* p, int64_t vi, const Pack<T, N>& v) {
  reinterpret_cast<Pack<T, N>*>(p)[vi] = v;
}

// Element e of a pack, in the type the expression computes in. Half types are read from the pack's
// 32-bit words: converting each 16-bit element by itself (c10's operator float) has ptxas hold it
// in a register of its own, twice the registers of the packed row, and softmax's bf16 wide kernel
// then needed 64 registers a thread where 32 let two of its blocks share an SM.
template <typename T, int N>
__device__ __forceinline__ at::opmath_type<T> unpack(const Pack<T, N>& p, int e) {
  if constexpr (std::is_same_v<T, c10::BFloat16>) {
    const uint32_t w = reinterpret_cast<const uint32_t*>(p.v)[e / 2];
    return __uint_as_float(e % 2 == 0 ? w << 16 : w & 0xffff0000u);
  } else if constexpr (std::is_same_v<T, c10::Half>) {
    const __half2 w = reinterpret_cast<const __half2*>(p.v)[e / 2];
    return e % 2 == 0 ? __low2float(w) : __high2float(w);
  } else {
    return static_cast<at::opmath_type<T>>(p.v[e]);
  }
}

// Which register launch a row of n elements gets: threads per row (0: the streamed path), rows per
// block (8 warps of a row each, or one block per row), and whether a thread holds the wide shape.
// one_row: whether the kernel holds one row tensor (the wide shape is for those only).
struct RegLaunch {
  int64_t threads = 0, rows_per_block = 1;
  bool wide = false;
  int min_blocks = 1;  // the wide kernel's bound, blocks an SM (reg_settle)
  dim3 block() const {
    return dim3(static_cast<unsigned>(threads), static_cast<unsigned>(rows_per_block));
  }
};
inline RegLaunch reg_launch(int64_t n, int64_t elem_size, bool one_row) {
  const int64_t vec = 16 / elem_size;
  const int64_t K = packs_for(elem_size);
  if (n == 0 || n % vec != 0) {
    return {};
  }
  const int64_t vectors = n / vec;
  if (vectors <= 32 * K) {
    return {32, 8};
  }
  const auto threads_for = [&](int64_t k) { return ((vectors + k - 1) / k + 31) / 32 * 32; };
  if (threads_for(K) <= 1024) {
    return {threads_for(K), 1};
  }
  if (one_row && has_wide_for(elem_size) && threads_for(2 * K) <= 1024) {
    return {threads_for(2 * K), 1, true};
  }
  return {};
}

// Calls f(rpb, k, mb) with the launch's rows per block, vectors a thread and (for the wide shape)
// blocks an SM its kernel is bounded to, as compile-time constants (std::integral_constant): the
// template arguments of the register kernel it launches. kOneRow: as reg_launch's one_row (without
// it no wide kernel is instantiated).
template <typename scalar_t, bool kOneRow, typename F>
void reg_dispatch(const RegLaunch& l, F&& f) {
  constexpr int K = packs<scalar_t>();
  using One = std::integral_constant<int, 1>;
  if (l.rows_per_block == 8) {
    f(std::integral_constant<int, 8>{}, std::integral_constant<int, K>{}, One{});
  } else if (!l.wide) {
    f(One{}, std::integral_constant<int, K>{}, One{});
  } else if constexpr (kOneRow && has_wide_for(sizeof(scalar_t))) {
    constexpr int kMost = wide_min_blocks<scalar_t>();
    if (kMost > 1 && l.min_blocks == kMost) {
      f(One{}, std::integral_constant<int, 2 * K>{}, std::integral_constant<int, kMost>{});
    } else {
      f(One{}, std::integral_constant<int, 2 * K>{}, One{});
    }
  } else {
    TORCH_INTERNAL_ASSERT(false, "no wide register shape for this kernel and ", sizeof(scalar_t),
                          "-byte elements");
  }
}

// Whether p can be read as packs of as many elements as 16 bytes of scalar_t hold.
template <typename scalar_t, typename T>
inline bool pack_aligned(const T* p) {
  return reinterpret_cast<uintptr_t>(p) % (sizeof(T) * (16 / sizeof(scalar_t))) == 0;
}

// How many blocks of `threads` threads of Kernel one SM of the current device holds at once (its
// registers and shared memory decide; 0: it cannot launch that many threads), cached per device and
// block size: it is a driver call, and GPUs of different models answer differently.
template <auto Kernel>
int resident_blocks(int64_t threads) {
  // by device, then threads / 32: 1 + the answer once asked
  static std::atomic<int> known[C10_COMPILE_TIME_MAX_GPUS][33] = {};
  const int device = c10::cuda::current_device();
  std::atomic<int>& slot = known[device][std::min<int64_t>(threads / 32, 32)];
  int v = slot.load(std::memory_order_relaxed);
  if (v == 0) {
    cudaFuncAttributes attrs;
    C10_CUDA_CHECK(cudaFuncGetAttributes(&attrs, Kernel));
    int blocks = 0;
    if (threads <= attrs.maxThreadsPerBlock) {
      C10_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, Kernel,
                                                                   static_cast<int>(threads), 0));
    }
    v = blocks + 1;
    slot.store(v, std::memory_order_relaxed);
  }
  return v - 1;
}

// Whether Kernel keeps more than a few registers in local memory on the current device (registers
// spilled past its bound, for a wide kernel), cached per device. ptxas spills a value or two that
// it could reload from the constant bank (blockDim.x, a vector index: 20 bytes in softmax's half
// wide kernels), read once a row; what a kernel keeps beyond kSpillBytes is row data read in every
// pass.
constexpr int kSpillBytes = 32;
template <auto Kernel>
bool spills() {
  static std::atomic<int> known[C10_COMPILE_TIME_MAX_GPUS] = {};  // 1 + the answer once asked
  std::atomic<int>& slot = known[c10::cuda::current_device()];
  int v = slot.load(std::memory_order_relaxed);
  if (v == 0) {
    cudaFuncAttributes attrs;
    C10_CUDA_CHECK(cudaFuncGetAttributes(&attrs, Kernel));
    v = attrs.localSizeBytes > kSpillBytes ? 2 : 1;
    slot.store(v, std::memory_order_relaxed);
  }
  return v == 2;
}

// How many blocks of the register kernel launched as l an SM holds at once (0: its rows stream):
// resident_blocks, except that a wide kernel which spills registers streams instead. Bounded to 64
// registers a thread, cross_entropy's wide kernels spilled, and read their rows at half the rate
// and less of its streamed kernels on an H100 (benchmarks/results/llm-scale/README.md).
template <auto Kernel>
int reg_blocks(const RegLaunch& l) {
  if (l.wide && spills<Kernel>()) {
    return 0;
  }
  return resident_blocks<Kernel>(l.threads * l.rows_per_block);
}

// Settles the register launch l: blocks(rpb, k, mb) is reg_blocks of the kernel reg_dispatch would
// launch. A half-type wide kernel is bounded to two blocks an SM where it keeps its row in
// registers that way, else to one (cross_entropy's fused kernel spilled at two and not at one).
// Returns the blocks an SM of the kernel l launches now (0: its rows stream).
template <typename scalar_t, bool kOneRow, typename F>
int reg_settle(RegLaunch& l, F&& blocks) {
  int b = 0;
  const auto ask = [&] {
    reg_dispatch<scalar_t, kOneRow>(l, [&](auto rpb, auto k, auto mb) { b = blocks(rpb, k, mb); });
  };
  if constexpr (kOneRow && wide_min_blocks<scalar_t>() > 1) {
    if (l.wide) {
      l.min_blocks = wide_min_blocks<scalar_t>();
      ask();
      if (b > 0) {
        return b;
      }
      l.min_blocks = 1;
    }
  }
  ask();
  return b;
}

// ---- rows split over a cluster of blocks (Hopper and newer) -----------------------------
// A row longer than one block's registers hold (over 16384 elements of any type but double) is
// split over a cluster of C blocks (2, 4 or 8, on different SMs), each holding a C-th of it in
// registers as the register path does. A pass's statistic is reduced in each block, then the C
// block totals are exchanged through distributed shared memory and combined in rank order, so every
// block of the cluster gets the same bits. The row is read from memory once, where the streamed
// path reads it once a pass (from the L2 after the first). Off by default: see kClustersByDefault.
constexpr int kMaxCluster = 8;  // the portable cluster size
// Statistics a pass exchanges at most (the kernels' scratch has as many).
constexpr int kClusterSlots = 32;

struct ClusterLaunch {
  int64_t threads = 0;  // threads a block; 0: no cluster launch for such rows
  int cluster = 1;      // blocks a row
  dim3 block() const { return dim3(static_cast<unsigned>(threads), 1); }
};

// The cluster launch of rows of n elements of elem_size bytes: the smallest cluster whose blocks
// each hold their share of the row at K packs a thread (packs_for) in at most max_threads threads.
// None before compute capability 9.0, for rows not a whole number of packs, or for rows that the
// largest cluster cannot hold (they stream).
// GRIMOIRE_ROW_CLUSTERS=1 in the environment turns the path on, =0 off (such rows then stream). Off
// by default: on an H100 its results match torch (the rowwise CUDA tests pass with it on), but it
// is slower than the streamed path, one row a cluster at a time with a cluster barrier a pass
// (cross_entropy's forward at 8192x128256 bf16: 6.0 ms, Liger-Kernel 1.16 ms; softmax's at
// 1024x128256: 610 us, eager 367 us). Clusters that keep several rows in flight are the next step.
constexpr bool kClustersByDefault = false;
inline bool clusters_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("GRIMOIRE_ROW_CLUSTERS");
    return v == nullptr || v[0] == '\0' ? kClustersByDefault : v[0] != '0';
  }();
  return enabled;
}
inline ClusterLaunch cluster_launch(int64_t n, int64_t elem_size, int64_t max_threads = 1024) {
  const int64_t vec = 16 / elem_size;
  const int64_t K = packs_for(elem_size);
  if (n == 0 || n % vec != 0 || !clusters_enabled() ||
      at::cuda::getCurrentDeviceProperties()->major < 9) {
    return {};
  }
  const int64_t vectors = n / vec;
  for (int c = 2; c <= kMaxCluster; c *= 2) {
    const int64_t chunk = (vectors + c - 1) / c;
    const int64_t threads = ((chunk + K - 1) / K + 31) / 32 * 32;
    if (threads <= max_threads) {
      return {threads, c};
    }
  }
  return {};
}

// Calls f(c) with the launch's cluster size as a compile-time constant (std::integral_constant).
template <typename F>
void cluster_dispatch(const ClusterLaunch& l, F&& f) {
  switch (l.cluster) {
    case 2:
      f(std::integral_constant<int, 2>{});
      break;
    case 4:
      f(std::integral_constant<int, 4>{});
      break;
    case 8:
      f(std::integral_constant<int, 8>{});
      break;
    default:
      TORCH_INTERNAL_ASSERT(false, "no cluster kernel of ", l.cluster, " blocks");
  }
}

// A launch of `clusters` clusters of C blocks of `threads` each (config points at its own attr).
template <int C>
struct ClusterConfig {
  cudaLaunchConfig_t config = {};
  cudaLaunchAttribute attr;
  ClusterConfig(int64_t clusters, int64_t threads, cudaStream_t stream) {
    config.gridDim = dim3(static_cast<unsigned>(clusters * C));
    config.blockDim = dim3(static_cast<unsigned>(threads));
    config.stream = stream;
    attr.id = cudaLaunchAttributeClusterDimension;
    attr.val.clusterDim.x = C;
    attr.val.clusterDim.y = 1;
    attr.val.clusterDim.z = 1;
    config.attrs = &attr;
    config.numAttrs = 1;
  }
  ClusterConfig(const ClusterConfig&) = delete;  // config.attrs points into this object
  ClusterConfig& operator=(const ClusterConfig&) = delete;
};

// How many clusters of Kernel (C blocks of `threads`) the current device runs at once (0: none),
// cached per device and block size as resident_blocks is. A kernel that spills gets 0: its rows
// stream.
template <auto Kernel, int C>
int resident_clusters(int64_t threads) {
  static std::atomic<int> known[C10_COMPILE_TIME_MAX_GPUS][33] = {};
  const int device = c10::cuda::current_device();
  std::atomic<int>& slot = known[device][std::min<int64_t>(threads / 32, 32)];
  int v = slot.load(std::memory_order_relaxed);
  if (v == 0) {
    int clusters = 0;
    cudaFuncAttributes attrs;
    C10_CUDA_CHECK(cudaFuncGetAttributes(&attrs, Kernel));
    if (threads <= attrs.maxThreadsPerBlock && attrs.localSizeBytes <= kSpillBytes) {
      ClusterConfig<C> c(1, threads, nullptr);
      C10_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&clusters, Kernel, &c.config));
    }
    v = clusters + 1;
    slot.store(v, std::memory_order_relaxed);
  }
  return v - 1;
}

// Launches Kernel over `rows` rows as clusters of C blocks shaped by l: a cluster a row (up to
// 512 blocks an SM's worth of them, and at most max_blocks blocks), each cluster's blocks striding
// the rows together. Returns the blocks it launched.
template <int C, typename... Params, typename... Args>
int64_t launch_clusters(void (*kernel)(Params...), int64_t rows, int64_t max_blocks,
                        const ClusterLaunch& l, cudaStream_t stream, Args... args) {
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t clusters = std::max<int64_t>(1, std::min({rows, sms * 512 / C, max_blocks / C}));
  ClusterConfig<C> c(clusters, l.threads, stream);
  C10_CUDA_CHECK(cudaLaunchKernelEx(&c.config, kernel, args...));
  return clusters * C;
}

// launch_clusters where a cluster of Kernel fits the device (resident_clusters); returns the
// blocks it launched, 0 where none fits (the caller takes another path).
template <auto Kernel, int C, typename... Args>
int64_t launch_resident_clusters(int64_t rows, int64_t max_blocks, const ClusterLaunch& l,
                                 cudaStream_t stream, Args... args) {
  if (resident_clusters<Kernel, C>(l.threads) == 0) {
    return 0;
  }
  return launch_clusters<C>(Kernel, rows, max_blocks, l, stream, args...);
}

// This block's rank in its cluster of C (0 for C = 1), and the cluster-wide barrier (none for C =
// 1). Their C > 1 forms are only launched on devices of compute capability 9.0 and newer.
template <int C>
__device__ __forceinline__ int cluster_rank() {
  if constexpr (C == 1) {
    return 0;
  } else {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    return static_cast<int>(cooperative_groups::this_cluster().block_rank());
#else
    __trap();
    return 0;
#endif
  }
}
template <int C>
__device__ __forceinline__ void cluster_sync() {
  if constexpr (C > 1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    cooperative_groups::this_cluster().sync();
#else
    __trap();
#endif
  }
}
// slots[i] of the block of rank q in this cluster.
template <int C, typename T>
__device__ __forceinline__ T cluster_peer(T* slots, int i, int q) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  return cooperative_groups::this_cluster().map_shared_rank(slots, q)[i];
#else
  __trap();
  return slots[i];
#endif
}

// The cluster's total of slot i, which each block's thread 0 wrote before a cluster_sync: lanes
// 0..C-1 of each warp read one block's value each, and the warp combines them in rank order.
template <int C, typename T, typename Op>
__device__ __forceinline__ T cluster_total(T* slots, int i, Op op) {
  const int lane = threadIdx.x % 32;
  const T mine = lane < C ? cluster_peer<C>(slots, i, lane) : T(0);
  T r = __shfl_sync(0xffffffffu, mine, 0);
#pragma unroll
  for (int q = 1; q < C; ++q) {
    r = op(r, __shfl_sync(0xffffffffu, mine, q));
  }
  return r;
}
// ---- the streamed path ----------------------------------------------------------------
// Rows the register path cannot hold (longer than it holds, or not a whole number of 16-byte
// packs) stream from global memory once a pass. A thread reads stream_unroll() packs of 16 bytes
// before it uses any, so enough bytes are in flight to keep HBM busy; the elements before a row's
// first 16-byte boundary and after its last one go one by one. The rows in flight are held to half
// the L2, so a pass after the first re-reads its row from the L2 and not from memory (except where
// column gradients go to global memory: see stream_launch).
// Packs a thread loads of each of the NT tensors a pass reads before it uses any: 32 elements of
// 4-byte types, 32 of half types over the tensors (more half elements a thread spilled registers: a
// third of the bandwidth; so did a backward of two tensors at 32 elements each, bf16 and float).
template <typename scalar_t, int NT = 1>
constexpr int stream_unroll() {
  constexpr int base = sizeof(scalar_t) <= 2 ? 4 : 8;
  return std::max(1, base / std::max(NT, 1));
}

// Rows of the accumulator that column gradients outside shared memory are added into: blocks share
// them (block b adds into row b % kColumnSlots), so that they stay in the L2 beside the rows.
constexpr int64_t kColumnSlots = 8;
constexpr int kStreamThreads = 512;  // a block per row, for rows over 1024 elements

// The most dynamic shared memory a block of Kernel may take on the current device: the opt-in
// limit less its static shared memory, granted to Kernel once per device (past 48 KB a kernel must
// ask for it).
template <auto Kernel>
int64_t column_smem_limit() {
  static std::atomic<int64_t> known[C10_COMPILE_TIME_MAX_GPUS] = {};  // 1 + the answer once asked
  const int device = c10::cuda::current_device();
  int64_t v = known[device].load(std::memory_order_relaxed);
  if (v == 0) {
    cudaFuncAttributes attrs;
    C10_CUDA_CHECK(cudaFuncGetAttributes(&attrs, Kernel));
    const cudaDeviceProp* prop = at::cuda::getCurrentDeviceProperties();
    const int64_t limit = std::max<int64_t>(0, static_cast<int64_t>(prop->sharedMemPerBlockOptin) -
                                                   static_cast<int64_t>(attrs.sharedSizeBytes));
    C10_CUDA_CHECK(cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(limit)));
    v = limit + 1;
    known[device].store(v, std::memory_order_relaxed);
  }
  return v - 1;
}

struct StreamLaunch {
  dim3 grid, block;
  size_t smem = 0;           // bytes of dynamic shared memory: the column gradients, if they fit
  bool column_smem = false;  // whether they do
  int64_t column_slots = 0;  // rows of the accumulator written: one a block in shared memory, else
                             // kColumnSlots at most
};

// The streamed launch of Kernel for rows of n elements: a warp per row up to 1024 elements (8 rows
// a block), else kStreamThreads threads per row. `row_bytes`: the bytes of one row over the tensors
// a pass re-reads; `column_bytes`: the column-gradient partial sums a block keeps (0: none). They
// go in shared memory when they fit a block's share of it; otherwise into one of kColumnSlots rows
// of the accumulator in global memory, with atomics.
template <auto Kernel>
StreamLaunch stream_launch(int64_t rows, int64_t n, int64_t row_bytes, int64_t column_bytes) {
  const cudaDeviceProp* prop = at::cuda::getCurrentDeviceProperties();
  const int64_t sms = prop->multiProcessorCount;
  StreamLaunch l;
  l.block = n <= 1024 ? dim3(32, 8) : dim3(kStreamThreads, 1);
  const int threads = static_cast<int>(l.block.x * l.block.y);
  // Column gradients go in shared memory whenever they fit a block's (opt-in) share of it, even
  // where a block then runs alone on its SM (32768 float columns): atomic adds into global memory
  // held rms_norm's backward at 32768 columns to 10-19% of the copy rate on an H100.
  l.column_smem = column_bytes > 0 && column_bytes <= column_smem_limit<Kernel>();
  l.smem = l.column_smem ? static_cast<size_t>(column_bytes) : 0;
  int resident = 0;
  if (l.smem == 0) {
    resident = resident_blocks<Kernel>(threads);
  } else {
    C10_CUDA_CHECK(
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, Kernel, threads, l.smem));
  }
  int64_t per_sm = std::max(resident, 1);
  // Column gradients added with atomics bound a backward by their count, not by the re-reads: such
  // a kernel gets every block an SM holds, for the most atomics in flight.
  if (n > 1024 && (column_bytes == 0 || l.column_smem)) {
    const int64_t fit =
        static_cast<int64_t>(prop->l2CacheSize) / 2 / std::max<int64_t>(1, sms * row_bytes);
    per_sm = std::clamp<int64_t>(fit, 1, per_sm);
  }
  const int64_t blocks_needed = (rows + l.block.y - 1) / l.block.y;
  l.grid = dim3(static_cast<unsigned>(std::max<int64_t>(1, std::min(blocks_needed, sms * per_sm))));
  l.column_slots = l.column_smem ? int64_t(l.grid.x) : std::min<int64_t>(l.grid.x, kColumnSlots);
  return l;
}

// The first element of row r at or after a 16-byte boundary (n: none, when the row is not read as
// packs): every tensor of the row starts 16-byte aligned, so one head serves them all.
template <int VEC>
__device__ __forceinline__ int64_t stream_head(bool packed, int64_t r, int64_t n) {
  return packed ? std::min<int64_t>(n, (VEC - (r * n) % VEC) % VEC) : n;
}

// ---- the register path's grid and column partials ------------------------------------
// Blocks of a register-path launch. A kernel whose blocks each keep column gradients gets exactly
// the blocks the GPU holds at once (column_blocks_per_sm an SM, from resident_blocks): every block
// writes one partial row of n values, summed afterwards, so a grid of several waves would write and
// read several times the partial rows for nothing (at 4096 columns in bf16, by arithmetic, a 4x
// grid moves about 70 MB more). Other kernels get up to 512 blocks an SM.
inline int64_t reg_grid(int64_t rows, const RegLaunch& l, int64_t column_blocks_per_sm) {
  const int64_t blocks_needed = (rows + l.rows_per_block - 1) / l.rows_per_block;
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t per_sm = column_blocks_per_sm > 0 ? column_blocks_per_sm : 512;
  return std::max<int64_t>(1, std::min(blocks_needed, sms * per_sm));
}

// The end of a register-path kernel that keeps column gradients: the RPB warps of a block (one row
// each) add their columns into warp 0's, through shared memory one warp at a time, and warp 0
// writes the block's row `acc_row` of the accumulator. Every thread of the block must call it.
// The block holds the row's vectors [v0, v_end) (a cluster's block: its share of the row).
template <int RPB, int VEC, int K, typename T>
__device__ __forceinline__ void write_column_partial(T (&cacc)[K][VEC], T* acc_row, int v0,
                                                     int v_end) {
  if constexpr (RPB > 1) {
    __shared__ T partial[32 * K * VEC];
    for (int w = 1; w < RPB; ++w) {
      __syncthreads();  // warp 0 is done reading the previous warp's (or the previous call's)
                        // values
      if (threadIdx.y == w) {
#pragma unroll
        for (int k = 0; k < K; ++k) {
#pragma unroll
          for (int e = 0; e < VEC; ++e) {
            partial[(k * 32 + threadIdx.x) * VEC + e] = cacc[k][e];
          }
        }
      }
      __syncthreads();
      if (threadIdx.y == 0) {
#pragma unroll
        for (int k = 0; k < K; ++k) {
#pragma unroll
          for (int e = 0; e < VEC; ++e) {
            cacc[k][e] += partial[(k * 32 + threadIdx.x) * VEC + e];
          }
        }
      }
    }
  }
  if (threadIdx.y == 0) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t vi = v0 + threadIdx.x + int64_t(k) * blockDim.x;
      if (vi < v_end) {
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
          acc_row[vi * VEC + e] = cacc[k][e];
        }
      }
    }
  }
}

// Where the streamed path keeps column j's partial sum in a row of n (n a whole number of VEC-wide
// packs): transposed by VEC, so that the lanes of a warp, each holding VEC adjacent columns, add
// their e-th element into adjacent words. Unswizzled, those adds hit VEC-way bank conflicts in
// shared memory and 32 sectors in global memory; atomics into shared memory ran at 10-17% of the
// copy rate.
template <int VEC>
__device__ __forceinline__ int64_t column_slot(int64_t j, int64_t n) {
  const auto u = static_cast<uint64_t>(j);
  return static_cast<int64_t>((u % VEC) * static_cast<uint64_t>(n / VEC) + u / VEC);
}

// backward_columns_kernel (a rowwise op's column gradients over rows too wide for shared memory):
// blocks of kColumnThreads threads, 32 packs of columns by 8 rows, each thread loading
// kColumnRowsAtOnce rows before it uses any.
constexpr int kColumnThreads = 256;
constexpr int kColumnRowsAtOnce = 4;

// The end of backward_columns_kernel for one column target: the threads of a block holding the
// same VEC columns (one per threadIdx.y) add their partials `cacc` through `partial`
// (kColumnThreads * VEC values, laid out so that a warp's accesses take no bank conflicts), and
// those of threadIdx.y 0 write the sums to out (nullptr: past the row's last column). Every thread
// of the block calls it.
template <int VEC, typename T>
__device__ __forceinline__ void column_partial_sum(const T (&cacc)[VEC], T* partial, T* out) {
  __syncthreads();  // an earlier call's reads of partial are done
#pragma unroll
  for (int e = 0; e < VEC; ++e) {
    partial[(e * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x] = cacc[e];
  }
  __syncthreads();
  if (threadIdx.y == 0 && out != nullptr) {
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      T s = 0;
      for (unsigned y = 0; y < blockDim.y; ++y) {
        s += partial[(e * blockDim.y + y) * blockDim.x + threadIdx.x];
      }
      out[e] = s;
    }
  }
}

// The column gradients from the partial rows, for up to kMaxColumnTargets targets (the op's column
// inputs) in one launch: out[t][j] = sum over the `slots` rows of acc[t][., j], in a fixed order
// (the same value every run), written in x's dtype. One launch where a tensor sum and a dtype
// conversion per target took two or three each. A block sums 32 columns of one target (blockIdx.y)
// with 32 slot groups; each warp reads 32 adjacent columns of a row. swizzle: the VEC of
// column_slot the rows were written with, 0 for column order.
constexpr int kMaxColumnTargets = 4;
template <typename scalar_t, typename T>
struct ColumnTargets {
  const T* acc[kMaxColumnTargets];
  scalar_t* out[kMaxColumnTargets];
};

template <typename scalar_t, typename T>
__global__ void sum_partials_kernel(const __grid_constant__ ColumnTargets<scalar_t, T> targets,
                                    int64_t slots, int64_t n, int swizzle) {
  __shared__ T part[32][33];
  const T* __restrict__ acc = targets.acc[blockIdx.y];
  const int64_t j = blockIdx.x * int64_t(32) + threadIdx.x;
  const int64_t at = swizzle == 0 ? j : (j % swizzle) * (n / swizzle) + j / swizzle;
  T s = 0;
  if (j < n) {
    for (int64_t r = threadIdx.y; r < slots; r += 32) {
      s += acc[r * n + at];
    }
  }
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && j < n) {
    T t = 0;
#pragma unroll 8
    for (int i = 0; i < 32; ++i) {
      t += part[i][threadIdx.x];
    }
    targets.out[blockIdx.y][j] = static_cast<scalar_t>(t);
  }
}

template <typename scalar_t, typename T>
void sum_partials(std::initializer_list<std::pair<const T*, scalar_t*>> acc_out, int64_t slots,
                  int64_t n, int swizzle = 0) {
  TORCH_INTERNAL_ASSERT(acc_out.size() <= kMaxColumnTargets);
  if (n == 0 || acc_out.size() == 0) {
    return;
  }
  ColumnTargets<scalar_t, T> targets{};
  int t = 0;
  for (const auto& [acc, out] : acc_out) {
    targets.acc[t] = acc;
    targets.out[t] = out;
    ++t;
  }
  const dim3 grid(static_cast<unsigned>((n + 31) / 32), static_cast<unsigned>(t));
  sum_partials_kernel<scalar_t, T>
      <<<grid, dim3(32, 32), 0, at::cuda::getCurrentCUDAStream()>>>(targets, slots, n, swizzle);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// ---- losses summed in the kernel -----------------------------------------------------
// An element-output loss under reduction 'sum' / 'mean' (mse_loss) sums its terms where it computes
// them: each block of the forward writes one partial, and one more block adds the partials. That
// replaces writing every term out in opmath and summing the tensor (a write and a read of 4 bytes
// an element, for 4 or 8 bytes of input an element).

// The sum of one value a thread over the whole block (all its warps, in a fixed order); thread 0
// gets it. Every thread of the block must call it; `scratch` holds 32 values.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  v = warp_reduce(v, RowSum());
  const int tid = threadIdx.y * blockDim.x + threadIdx.x;
  __syncthreads();  // earlier reads of scratch are done
  if (tid % 32 == 0) {
    scratch[tid / 32] = v;
  }
  __syncthreads();
  T total = T(0);
  if (tid == 0) {
    for (int w = 0; w < static_cast<int>(blockDim.x * blockDim.y / 32); ++w) {
      total += scratch[w];
    }
  }
  return total;
}

// How many partials a summing forward writes at most: its grid is capped at this many blocks
// (8 blocks of 256 threads fill an SM), so the buffer is sized before the launch.
inline int64_t loss_partial_blocks() {
  return int64_t(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 8;
}

// out = scale * the sum of `count` partials, in double and a fixed order (the same value every
// run).
template <typename scalar_t, typename T>
__global__ void sum_loss_partials_kernel(const T* __restrict__ partials, int64_t count,
                                         double scale, scalar_t* __restrict__ out) {
  __shared__ double scratch[32];
  double s = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    s += static_cast<double>(partials[i]);
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) {
    *out = static_cast<scalar_t>(s * scale);
  }
}

template <typename scalar_t, typename T>
void sum_loss_partials(const T* partials, int64_t count, double scale, scalar_t* out) {
  sum_loss_partials_kernel<scalar_t, T>
      <<<1, 256, 0, at::cuda::getCurrentCUDAStream()>>>(partials, count, scale, out);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// ---- index checks ---------------------------------------------------------------------
template <typename Index>
__global__ void index_check_kernel(int64_t count, const Index* __restrict__ idx, int64_t n,
                                   bool has_ignore, int64_t ignore, int* __restrict__ bad) {
  bool any = false;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t v = idx[i];
    any |= (v < 0 || v >= n) && !(has_ignore && v == ignore);
  }
  if (__syncthreads_or(any) && threadIdx.x == 0) {
    *bad = 1;
  }
}

// Whether an index value names no column (outside [0, n), not the ignored value): one kernel and
// one 4-byte read back, which waits for the stream. Under CUDA-graph capture nothing may wait, so
// a captured call is not checked; no kernel indexes memory with index values, so a bad one there
// gives a wrong value, never a fault.
inline bool index_out_of_range(const at::Tensor& idx, int64_t n, bool has_ignore, int64_t ignore) {
  if (at::cuda::currentStreamCaptureStatus() != at::cuda::CaptureStatus::None) {
    return false;
  }
  const at::Tensor c = idx.contiguous();
  const at::Tensor flag = at::empty({1}, c.options().dtype(at::kInt));
  const auto stream = at::cuda::getCurrentCUDAStream();
  int* bad = flag.mutable_data_ptr<int>();
  C10_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(int), stream));
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int blocks =
      static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((c.numel() + 255) / 256, sms * 4)));
  index_check_kernel<int64_t><<<blocks, 256, 0, stream>>>(c.numel(), c.const_data_ptr<int64_t>(), n,
                                                          has_ignore, ignore, bad);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  // Read back into pinned memory (the caching host allocator's): a copy to pageable memory is
  // staged by the driver, a slower round trip.
  const at::Tensor host = at::empty({1}, at::TensorOptions().dtype(at::kInt).pinned_memory(true));
  C10_CUDA_CHECK(cudaMemcpyAsync(host.mutable_data_ptr<int>(), bad, sizeof(int),
                                 cudaMemcpyDeviceToHost, stream));
  C10_CUDA_CHECK(cudaStreamSynchronize(stream));
  return *host.const_data_ptr<int>() != 0;
}

}  // namespace grimoire::rowwise
