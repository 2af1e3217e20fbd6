// grimoire runtime library: grimoire_mma.cuh.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// The tensor-core GEMM of the gemm kind: C = epi(A @ op(B) + bias), optionally Z = A @ op(B) +
// bias, bf16/fp16 in, fp32 accumulation, for sm_80+ and built for sm_90 (mma.sync, not wgmma).
// Header-only; include it from one .cu file. The host glue calls grimoire::mma::supported() and
// falls back to cuBLAS when it says no.
#pragma once

#include <c10/cuda/CUDAException.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

// =============================================================================================
// Design
// =============================================================================================
//
// CTA tile BM x BN x BK = 128 x 256 x 64 (8 warps, 2 x 4, each warp 64 x 64, 4-stage cp.async
// pipeline, 1 CTA/SM) or 128 x 128 x 64 (4 warps, 2 x 2, each warp 64 x 64, 3 stages, 2 CTAs/SM)
// when the wide tile would not fill the GPU once. Per warp and k16 step: 4 ldmatrix.x4 for A (four
// m16 blocks), 4 ldmatrix.x4 (.trans for B [K,N]) for B (eight n8 blocks), 32 mma.m16n8k16; the
// fragments of step k+1 are loaded while step k multiplies (double-buffered registers).
//
// Shared memory, per stage (bytes; one "chunk" = 16 B = 8 elements):
//   A tile  [BM=128][BK=64]  rows of 128 B = 8 chunks;           16 KB
//   B tile  B_NK : [BN][BK=64] rows of 128 B = 8 chunks;          BN*128 B
//           B_KN : [BK=64][BN] rows of BN*2 B = BN/8 chunks;      BN*128 B
// Swizzle (XOR, no padding): the chunk c of row r lives at chunk  c ^ (r & 7)  (for B_KN only the
// low 3 bits of c change, i.e. inside each aligned group of 8 chunks = 128 B). Every ldmatrix phase
// reads 8 rows r..r+7 (r % 8 == 0) at one logical chunk -> 8 distinct physical chunks of one
// 128-byte span (mod 128 B, since the row pitch is a multiple of 128 B) -> the 32 banks once each:
// conflict-free. Every cp.async quarter-warp writes one row's 8 aligned chunks -> also
// conflict-free.
//
// Pipeline (S stages, tile t in stage t % S, one cp.async group per k-tile, empty groups past K):
//   prologue: tiles 0..S-2, one commit each; wait_group(S-2); __syncthreads; frags(k16 step 0).
//   iteration kt, k16 steps kk = 0..3:
//     kk == 3 : wait_group(S-2); __syncthreads; advance the read stage.
//               (committed so far: (S-1) + (kt+1) groups, so <= S-2 pending => tiles 0..kt+1
//               landed.)
//     load the fragments of step kk+1 (of the next stage when kk == 3);
//     kk <= 2 : issue a third of tile kt+S-1's chunks into stage (kt+S-1) % S = (kt-1) % S;
//               kk == 2: commit.  That stage was last read by frags loaded before the kk == 3
//               barrier of iteration kt-1, so the barrier orders those reads before these writes.
//     mma of step kk.
//   after the loop: wait_group(0); __syncthreads; the pipeline smem is reused for the epilogue.
//
// Epilogue: the fp32 accumulators go to smem as [BM][BN+8] floats (the +8 pad makes the float2
// fragment stores and float4 reads conflict-free), then each thread owns 8 consecutive columns and
// walks rows: + bias (fp32), Z = round(z), C = round(epi(z)), 16-byte stores, a warp covering 512
// or 256 contiguous bytes of a row.
//
// Thread-block swizzle: blockIdx.x is remapped so that consecutive CTAs walk groups of 8 M-tiles
// down one N column of tiles (the tiles of a wave share A row panels and B column panels in L2).
//
// Tails: every chunk of every tile is written by cp.async, with src-size 0 (zero fill) where its
// row (m or n) or its k is out of range, the source then clamped to the tensor base; stores are
// predicated per row and per 8 columns (N % 8 == 0).
//
// ---------------------------------------------------------------------------------------------
// Fragment layouts (PTX ISA, mma.m16n8k16 .bf16/.f16, g = lane >> 2, q = lane & 3):
//   A (16x16, row): a0 = A[g   ][2q..2q+1]   a1 = A[g+8][2q..2q+1]
//                   a2 = A[g   ][2q+8..+9]   a3 = A[g+8][2q+8..+9]
//   B (16x8, col) : b0 = B[k=2q..2q+1][n=g]   b1 = B[k=2q+8..+9][n=g]
//   C (16x8, f32) : c0,c1 = C[g][2q..2q+1]    c2,c3 = C[g+8][2q..2q+1]
// ldmatrix.m8n8.x4: lanes 8i..8i+7 give the 8 row addresses (16 B each) of matrix i; register i of
// lane l receives matrix i's row l>>2, elements 2(l&3)..+1; with .trans it receives column l>>2,
// rows 2(l&3)..+1 (the transpose).
//   A (16x16 block at m, k)         : lane l -> row m + (l & 15), chunk k/8 + (l >> 4)
//                                     => r0..r3 = a0..a3.
//   B_NK (smem [n][k]; 16n x 16k)   : lane l -> row n + (l & 7) + 8*(l >> 4), chunk k/8 + ((l >> 3)
//   & 1)
//                                     => r0 = b0(n8 block 0), r1 = b1(0), r2 = b0(1), r3 = b1(1).
//   B_KN (smem [k][n]; 16k x 16n)   : lane l -> row k + (l & 15), chunk n/8 + (l >> 4), .trans
//                                     => matrix 0 = k 0-7 x n 0-7 transposed = b0(0), 1 = b1(0),
//                                        2 = b0(1), 3 = b1(1): the same registers as B_NK.
// =============================================================================================

#if defined(__CUDACC__)
#define GRIMOIRE_MMA_HD __host__ __device__ __forceinline__
#else
#define GRIMOIRE_MMA_HD inline
#endif

namespace grimoire {
namespace mma {
namespace detail {

constexpr int kGroupM = 8;  // thread-block swizzle: M-tiles per group

template <int BN_>
struct Cfg {
  static_assert(BN_ == 256 || BN_ == 128, "tile width");
  static constexpr int BM = 128, BN = BN_, BK = 64;
  static constexpr int WM = 2, WN = BN / 64;  // warps along M and N; each warp 64 x 64
  static constexpr int kThreads = 32 * WM * WN;
  static constexpr int kStages = BN == 256 ? 4 : 3;
  static constexpr int kMinBlocks = BN == 256 ? 1 : 2;
  static constexpr int kABytes = BM * BK * 2;
  static constexpr int kBBytes = BN * BK * 2;
  static constexpr int kStageBytes = kABytes + kBBytes;
  static constexpr int kPipeBytes = kStages * kStageBytes;
  static constexpr int kCStride = BN + 8;  // floats per staged accumulator row
  static constexpr int kEpiBytes = BM * kCStride * 4;
  static constexpr int kSmemBytes = kPipeBytes > kEpiBytes ? kPipeBytes : kEpiBytes;
  static constexpr int kAChunks = BM * BK / 8 / kThreads;  // 16-byte cp.async per thread per tile
  static constexpr int kBChunks = BN * BK / 8 / kThreads;
  static constexpr int kChunks = kAChunks + kBChunks;
  static constexpr int kChunksPerStep = (kChunks + 2) / 3;  // issued over k16 steps 0, 1, 2
  static constexpr int kPassBytes = kThreads * 16;    // smem bytes one pass of the block writes
  static constexpr int kEpiTpr = BN / 8;              // epilogue threads per row
  static constexpr int kEpiRpp = kThreads / kEpiTpr;  // epilogue rows per pass
  static_assert(kSmemBytes <= 227 * 1024, "shared memory");
  static_assert(kAChunks * kThreads * 16 == kABytes && kBChunks * kThreads * 16 == kBBytes,
                "loader");
  static_assert(kEpiRpp == 8 && BM % kEpiRpp == 0, "epilogue mapping");

  // ---- global -> smem loader: the thread's first chunk; chunk i adds i * kPassBytes in smem.
  // A and B_NK: a row is 8 chunks, a pass covers kThreads/8 rows; row r = tid/8 + i*(kThreads/8).
  GRIMOIRE_MMA_HD static int ld_row(int tid) { return tid >> 3; }
  GRIMOIRE_MMA_HD static int ld_k(int tid) { return (tid & 7) * 8; }
  GRIMOIRE_MMA_HD static uint32_t ld_dst(int tid) {  // within the A tile, or the B_NK tile
    return static_cast<uint32_t>((tid >> 3) * 128 + (((tid & 7) ^ ((tid >> 3) & 7)) << 4));
  }
  static constexpr int kRowsPerPass = kThreads / 8;
  // B_KN: a row (one k) is BN/8 chunks, a pass covers 8 rows; row k = tid/(BN/8) + 8*i.
  GRIMOIRE_MMA_HD static int kn_k(int tid) { return tid / (BN / 8); }
  GRIMOIRE_MMA_HD static int kn_n(int tid) { return (tid % (BN / 8)) * 8; }
  GRIMOIRE_MMA_HD static uint32_t kn_dst(int tid) {
    const int k = tid / (BN / 8), c = tid % (BN / 8);  // k < 8
    return static_cast<uint32_t>(k * (BN * 2) + ((c ^ k) << 4));
  }

  // ---- ldmatrix row addresses (byte offsets within the A or B tile of a stage).
  // A: m16 block i (0..3) of warp row wm, k16 step kk (0..3).
  GRIMOIRE_MMA_HD static uint32_t a_row(int lane, int wm) {
    return static_cast<uint32_t>((wm * 64 + (lane & 15)) * 128);
  }
  GRIMOIRE_MMA_HD static uint32_t a_x(int lane) {
    return static_cast<uint32_t>((lane >> 4) ^ (lane & 7));
  }
  GRIMOIRE_MMA_HD static uint32_t a_off(uint32_t row, uint32_t x, int i, int kk) {
    return row + static_cast<uint32_t>(i * 16 * 128) + ((static_cast<uint32_t>(2 * kk) ^ x) << 4);
  }
  // B: pair jj (0..3) of n8 blocks (2jj, 2jj+1) of warp column wn, k16 step kk.
  template <bool B_NK>
  GRIMOIRE_MMA_HD static uint32_t b_row(int lane, int wn) {
    if (B_NK) return static_cast<uint32_t>((wn * 64 + (lane & 7) + ((lane >> 4) << 3)) * 128);
    return static_cast<uint32_t>((lane & 15) * (BN * 2) + wn * 128);
  }
  template <bool B_NK>
  GRIMOIRE_MMA_HD static uint32_t b_x(int lane) {
    if (B_NK) return static_cast<uint32_t>(((lane >> 3) & 1) ^ (lane & 7));
    return static_cast<uint32_t>((lane >> 4) ^ (lane & 7));
  }
  template <bool B_NK>
  GRIMOIRE_MMA_HD static uint32_t b_off(uint32_t row, uint32_t x, int jj, int kk) {
    if (B_NK)
      return row + static_cast<uint32_t>(jj * 16 * 128) +
             ((static_cast<uint32_t>(2 * kk) ^ x) << 4);
    return row + static_cast<uint32_t>(kk * 16 * (BN * 2)) +
           ((static_cast<uint32_t>(2 * jj) ^ x) << 4);
  }

  // ---- epilogue staging (float index into [BM][kCStride]) of c0,c1 of block (i, j); c2,c3 at +8
  // rows.
  GRIMOIRE_MMA_HD static int stage_off(int lane, int wm, int wn, int i, int j) {
    return (wm * 64 + i * 16 + (lane >> 2)) * kCStride + wn * 64 + j * 8 + (lane & 3) * 2;
  }
};

// M-tile and N-tile of CTA `pid`: groups of kGroupM M-tiles, walked down M first.
GRIMOIRE_MMA_HD void tile_coords(int pid, int tiles_m, int tiles_n, int& tm, int& tn) {
  const int span = kGroupM * tiles_n;
  const int group = pid / span;
  const int first = group * kGroupM;
  const int rest = tiles_m - first;
  const int gsize = rest < kGroupM ? rest : kGroupM;
  const int r = pid - group * span;
  tm = first + r % gsize;
  tn = r / gsize;
}

#if defined(__CUDACC__)

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global -> shared copy, bypassing L1; zero-fills when !valid (src-size 0, nothing read).
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void* src, bool valid) {
  const int n = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(n)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

template <typename T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4],
                                          const uint32_t (&b)[2]) {
  if constexpr (std::is_same<T, __half>::value) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  uint32_t u;
  if constexpr (std::is_same<T, __half>::value) {
    const __half2 h = __floats2half2_rn(lo, hi);
    u = *reinterpret_cast<const uint32_t*>(&h);
  } else {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    u = *reinterpret_cast<const uint32_t*>(&h);
  }
  return u;
}
template <typename T>
__device__ __forceinline__ float2 unpack2(uint32_t u) {
  if constexpr (std::is_same<T, __half>::value) {
    return __half22float2(*reinterpret_cast<const __half2*>(&u));
  } else {
    return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u));
  }
}
template <typename T>
__device__ __forceinline__ void store8(T* p, const float (&v)[8]) {
  uint4 u;
  u.x = pack2<T>(v[0], v[1]);
  u.y = pack2<T>(v[2], v[3]);
  u.z = pack2<T>(v[4], v[5]);
  u.w = pack2<T>(v[6], v[7]);
  *reinterpret_cast<uint4*>(p) = u;
}

// The global -> smem copies of one thread for the k-tile it points at.
template <typename T, bool B_NK, class Cf>
struct TileLoader {
  const T* a;  // this thread's chunk 0 of the current k-tile
  const T* b;
  int64_t a_step;  // elements between chunk i and i+1 (kRowsPerPass rows of A)
  int64_t b_step;  // B_NK: kRowsPerPass rows of B; B_KN: 8 rows (k) of B
  int64_t b_tile;  // elements from one k-tile to the next in B
  uint32_t a_dst, b_dst;
  uint32_t a_rows;  // bit i: chunk i's row of A is < M
  uint32_t b_rows;  // B_NK: bit i: chunk i's row of B is < N; B_KN: the thread's 8 columns are < N
  int a_k, b_k;     // k of the thread's chunk within the tile (B_KN: of chunk 0)
  int k_left;       // K - k0 of the current tile

  __device__ __forceinline__ TileLoader(const T* A, int64_t lda, const T* B, int64_t ldb, int M,
                                        int N, int K, int m0, int n0, int tid) {
    const int ar = Cf::ld_row(tid);
    a_k = Cf::ld_k(tid);
    a = A + static_cast<int64_t>(m0 + ar) * lda + a_k;
    a_step = static_cast<int64_t>(Cf::kRowsPerPass) * lda;
    a_dst = Cf::ld_dst(tid);
    a_rows = 0;
#pragma unroll
    for (int i = 0; i < Cf::kAChunks; ++i)
      a_rows |= (m0 + ar + i * Cf::kRowsPerPass < M ? 1u : 0u) << i;
    if constexpr (B_NK) {
      const int br = Cf::ld_row(tid);
      b_k = Cf::ld_k(tid);
      b = B + static_cast<int64_t>(n0 + br) * ldb + b_k;
      b_step = static_cast<int64_t>(Cf::kRowsPerPass) * ldb;
      b_tile = Cf::BK;
      b_dst = Cf::ld_dst(tid);
      b_rows = 0;
#pragma unroll
      for (int i = 0; i < Cf::kBChunks; ++i)
        b_rows |= (n0 + br + i * Cf::kRowsPerPass < N ? 1u : 0u) << i;
    } else {
      b_k = Cf::kn_k(tid);
      const int bn = n0 + Cf::kn_n(tid);
      b = B + static_cast<int64_t>(b_k) * ldb + bn;
      b_step = 8 * ldb;
      b_tile = static_cast<int64_t>(Cf::BK) * ldb;
      b_dst = Cf::kn_dst(tid);
      b_rows = bn < N ? 1u : 0u;
    }
    k_left = K;
  }

  // Chunk q (0 .. kChunks-1; q < kAChunks: A) of the current tile into the stage at `stage`.
  __device__ __forceinline__ void issue(int q, uint32_t stage, const T* A0, const T* B0) const {
    if (q < Cf::kAChunks) {
      const int i = q;
      const bool ok = ((a_rows >> i) & 1u) && a_k < k_left;
      cp_async_16(stage + a_dst + i * Cf::kPassBytes, ok ? a + i * a_step : A0, ok);
    } else {
      const int i = q - Cf::kAChunks;
      bool ok;
      if constexpr (B_NK)
        ok = ((b_rows >> i) & 1u) && b_k < k_left;
      else
        ok = b_rows && b_k + 8 * i < k_left;
      cp_async_16(stage + Cf::kABytes + b_dst + i * Cf::kPassBytes, ok ? b + i * b_step : B0, ok);
    }
  }
  __device__ __forceinline__ void advance() {
    a += Cf::BK;
    b += b_tile;
    k_left -= Cf::BK;
  }
};

template <typename T, bool B_NK, typename Epi, int BN>
__global__ void __launch_bounds__(Cfg<BN>::kThreads, Cfg<BN>::kMinBlocks)
    gemm_kernel(const T* __restrict__ A, int64_t lda, const T* __restrict__ B, int64_t ldb,
                const T* __restrict__ bias, T* __restrict__ C, int64_t ldc, T* __restrict__ Z,
                int M, int N, int K, Epi epi) {
  using Cf = Cfg<BN>;
  constexpr int S = Cf::kStages;
  extern __shared__ __align__(1024) unsigned char smem[];

  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid & 31, warp = tid >> 5;
  const int wm = warp / Cf::WN, wn = warp % Cf::WN;

  int tm, tn;
  tile_coords(static_cast<int>(blockIdx.x), (M + Cf::BM - 1) / Cf::BM, (N + BN - 1) / BN, tm, tn);
  const int m0 = tm * Cf::BM, n0 = tn * BN;

  const uint32_t sbase = smem_u32(smem);
  const uint32_t send = sbase + Cf::kPipeBytes;

  TileLoader<T, B_NK, Cf> ld(A, lda, B, ldb, M, N, K, m0, n0, tid);

  const uint32_t a_row = Cf::a_row(lane, wm), a_x = Cf::a_x(lane);
  const uint32_t b_row = Cf::kABytes + Cf::template b_row<B_NK>(lane, wn),
                 b_x = Cf::template b_x<B_NK>(lane);

  float acc[4][8][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;

  uint32_t af[2][4][4];
  uint32_t bf[2][8][2];

  // Fragments of k16 step kk of the stage at `stage` into buffer `buf`.
  auto load_frags = [&](int buf, uint32_t stage, int kk) {
#pragma unroll
    for (int i = 0; i < 4; ++i) ldsm_x4(af[buf][i], stage + Cf::a_off(a_row, a_x, i, kk));
#pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      uint32_t r[4];
      if constexpr (B_NK)
        ldsm_x4(r, stage + Cf::template b_off<B_NK>(b_row, b_x, jj, kk));
      else
        ldsm_x4_t(r, stage + Cf::template b_off<B_NK>(b_row, b_x, jj, kk));
      bf[buf][2 * jj][0] = r[0];
      bf[buf][2 * jj][1] = r[1];
      bf[buf][2 * jj + 1][0] = r[2];
      bf[buf][2 * jj + 1][1] = r[3];
    }
  };
  auto mma_step = [&](int buf) {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int jj = 0; jj < 8; ++jj) {
        const int j = (i & 1) ? 7 - jj : jj;  // serpentine: reuse the B fragment across i
        mma_16816<T>(acc[i][j], af[buf][i], bf[buf][j]);
      }
  };

  const int ktiles = (K + Cf::BK - 1) / Cf::BK;

  // ---- prologue: tiles 0 .. S-2 (one group each, empty past K)
#pragma unroll
  for (int s = 0; s < S - 1; ++s) {
    if (s < ktiles) {
#pragma unroll
      for (int q = 0; q < Cf::kChunks; ++q) ld.issue(q, sbase + s * Cf::kStageBytes, A, B);
      ld.advance();
    }
    cp_async_commit();
  }
  cp_async_wait<S - 2>();
  __syncthreads();

  uint32_t rd = sbase;                              // stage of tile kt
  uint32_t wr = sbase + (S - 1) * Cf::kStageBytes;  // stage of tile kt + S - 1
  load_frags(0, rd, 0);

  // ---- main loop
  for (int kt = 0; kt < ktiles; ++kt) {
    const bool fetch = kt + S - 1 < ktiles;
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      if (kk == 3) {
        cp_async_wait<S - 2>();  // tile kt+1 has landed (this thread's copies) ...
        __syncthreads();         // ... everyone's; and everyone is done reading tile kt-1's stage
        rd += Cf::kStageBytes;
        if (rd == send) rd = sbase;
      }
      load_frags((kk + 1) & 1, rd, (kk + 1) & 3);
      if (kk < 3) {
        if (fetch) {
#pragma unroll
          for (int q = kk * Cf::kChunksPerStep; q < (kk + 1) * Cf::kChunksPerStep; ++q)
            if (q < Cf::kChunks) ld.issue(q, wr, A, B);
        }
        if (kk == 2) {
          if (fetch) ld.advance();
          cp_async_commit();
          wr += Cf::kStageBytes;
          if (wr == send) wr = sbase;
        }
      }
      mma_step(kk & 1);
    }
  }

  // ---- epilogue
  cp_async_wait<0>();
  __syncthreads();  // all warps done with the pipeline smem
  float* cs = reinterpret_cast<float*>(smem);
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int o = Cf::stage_off(lane, wm, wn, i, j);
      *reinterpret_cast<float2*>(cs + o) = make_float2(acc[i][j][0], acc[i][j][1]);
      *reinterpret_cast<float2*>(cs + o + 8 * Cf::kCStride) =
          make_float2(acc[i][j][2], acc[i][j][3]);
    }
  __syncthreads();

  const int er = tid / Cf::kEpiTpr, et = tid % Cf::kEpiTpr;
  const int col = n0 + et * 8;
  if (col >= N) return;  // N % 8 == 0: the thread's 8 columns are all in or all out
  float bv[8];
  if (bias != nullptr) {
    const uint4 u = *reinterpret_cast<const uint4*>(bias + col);
    const float2 b0 = unpack2<T>(u.x), b1 = unpack2<T>(u.y), b2 = unpack2<T>(u.z),
                 b3 = unpack2<T>(u.w);
    bv[0] = b0.x;
    bv[1] = b0.y;
    bv[2] = b1.x;
    bv[3] = b1.y;
    bv[4] = b2.x;
    bv[5] = b2.y;
    bv[6] = b3.x;
    bv[7] = b3.y;
  } else {
#pragma unroll
    for (int e = 0; e < 8; ++e) bv[e] = 0.f;
  }
  // Read the two float4 halves in the order that spreads a quarter-warp over all 32 banks.
  const bool h = (et >> 2) & 1;
  const float* src = cs + er * Cf::kCStride + et * 8;
  const float* src_a = src + (h ? 4 : 0);
  const float* src_b = src + (h ? 0 : 4);
#pragma unroll 4
  for (int p = 0; p < Cf::BM / Cf::kEpiRpp; ++p) {
    const int row = m0 + p * Cf::kEpiRpp + er;
    if (row >= M) break;  // rows only grow with p
    const float4 u = *reinterpret_cast<const float4*>(src_a + p * Cf::kEpiRpp * Cf::kCStride);
    const float4 w = *reinterpret_cast<const float4*>(src_b + p * Cf::kEpiRpp * Cf::kCStride);
    const float4 lo = h ? w : u, hi = h ? u : w;
    float z[8] = {lo.x + bv[0], lo.y + bv[1], lo.z + bv[2], lo.w + bv[3],
                  hi.x + bv[4], hi.y + bv[5], hi.z + bv[6], hi.w + bv[7]};
    const int64_t off = static_cast<int64_t>(row) * ldc + col;
    if (Z != nullptr) store8<T>(Z + off, z);
    float y[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) y[e] = epi(z[e]);
    store8<T>(C + off, y);
  }
}

// cudaFuncSetAttribute once per kernel and device (devices 0..63; others every call).
template <typename Kernel>
inline void prepare_kernel(Kernel kernel, int bytes, int device, std::atomic<uint64_t>& done) {
  const uint64_t bit = device < 64 ? (uint64_t{1} << device) : 0;
  if (bit != 0 && (done.load(std::memory_order_acquire) & bit)) return;
  C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                      cudaSharedmemCarveoutMaxShared));
  done.fetch_or(bit, std::memory_order_acq_rel);
}

inline int sm_count(int device) {
  static std::atomic<int> cache[64] = {};
  if (device >= 0 && device < 64) {
    const int c = cache[device].load(std::memory_order_relaxed);
    if (c > 0) return c;
  }
  int n = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
  if (device >= 0 && device < 64) cache[device].store(n, std::memory_order_relaxed);
  return n;
}

// GRIMOIRE_MMA_TILE=256 or 128 forces the CTA tile width (for benchmarking); otherwise 256 when it
// gives at least one CTA per SM, else 128.
inline int forced_tile() {
  static const int v = [] {
    const char* s = std::getenv("GRIMOIRE_MMA_TILE");
    if (s == nullptr) return 0;
    const int t = std::atoi(s);
    return t == 128 || t == 256 ? t : 0;
  }();
  return v;
}

template <typename T, bool B_NK, typename Epi, int BN>
inline void launch(const T* A, int64_t lda, const T* B, int64_t ldb, const T* bias, T* C,
                   int64_t ldc, T* Z, int M, int N, int K, const Epi& epi, int device,
                   cudaStream_t stream) {
  using Cf = Cfg<BN>;
  static std::atomic<uint64_t> prepared{0};
  auto kernel = gemm_kernel<T, B_NK, Epi, BN>;
  prepare_kernel(kernel, Cf::kSmemBytes, device, prepared);
  const int64_t tiles =
      static_cast<int64_t>((M + Cf::BM - 1) / Cf::BM) * static_cast<int64_t>((N + BN - 1) / BN);
  kernel<<<dim3(static_cast<unsigned>(tiles)), dim3(Cf::kThreads), Cf::kSmemBytes, stream>>>(
      A, lda, B, ldb, bias, C, ldc, Z, M, N, K, epi);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

#endif  // __CUDACC__

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace detail

// True when gemm() handles the problem; false: use cuBLAS.
inline bool supported(int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, int64_t ldc,
                      const void* A, const void* B, const void* bias, const void* C,
                      const void* Z) {
  constexpr int64_t kMaxDim = INT_MAX - 1024;  // row/column indices stay int32
  if (M < 1 || N < 1 || K < 1 || M > kMaxDim || N > kMaxDim || K > kMaxDim) return false;
  if (K % 8 != 0 || N % 8 != 0) return false;
  if (lda < 0 || ldb < 0 || ldc < 0 || lda % 8 != 0 || ldb % 8 != 0 || ldc % 8 != 0) return false;
  if (M > 1 && ldc < N) return false;  // output rows must not overlap
  if (A == nullptr || B == nullptr || C == nullptr) return false;
  if (!detail::aligned16(A) || !detail::aligned16(B) || !detail::aligned16(C)) return false;
  if ((bias != nullptr && !detail::aligned16(bias)) || (Z != nullptr && !detail::aligned16(Z)))
    return false;
  const int64_t tiles = ((M + 127) / 128) * ((N + 127) / 128);  // the narrower tile: the most CTAs
  return tiles <= INT_MAX;
}

#if defined(__CUDACC__)
// C = epi(A @ op(B) + bias), Z = A @ op(B) + bias (when Z != nullptr); see supported().
template <typename T, bool B_NK, typename Epi>
void gemm(const T* A, int64_t lda, const T* B, int64_t ldb, const T* bias, T* C, int64_t ldc, T* Z,
          int64_t M, int64_t N, int64_t K, Epi epi, cudaStream_t stream) {
  static_assert(std::is_same<T, __nv_bfloat16>::value || std::is_same<T, __half>::value,
                "grimoire::mma::gemm: T must be __nv_bfloat16 or __half");
  if (M <= 0 || N <= 0) return;
  int device = 0;
  C10_CUDA_CHECK(cudaGetDevice(&device));
  int bn = detail::forced_tile();
  if (bn == 0) {
    const int64_t wide = ((M + 127) / 128) * ((N + 255) / 256);
    bn = wide >= detail::sm_count(device) ? 256 : 128;
  }
  const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
  if (bn == 256)
    detail::launch<T, B_NK, Epi, 256>(A, lda, B, ldb, bias, C, ldc, Z, m, n, k, epi, device,
                                      stream);
  else
    detail::launch<T, B_NK, Epi, 128>(A, lda, B, ldb, bias, C, ldc, Z, m, n, k, epi, device,
                                      stream);
}
#endif  // __CUDACC__

}  // namespace mma
}  // namespace grimoire
