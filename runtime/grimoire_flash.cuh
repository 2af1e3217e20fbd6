// grimoire runtime library: grimoire_flash.cuh.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// FlashAttention-2 style fused attention for sm_80+ (tuned for sm_90, H100/H200) on mma.sync tensor
// cores: forward (online softmax, O and the log-sum-exp written, the Sq x Sk scores never stored)
// and backward (delta = rowsum(dO * O), then one kernel per key block recomputing P from the saved
// log-sum-exp, dK and dV in registers, dQ by fp32 atomics, then a conversion kernel). bf16 or fp16
// in, fp32 accumulation and softmax. Host glue calls grimoire::flash::forward / backward; see the
// interface block below for what it must meet.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

// Errors: TORCH_CHECK / C10_CUDA_CHECK in the extension; GRIMOIRE_FLASH_STANDALONE (a test without
// torch) throws std::runtime_error instead.
#ifdef GRIMOIRE_FLASH_STANDALONE
#include <stdexcept>
#include <string>
#define GRIMOIRE_FLASH_CHECK(cond, msg)         \
  do {                                          \
    if (!(cond)) throw std::runtime_error(msg); \
  } while (0)
#define GRIMOIRE_FLASH_CUDA_CHECK(expr)                                 \
  do {                                                                  \
    const cudaError_t grimoire_flash_err = (expr);                      \
    if (grimoire_flash_err != cudaSuccess)                              \
      throw std::runtime_error(std::string("CUDA error: ") +            \
                               cudaGetErrorString(grimoire_flash_err)); \
  } while (0)
#else
#include <c10/cuda/CUDAException.h>
#include <c10/util/Exception.h>
#define GRIMOIRE_FLASH_CHECK(cond, msg) TORCH_CHECK(cond, msg)
#define GRIMOIRE_FLASH_CUDA_CHECK(expr) C10_CUDA_CHECK(expr)
#endif
#define GRIMOIRE_FLASH_LAUNCH_CHECK() GRIMOIRE_FLASH_CUDA_CHECK(cudaGetLastError())

// ============================================================================================================
// Interface.
//   Tensors are contiguous [B, H, S, D] (D innermost) with 16-byte aligned base pointers; Sq may
//   differ from Sk. D is 32, 64 or 128 (anything else raises). Sq, Sk >= 1. B*H*ceil(S/64) < 2^31.
//   causal: top-left aligned (torch SDPA is_causal=True): query i sees key j iff j <= i.
//   lse: natural-log log-sum-exp of scale * q_i.k_j over the visible j, float32 [B, H, Sq], rounded
//   so that the backward's lse * log2e lands at or just below the forward's log2-units value (see
//   store_lse). Backward: dq_accum ([B,H,Sq,D] float32) and delta ([B,H,Sq] float32) are
//   workspaces; this code zeroes dq_accum itself (the caller need not) and writes delta. dq, dk, dv
//   are fully written (dk/dv rows that no query sees are zero).
// ============================================================================================================
namespace grimoire {
namespace flash {

struct FwdParams {
  const void* q;
  const void* k;
  const void* v;
  void* o;     // [B,H,Sq,D], same dtype as q
  float* lse;  // [B,H,Sq]
  int B, H, Sq, Sk, D;
  float scale;
  bool causal;
};

struct BwdParams {
  const void* q;
  const void* k;
  const void* v;
  const void* o;
  const void* dout;  // [B,H,Sq,D]
  const float* lse;  // from the forward
  void* dq;
  void* dk;
  void* dv;
  float* dq_accum;  // workspace [B,H,Sq,D] float32, zeroed here
  float* delta;     // workspace [B,H,Sq] float32, written here
  int B, H, Sq, Sk, D;
  float scale;
  bool causal;
};

namespace detail {

#define GRIMOIRE_FLASH_DEVICE __device__ __forceinline__

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// ------------------------------------------------------------------------------------------------------------
// Warp-level primitives.
//
// mma.sync.m16n8k16.row.col, fp32 accumulate. lane = 0..31, g = lane >> 2 (0..7), t = lane & 3
// (0..3).
//   A (16x16, row-major), 4 x b32 each holding 2 halves (low half = lower column index):
//     a0 = A[g][2t, 2t+1]   a1 = A[g+8][2t, 2t+1]   a2 = A[g][2t+8, 2t+9]   a3 = A[g+8][2t+8, 2t+9]
//   B (16x8, K x N), 2 x b32:  b0 = B[2t, 2t+1][g]   b1 = B[2t+8, 2t+9][g]     (two k values of
//   column g) C (16x8) fp32: c0 = C[g][2t]  c1 = C[g][2t+1]  c2 = C[g+8][2t]  c3 = C[g+8][2t+1]
//
// ldmatrix.m8n8.x4(.trans).b16: lanes 8i..8i+7 give the addresses of rows 0..7 of matrix i (16
// bytes each);
//   register ri of every lane receives from matrix i:
//     plain:  M_i[g][2t], M_i[g][2t+1]              (row g of the stored matrix)
//     .trans: M_i[2t][g], M_i[2t+1][g]              (column g of the stored matrix)
//
// Consequences used below (r = row in shared memory, c = 8-element chunk of that row):
//   * A operand from a row-major [m][k] tile, 16x16 at (m0, k0), plain: lane gives r = m0 + (lane &
//   15),
//     c = k0/8 + (lane >> 4); regs = a0..a3.  (i=0: rows 0-7 cols 0-7; i=1: rows 8-15; i=2: cols
//     8-15; ...)
//   * B operand where smem holds [n][k] (k contiguous, e.g. K for Q.K^T), two n8 tiles n0, n0+8 at
//   k0, plain:
//     lane gives r = n0 + ((lane >> 4) & 1) * 8 + (lane & 7), c = k0/8 + ((lane >> 3) & 1);
//     regs = {b0, b1} of tile n0, {b0, b1} of tile n0 + 8.
//   * B operand where smem holds [k][n] (n contiguous, e.g. V for P.V), two n8 tiles n0, n0+8 at
//   k0, .trans:
//     lane gives r = k0 + ((lane >> 3) & 1) * 8 + (lane & 7), c = n0/8 + (lane >> 4);
//     regs = {b0, b1} of tile n0, {b0, b1} of tile n0 + 8.
//   * A operand where smem holds A^T, i.e. [k][m] (m contiguous, e.g. P stored [q][key] used as
//   P^T), 16x16 at
//     (m0, k0), .trans: lane gives r = k0 + ((lane >> 4) & 1) * 8 + (lane & 7), c = m0/8 + ((lane
//     >> 3) & 1); regs = a0..a3.
//   * The C fragments of two adjacent n8 tiles (columns 16j..16j+15) are, packed to 16 bits,
//   exactly the A
//     fragment of the 16x16 block at k = 16j: a0 = pack(c0,c1) of tile 2j, a1 = pack(c2,c3) of tile
//     2j, a2 = pack(c0,c1) of tile 2j+1, a3 = pack(c2,c3) of tile 2j+1. P never leaves registers in
//     the forward.
// ------------------------------------------------------------------------------------------------------------

template <typename T>
struct MmaTraits;

template <>
struct MmaTraits<__nv_bfloat16> {
  static GRIMOIRE_FLASH_DEVICE void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                        uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
  static GRIMOIRE_FLASH_DEVICE uint32_t pack(float lo, float hi) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  }
  static GRIMOIRE_FLASH_DEVICE float2 unpack(uint32_t u) {
    __nv_bfloat162 h = *reinterpret_cast<__nv_bfloat162*>(&u);
    return __bfloat1622float2(h);
  }
};

template <>
struct MmaTraits<__half> {
  static GRIMOIRE_FLASH_DEVICE void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                        uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
  static GRIMOIRE_FLASH_DEVICE uint32_t pack(float lo, float hi) {
    __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  }
  static GRIMOIRE_FLASH_DEVICE float2 unpack(uint32_t u) {
    __half2 h = *reinterpret_cast<__half2*>(&u);
    return __half22float2(h);
  }
};

GRIMOIRE_FLASH_DEVICE uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

GRIMOIRE_FLASH_DEVICE void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr)
               : "memory");
}

GRIMOIRE_FLASH_DEVICE void ldsm_x4_t(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr)
               : "memory");
}

// 16-byte global -> shared copy; src_bytes = 0 zero-fills the destination and reads nothing.
GRIMOIRE_FLASH_DEVICE void cp_async16(uint32_t dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(src_bytes)
               : "memory");
}
GRIMOIRE_FLASH_DEVICE void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N>
GRIMOIRE_FLASH_DEVICE void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

GRIMOIRE_FLASH_DEVICE float fast_exp2(float x) {  // MUFU.EX2; exp2(-inf) = +0
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Scaled score in log2 units. __fmul_rn is never contracted into an FMA: the forward's row max and
// the backward's recomputed P then see the same rounded product. Where scores are huge (scale =
// 1e30), an FMA's unrounded product minus the max would be off by many units of the exponent,
// making P 0 or inf.
GRIMOIRE_FLASH_DEVICE float scaled(float s, float scale_log2) { return __fmul_rn(s, scale_log2); }

// The natural-log lse of a row whose log2-units log-sum-exp is L2 = max + log2(sum): the largest
// float e whose e * log2e (as the backward computes it) is <= L2. Rounding e = L2 * ln2 alone can
// land an ulp of L2 above it, and where L2 is huge an ulp is many units of the exponent: the
// backward's P of the row's largest score became 0. At or below L2 it is within [1/l, 1], clamped
// to 1 there (backward).
GRIMOIRE_FLASH_DEVICE float store_lse(float L2) {
  float e = L2 * kLn2;
  for (int i = 0; i < 4 && __fmul_rn(e, kLog2e) > L2; ++i) e = ::nextafterf(e, -INFINITY);
  for (int i = 0; i < 4 && __fmul_rn(::nextafterf(e, INFINITY), kLog2e) <= L2; ++i)
    e = ::nextafterf(e, INFINITY);
  return e;
}

// ------------------------------------------------------------------------------------------------------------
// Shared-memory tiles: row-major [rows][COLS] of 16-bit elements with a row pitch of COLS + 8
// elements (16 bytes of padding). One ldmatrix phase reads 8 consecutive rows at one 16-byte chunk
// c; row r's chunk sits at 16-byte slot r * (COLS/8 + 1) + c, which mod 8 (the 8 slots of the
// 128-byte bank window) is r + c for COLS = 64, 128 and 5r + c for COLS = 32: 8 distinct slots, no
// bank conflict. The 4-byte fragment stores of the backward (rows g = 0..7 at pitch 36 words, word
// t) hit 32 distinct banks. Unlike an XOR swizzle, every k-step offset is an immediate, so one base
// register per operand suffices.
// ------------------------------------------------------------------------------------------------------------
template <int COLS>
__host__ __device__ constexpr int pitch() {
  static_assert(COLS == 32 || COLS == 64 || COLS == 128, "tile width");
  return COLS + 8;
}
template <int COLS>
GRIMOIRE_FLASH_DEVICE int toff(int r, int c) {  // element offset of row r, chunk c
  return r * pitch<COLS>() + c * 8;
}

// Copies rows [row0, row0 + ROWS) of a [nrows][COLS] global matrix into a padded tile with
// cp.async; rows
// >= nrows are zero-filled and read nothing (their source address is clamped to g, row 0 of the
// matrix, which exists since nrows >= 1). Thread tid copies chunk tid % CPR of rows tid / CPR + it
// * RPI.
template <typename T, int ROWS, int COLS, int NTHREADS>
GRIMOIRE_FLASH_DEVICE void load_tile(T* s, const T* g, int row0, int nrows, int tid) {
  constexpr int CPR = COLS / 8;        // 16-byte chunks per row
  constexpr int RPI = NTHREADS / CPR;  // rows per iteration
  static_assert(NTHREADS % CPR == 0 && ROWS % RPI == 0, "tile chunks must divide over the threads");
  const int r = tid / CPR;
  const int c = tid % CPR;
  const int rows_left =
      nrows - row0 - r;  // this thread's row of iteration it is valid iff it * RPI < rows_left
  const T* src = g + static_cast<int64_t>(row0 + r) * COLS + c * 8;
  const uint32_t dst = smem_u32(s) + toff<COLS>(r, c) * 2;
#pragma unroll
  for (int it = 0; it < ROWS / RPI; ++it) {
    const bool ok = it * RPI < rows_left;
    cp_async16(dst + it * RPI * pitch<COLS>() * 2, ok ? src + it * RPI * COLS : g, ok ? 16 : 0);
  }
}

// ============================================================================================================
// Forward. One CTA = BM query rows of one (batch, head); NWARPS warps, warp w owns rows [w*16*MT,
// (w+1)*16*MT) as MT m16 tiles. The loop walks kv tiles of BN keys; K and V tiles are
// double-buffered (tile n+1 is copied by cp.async while tile n is computed). Q stays in shared
// memory (ldmatrix per k-step), S = Q K^T and the output accumulator O live in registers, P =
// exp2(S*scale*log2e - m) is packed to 16 bits in registers and is directly the A operand of P V.
// ============================================================================================================
template <int D>
struct FwdConfig;
template <>
struct FwdConfig<32> {
  static constexpr int BM = 128, BN = 128, NWARPS = 4;
};
template <>
struct FwdConfig<64> {
  static constexpr int BM = 128, BN = 64, NWARPS = 4;
};
template <>
struct FwdConfig<128> {
  static constexpr int BM = 128, BN = 64, NWARPS = 4;
};

template <int D>
constexpr int fwd_smem_bytes() {
  return (FwdConfig<D>::BM + 4 * FwdConfig<D>::BN) * pitch<D>() * 2;
}

template <typename T, int D>
__global__ void __launch_bounds__(FwdConfig<D>::NWARPS * 32, 2)
    flash_fwd_kernel(const FwdParams p) {
  using Cfg = FwdConfig<D>;
  using MT_ = MmaTraits<T>;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, NWARPS = Cfg::NWARPS;
  constexpr int NTHREADS = NWARPS * 32;
  constexpr int MT = BM / (16 * NWARPS);  // m16 tiles per warp
  constexpr int NT = BN / 8;              // n8 tiles of S per row tile
  constexpr int DT = D / 8;               // n8 tiles of O per row tile
  static_assert(MT * 16 * NWARPS == BM, "BM");
  static_assert(NT % 2 == 0 && DT % 2 == 0, "tiles pair up for ldmatrix.x4");

  extern __shared__ __align__(128) unsigned char flash_smem[];
  T* sQ = reinterpret_cast<T*>(flash_smem);
  constexpr int KV_TILE = BN * pitch<D>();  // elements of one K or V stage
  T* sK = sQ + BM * pitch<D>();             // 2 stages of [BN][D]
  T* sV = sK + 2 * KV_TILE;                 // 2 stages of [BN][D]

  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int g = lane >> 2;
  const int t = lane & 3;

  const int Sq = p.Sq, Sk = p.Sk;
  const int m_blocks = (Sq + BM - 1) / BM;
  // Heaviest (last, under causal) query blocks first; consecutive CTAs share one head's K/V in L2.
  const int m_block = m_blocks - 1 - static_cast<int>(blockIdx.x % m_blocks);
  const int64_t bh = blockIdx.x / m_blocks;
  const int m0 = m_block * BM;

  const T* q = static_cast<const T*>(p.q) + bh * Sq * D;
  const T* k = static_cast<const T*>(p.k) + bh * Sk * D;
  const T* v = static_cast<const T*>(p.v) + bh * Sk * D;
  T* o = static_cast<T*>(p.o) + bh * Sq * D;
  float* lse = p.lse + bh * Sq;

  const bool causal = p.causal;
  const int m_end = ::min(m0 + BM, Sq);
  // Keys [0, n_keys) are visible to some row of this block (under causal: keys j <= m_end - 1).
  const int n_keys = causal ? ::min(m_end, Sk) : Sk;
  const int n_blocks = (n_keys + BN - 1) / BN;  // >= 1 since m_end >= 1 and Sk >= 1

  load_tile<T, BM, D, NTHREADS>(sQ, q, m0, Sq, tid);
  cp_async_commit();
  load_tile<T, BN, D, NTHREADS>(sK, k, 0, Sk, tid);
  load_tile<T, BN, D, NTHREADS>(sV, v, 0, Sk, tid);
  cp_async_commit();

  // Per-lane ldmatrix byte offsets that do not depend on the k-step (see the mapping block at the
  // top).
  const int warp_row0 = warp * 16 * MT;
  const uint32_t sQ_u = smem_u32(sQ);
  const uint32_t sK_u = smem_u32(sK);
  const uint32_t sV_u = smem_u32(sV);
  // Q (A operand, plain): r = warp_row0 + mi*16 + (lane & 15), c = 2*kk + (lane >> 4).
  const int q_r = warp_row0 + (lane & 15);
  const int q_c = lane >> 4;
  // K (B operand from [n][k], plain): r = 16*np + ((lane>>4)&1)*8 + (lane&7), c = 2*kk +
  // ((lane>>3)&1).
  const int k_r = ((lane >> 4) & 1) * 8 + (lane & 7);
  const int k_c = (lane >> 3) & 1;
  // V (B operand from [k][n], trans): r = 16*kk + ((lane>>3)&1)*8 + (lane&7), c = 2*dp + (lane >>
  // 4).
  const int v_r = ((lane >> 3) & 1) * 8 + (lane & 7);
  const int v_c = lane >> 4;

  float acc_o[MT][DT][4];
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int dt = 0; dt < DT; ++dt)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc_o[mi][dt][e] = 0.f;
  float row_max[MT][2], row_sum[MT][2];  // row_max in units of log2 (scaled score * log2e)
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      row_max[mi][r] = -INFINITY;
      row_sum[mi][r] =
          0.f;  // this lane's partial sum over its columns; reduced over the 4 lanes at the end
    }
  const float scale_log2 = p.scale * kLog2e;

  for (int nb = 0; nb < n_blocks; ++nb) {
    const int stage = nb & 1;
    if (nb + 1 < n_blocks) {
      // Stage stage^1 was last read in iteration nb-1, which ended with __syncthreads.
      load_tile<T, BN, D, NTHREADS>(sK + (stage ^ 1) * KV_TILE, k, (nb + 1) * BN, Sk, tid);
      load_tile<T, BN, D, NTHREADS>(sV + (stage ^ 1) * KV_TILE, v, (nb + 1) * BN, Sk, tid);
      cp_async_commit();
      cp_async_wait<1>();  // everything but the group just issued: Q and tile nb
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();

    const uint32_t cK = sK_u + stage * KV_TILE * 2;
    const uint32_t cV = sV_u + stage * KV_TILE * 2;

    // ---- S = Q K^T ----
    float s[MT][NT][4];
#pragma unroll
    for (int mi = 0; mi < MT; ++mi)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[mi][nt][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t a[MT][4];
#pragma unroll
      for (int mi = 0; mi < MT; ++mi)
        ldsm_x4(a[mi], sQ_u + toff<D>(q_r + mi * 16, 2 * kk + q_c) * 2);
#pragma unroll
      for (int np = 0; np < NT / 2; ++np) {
        uint32_t b[4];
        ldsm_x4(b, cK + toff<D>(16 * np + k_r, 2 * kk + k_c) * 2);
#pragma unroll
        for (int mi = 0; mi < MT; ++mi) {
          MT_::mma(s[mi][2 * np], a[mi], b[0], b[1]);
          MT_::mma(s[mi][2 * np + 1], a[mi], b[2], b[3]);
        }
      }
    }

    // ---- scale, mask, online softmax ----
    const int n0 = nb * BN;
    // Element (mi, nt, e) is row m0 + warp_row0 + mi*16 + g + (e>>1)*8, column n0 + nt*8 + 2t +
    // (e&1). Row i sees columns < lim(i) = causal ? min(Sk, i + 1) : Sk, i.e. nt*8 + (e&1) < lim(i)
    // - n0 - 2t.
    const bool need_mask = (n0 + BN > Sk) || (causal && n0 + BN - 1 > m0);
#pragma unroll
    for (int mi = 0; mi < MT; ++mi) {
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[mi][nt][e] = scaled(s[mi][nt][e], scale_log2);
      if (need_mask) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const int row = m0 + warp_row0 + mi * 16 + g + r * 8;
          const int thr = (causal ? ::min(Sk, row + 1) : Sk) - n0 - 2 * t;
#pragma unroll
          for (int nt = 0; nt < NT; ++nt) {
            if (nt * 8 >= thr) s[mi][nt][2 * r] = -INFINITY;
            if (nt * 8 + 1 >= thr) s[mi][nt][2 * r + 1] = -INFINITY;
          }
        }
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
          mx = ::fmaxf(mx, ::fmaxf(s[mi][nt][2 * r], s[mi][nt][2 * r + 1]));
        mx = ::fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = ::fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float m_new = ::fmaxf(row_max[mi][r], mx);
        // A row with nothing visible yet keeps max -inf: subtract 0 instead so that no (-inf) -
        // (-inf) occurs.
        const float m_use = (m_new == -INFINITY) ? 0.f : m_new;
        const float alpha =
            fast_exp2(row_max[mi][r] - m_use);  // old max -inf -> 0 (accumulators are 0)
        row_max[mi][r] = m_new;
        float sum = 0.f;
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
          const float p0 = fast_exp2(s[mi][nt][2 * r] - m_use);
          const float p1 = fast_exp2(s[mi][nt][2 * r + 1] - m_use);
          s[mi][nt][2 * r] = p0;
          s[mi][nt][2 * r + 1] = p1;
          sum += p0 + p1;
        }
        row_sum[mi][r] = row_sum[mi][r] * alpha + sum;
#pragma unroll
        for (int dt = 0; dt < DT; ++dt) {
          acc_o[mi][dt][2 * r] *= alpha;
          acc_o[mi][dt][2 * r + 1] *= alpha;
        }
      }
    }

    // ---- O += P V  (P from registers) ----
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      uint32_t pa[MT][4];
#pragma unroll
      for (int mi = 0; mi < MT; ++mi) {
        pa[mi][0] = MT_::pack(s[mi][2 * kk][0], s[mi][2 * kk][1]);
        pa[mi][1] = MT_::pack(s[mi][2 * kk][2], s[mi][2 * kk][3]);
        pa[mi][2] = MT_::pack(s[mi][2 * kk + 1][0], s[mi][2 * kk + 1][1]);
        pa[mi][3] = MT_::pack(s[mi][2 * kk + 1][2], s[mi][2 * kk + 1][3]);
      }
#pragma unroll
      for (int dp = 0; dp < DT / 2; ++dp) {
        uint32_t b[4];
        ldsm_x4_t(b, cV + toff<D>(16 * kk + v_r, 2 * dp + v_c) * 2);
#pragma unroll
        for (int mi = 0; mi < MT; ++mi) {
          MT_::mma(acc_o[mi][2 * dp], pa[mi], b[0], b[1]);
          MT_::mma(acc_o[mi][2 * dp + 1], pa[mi], b[2], b[3]);
        }
      }
    }
    __syncthreads();  // every warp is done with this stage before it is refilled
  }

  // ---- epilogue: O / l, lse ----
#pragma unroll
  for (int mi = 0; mi < MT; ++mi) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float l = row_sum[mi][r];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      const int row = m0 + warp_row0 + mi * 16 + g + r * 8;
      if (row < Sq) {
        const float inv = l > 0.f ? 1.f / l : 0.f;
        T* orow = o + static_cast<int64_t>(row) * D + 2 * t;
#pragma unroll
        for (int dt = 0; dt < DT; ++dt) {
          *reinterpret_cast<uint32_t*>(orow + dt * 8) =
              MT_::pack(acc_o[mi][dt][2 * r] * inv, acc_o[mi][dt][2 * r + 1] * inv);
        }
        if (t == 0) lse[row] = l > 0.f ? store_lse(row_max[mi][r] + ::log2f(l)) : -INFINITY;
      }
    }
  }
}

// ============================================================================================================
// Backward.
// ============================================================================================================

// delta[row] = sum_d dO[row][d] * O[row][d] (fp32), and dq_accum[row][:] = 0. D/8 lanes per row, 16
// bytes each.
template <typename T, int D>
__global__ void __launch_bounds__(256)
    flash_bwd_pre_kernel(const T* __restrict__ o, const T* __restrict__ dout,
                         float* __restrict__ delta, float* __restrict__ dq_accum, int64_t rows) {
  constexpr int TPR = D / 8;  // 4, 8 or 16: divides 32, so a row's lanes sit in one warp
  const int64_t gt = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t row = gt / TPR;
  const int c = static_cast<int>(gt % TPR);
  float sum = 0.f;
  if (row < rows) {
    const int64_t off = row * D + c * 8;
    const uint4 ov = *reinterpret_cast<const uint4*>(o + off);
    const uint4 dv = *reinterpret_cast<const uint4*>(dout + off);
    const uint32_t ow[4] = {ov.x, ov.y, ov.z, ov.w};
    const uint32_t dw[4] = {dv.x, dv.y, dv.z, dv.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 a = MmaTraits<T>::unpack(ow[i]);
      const float2 b = MmaTraits<T>::unpack(dw[i]);
      sum += a.x * b.x + a.y * b.y;
    }
    float4* acc = reinterpret_cast<float4*>(dq_accum + off);
    acc[0] = make_float4(0.f, 0.f, 0.f, 0.f);
    acc[1] = make_float4(0.f, 0.f, 0.f, 0.f);
  }
#pragma unroll
  for (int off = TPR / 2; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if (row < rows && c == 0) delta[row] = sum;
}

// dq = dq_accum (already holds scale * dS K), converted; 4 elements per thread-iteration.
template <typename T>
__global__ void __launch_bounds__(256)
    flash_bwd_dq_kernel(const float* __restrict__ acc, T* __restrict__ dq, int64_t n4) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n4;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float4 x = reinterpret_cast<const float4*>(acc)[i];
    uint2 out;
    out.x = MmaTraits<T>::pack(x.x, x.y);
    out.y = MmaTraits<T>::pack(x.z, x.w);
    reinterpret_cast<uint2*>(dq)[i] = out;
  }
}

// Main backward kernel. One CTA = BN keys of one (batch, head), 8 warps; loops over query blocks of
// BM rows (under causal from the first block that sees a key of this block). Per query block:
//   S = Q K^T, dP = dO V^T            warp (wm = w & 3, wn = w >> 2): rows 16wm.., key columns
//   32wn.. (4 n8 tiles) P = exp2(S*scale*log2e - lse*log2e), dS = scale * P * (dP - delta)  -> both
//   to shared memory (16-bit) dV += P^T dO, dK += dS^T Q       warp: keys 16wm.., head dims
//   wn*D/2.. (D/16 n8 tiles), in registers dQ += dS K                        warp: rows 16wm..,
//   head dims wn*D/2.., fp32 atomics into dq_accum
// Q and dO tiles (and lse, delta) are double-buffered: block i+1 is copied while block i is
// computed.
struct BwdConfig {
  static constexpr int BM = 64, BN = 64, NWARPS = 8;
};

template <int D>
constexpr int bwd_smem_bytes() {
  // K, V (one each), Q and dO (two stages each), P and dS, then lse and delta (two stages each).
  return ((2 * BwdConfig::BN + 4 * BwdConfig::BM) * pitch<D>() +
          2 * BwdConfig::BM * pitch<BwdConfig::BN>()) *
             2 +
         4 * BwdConfig::BM * 4;
}

template <typename T, int D>
__global__ void __launch_bounds__(BwdConfig::NWARPS * 32) flash_bwd_kernel(const BwdParams p) {
  using MT_ = MmaTraits<T>;
  constexpr int BM = BwdConfig::BM, BN = BwdConfig::BN, NWARPS = BwdConfig::NWARPS;
  constexpr int NTHREADS = NWARPS * 32;
  constexpr int DN = D / 16;  // n8 tiles per warp along D (the warp covers D/2 columns)
  static_assert(BM == 64 && BN == 64 && NWARPS == 8,
                "the warp layout below assumes 4 x 2 warps over 64 x 64");
  static_assert(DN % 2 == 0, "D/2 must pair n8 tiles");

  extern __shared__ __align__(128) unsigned char flash_smem[];
  T* sK = reinterpret_cast<T*>(flash_smem);
  constexpr int Q_TILE = BM * pitch<D>();   // elements of one Q or dO stage
  constexpr int P_TILE = BM * pitch<BN>();  // elements of P or dS
  T* sV = sK + BN * pitch<D>();
  T* sQ = sV + BN * pitch<D>();                          // 2 stages of [BM][D]
  T* sdO = sQ + 2 * Q_TILE;                              // 2 stages of [BM][D]
  T* sP = sdO + 2 * Q_TILE;                              // [BM][BN]
  T* sdS = sP + P_TILE;                                  // [BM][BN]
  float* sLse = reinterpret_cast<float*>(sdS + P_TILE);  // 2 stages of [BM], already * log2e
  float* sDelta = sLse + 2 * BM;                         // 2 stages of [BM]

  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int g = lane >> 2;
  const int t = lane & 3;
  const int wm = warp & 3;
  const int wn = warp >> 2;

  const int Sq = p.Sq, Sk = p.Sk;
  const int n_blocks = (Sk + BN - 1) / BN;
  const int n_block = static_cast<int>(blockIdx.x % n_blocks);
  const int64_t bh = blockIdx.x / n_blocks;
  const int n0 = n_block * BN;

  const T* q = static_cast<const T*>(p.q) + bh * Sq * D;
  const T* k = static_cast<const T*>(p.k) + bh * Sk * D;
  const T* v = static_cast<const T*>(p.v) + bh * Sk * D;
  const T* dout = static_cast<const T*>(p.dout) + bh * Sq * D;
  const float* lse = p.lse + bh * Sq;
  const float* delta = p.delta + bh * Sq;
  float* dq_accum = p.dq_accum + bh * Sq * D;
  T* dk = static_cast<T*>(p.dk) + bh * Sk * D;
  T* dv = static_cast<T*>(p.dv) + bh * Sk * D;

  const bool causal = p.causal;
  const int m_blocks = (Sq + BM - 1) / BM;
  // Under causal, rows < n0 see no key of this block; block m_begin is the first with a row >= n0.
  const int m_begin =
      causal ? n0 / BM : 0;  // may be >= m_blocks: no query sees this block, dK = dV = 0

  // lse (times log2e; rows past Sq: +inf so that P = 0) and delta (rows past Sq: 0) of one query
  // block.
  auto load_stats = [&](int stage, int mrow0) {
    if (tid < BM) {
      const int row = mrow0 + tid;
      float l = INFINITY, d = 0.f;
      if (row < Sq) {
        l = lse[row];
        l = (l == -INFINITY)
                ? INFINITY
                : __fmul_rn(l, kLog2e);  // a row with nothing visible contributes nothing
        d = delta[row];
      }
      sLse[stage * BM + tid] = l;
      sDelta[stage * BM + tid] = d;
    }
  };

  load_tile<T, BN, D, NTHREADS>(sK, k, n0, Sk, tid);
  load_tile<T, BN, D, NTHREADS>(sV, v, n0, Sk, tid);
  if (m_begin < m_blocks) {
    load_tile<T, BM, D, NTHREADS>(sQ, q, m_begin * BM, Sq, tid);
    load_tile<T, BM, D, NTHREADS>(sdO, dout, m_begin * BM, Sq, tid);
    load_stats(0, m_begin * BM);
  }
  cp_async_commit();

  const uint32_t sK_u = smem_u32(sK), sV_u = smem_u32(sV), sQ_u = smem_u32(sQ),
                 sdO_u = smem_u32(sdO);
  const uint32_t sP_u = smem_u32(sP), sdS_u = smem_u32(sdS);
  // Lane parts of the ldmatrix rows / chunks (see the mapping block at the top of the file).
  const int a_r = lane & 15, a_c = lane >> 4;  // A, plain
  const int bn_r = ((lane >> 4) & 1) * 8 + (lane & 7),
            bn_c = (lane >> 3) & 1;                                       // B from [n][k], plain
  const int bk_r = ((lane >> 3) & 1) * 8 + (lane & 7), bk_c = lane >> 4;  // B from [k][n], trans
  const int at_r = ((lane >> 4) & 1) * 8 + (lane & 7),
            at_c = (lane >> 3) & 1;  // A from [k][m], trans

  float acc_dk[DN][4], acc_dv[DN][4];
#pragma unroll
  for (int nt = 0; nt < DN; ++nt)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      acc_dk[nt][e] = 0.f;
      acc_dv[nt][e] = 0.f;
    }
  const float scale = p.scale;
  const float scale_log2 = scale * kLog2e;

  for (int mb = m_begin; mb < m_blocks; ++mb) {
    const int stage = (mb - m_begin) & 1;
    const int m0 = mb * BM;
    cp_async_wait<0>();
    __syncthreads();  // (A): this block's tiles are visible; every warp is done with the previous
                      // block
    if (mb + 1 < m_blocks) {
      load_tile<T, BM, D, NTHREADS>(sQ + (stage ^ 1) * Q_TILE, q, m0 + BM, Sq, tid);
      load_tile<T, BM, D, NTHREADS>(sdO + (stage ^ 1) * Q_TILE, dout, m0 + BM, Sq, tid);
      cp_async_commit();
      load_stats(stage ^ 1, m0 + BM);  // plain stores; visible after the next (A)
    }
    const uint32_t cQ = sQ_u + stage * Q_TILE * 2;
    const uint32_t cdO = sdO_u + stage * Q_TILE * 2;

    // ---- S = Q K^T and dP = dO V^T: rows 16wm + [0,16), key columns 32wn + [0,32) ----
    float s[4][4], dp[4][4];
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = 0.f;
        dp[nt][e] = 0.f;
      }
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t aq[4], ado[4];
      ldsm_x4(aq, cQ + toff<D>(16 * wm + a_r, 2 * kk + a_c) * 2);
      ldsm_x4(ado, cdO + toff<D>(16 * wm + a_r, 2 * kk + a_c) * 2);
#pragma unroll
      for (int np = 0; np < 2; ++np) {
        uint32_t b[4];
        ldsm_x4(b, sK_u + toff<D>(32 * wn + 16 * np + bn_r, 2 * kk + bn_c) * 2);
        MT_::mma(s[2 * np], aq, b[0], b[1]);
        MT_::mma(s[2 * np + 1], aq, b[2], b[3]);
        ldsm_x4(b, sV_u + toff<D>(32 * wn + 16 * np + bn_r, 2 * kk + bn_c) * 2);
        MT_::mma(dp[2 * np], ado, b[0], b[1]);
        MT_::mma(dp[2 * np + 1], ado, b[2], b[3]);
      }
    }

    // ---- P and dS; element (nt, e): row 16wm + g + (e>>1)*8, key column 32wn + 8nt + 2t + (e&1)
    // ----
    const bool need_mask = (n0 + BN > Sk) || (causal && m0 < n0 + BN - 1);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int lrow = 16 * wm + g + r * 8;
      const float lse_r = sLse[stage * BM + lrow];
      const float delta_r = sDelta[stage * BM + lrow];
      const int row = m0 + lrow;
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) {
#pragma unroll
        for (int e2 = 0; e2 < 2; ++e2) {
          const int e = 2 * r + e2;
          // lse_r = +inf -> 0. P <= 1 (a weight), which rounding of huge scores' lse may exceed
          // (store_lse); a NaN score stays NaN.
          float pv = fast_exp2(scaled(s[nt][e], scale_log2) - lse_r);
          pv = pv > 1.f ? 1.f : pv;
          if (need_mask) {
            const int col = n0 + 32 * wn + 8 * nt + 2 * t + e2;
            if (col >= Sk || (causal && col > row)) pv = 0.f;
          }
          s[nt][e] = pv;
          dp[nt][e] = pv * (dp[nt][e] - delta_r) * scale;
        }
        const int off = toff<BN>(lrow, 4 * wn + nt) + 2 * t;
        *reinterpret_cast<uint32_t*>(sP + off) = MT_::pack(s[nt][2 * r], s[nt][2 * r + 1]);
        *reinterpret_cast<uint32_t*>(sdS + off) = MT_::pack(dp[nt][2 * r], dp[nt][2 * r + 1]);
      }
    }
    __syncthreads();  // (B): P and dS complete

    // ---- dV += P^T dO, dK += dS^T Q: keys 16wm + [0,16), dims wn*D/2 + [0, D/2); reduce over BM
    // rows ----
#pragma unroll
    for (int kk = 0; kk < BM / 16; ++kk) {
      uint32_t ap[4], ads[4];
      ldsm_x4_t(ap, sP_u + toff<BN>(16 * kk + at_r, 2 * wm + at_c) * 2);
      ldsm_x4_t(ads, sdS_u + toff<BN>(16 * kk + at_r, 2 * wm + at_c) * 2);
#pragma unroll
      for (int dp2 = 0; dp2 < DN / 2; ++dp2) {
        uint32_t b[4];
        ldsm_x4_t(b, cdO + toff<D>(16 * kk + bk_r, wn * (D / 16) + 2 * dp2 + bk_c) * 2);
        MT_::mma(acc_dv[2 * dp2], ap, b[0], b[1]);
        MT_::mma(acc_dv[2 * dp2 + 1], ap, b[2], b[3]);
        ldsm_x4_t(b, cQ + toff<D>(16 * kk + bk_r, wn * (D / 16) + 2 * dp2 + bk_c) * 2);
        MT_::mma(acc_dk[2 * dp2], ads, b[0], b[1]);
        MT_::mma(acc_dk[2 * dp2 + 1], ads, b[2], b[3]);
      }
    }

    // ---- dQ += dS K: rows 16wm + [0,16), dims wn*D/2 + [0, D/2); reduce over BN keys ----
    {
      float acc_dq[DN][4];
#pragma unroll
      for (int nt = 0; nt < DN; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc_dq[nt][e] = 0.f;
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        uint32_t a[4];
        ldsm_x4(a, sdS_u + toff<BN>(16 * wm + a_r, 2 * kk + a_c) * 2);
#pragma unroll
        for (int dp2 = 0; dp2 < DN / 2; ++dp2) {
          uint32_t b[4];
          ldsm_x4_t(b, sK_u + toff<D>(16 * kk + bk_r, wn * (D / 16) + 2 * dp2 + bk_c) * 2);
          MT_::mma(acc_dq[2 * dp2], a, b[0], b[1]);
          MT_::mma(acc_dq[2 * dp2 + 1], a, b[2], b[3]);
        }
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int row = m0 + 16 * wm + g + r * 8;
        if (row < Sq) {
          float* dst = dq_accum + static_cast<int64_t>(row) * D + wn * (D / 2) + 2 * t;
#pragma unroll
          for (int nt = 0; nt < DN; ++nt) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
            atomicAdd(reinterpret_cast<float2*>(dst + nt * 8),
                      make_float2(acc_dq[nt][2 * r], acc_dq[nt][2 * r + 1]));
#else
            atomicAdd(dst + nt * 8, acc_dq[nt][2 * r]);
            atomicAdd(dst + nt * 8 + 1, acc_dq[nt][2 * r + 1]);
#endif
          }
        }
      }
    }
  }
  cp_async_wait<0>();  // nothing may be in flight at exit (the K/V copy when no query block runs)

  // ---- dK, dV: element (nt, e) is key 16wm + g + (e>>1)*8, dim wn*D/2 + 8nt + 2t + (e&1) ----
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int key = n0 + 16 * wm + g + r * 8;
    if (key < Sk) {
      const int64_t off = static_cast<int64_t>(key) * D + wn * (D / 2) + 2 * t;
#pragma unroll
      for (int nt = 0; nt < DN; ++nt) {
        *reinterpret_cast<uint32_t*>(dk + off + nt * 8) =
            MT_::pack(acc_dk[nt][2 * r], acc_dk[nt][2 * r + 1]);
        *reinterpret_cast<uint32_t*>(dv + off + nt * 8) =
            MT_::pack(acc_dv[nt][2 * r], acc_dv[nt][2 * r + 1]);
      }
    }
  }
}

// ============================================================================================================
// Host side.
// ============================================================================================================
template <typename Kernel>
inline void set_smem(Kernel kernel, int bytes) {
  if (bytes > 48 * 1024) {
    GRIMOIRE_FLASH_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  }
  GRIMOIRE_FLASH_CUDA_CHECK(cudaFuncSetAttribute(
      kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared));
}

template <typename T, int D>
inline void forward_impl(const FwdParams& p, cudaStream_t stream) {
  using Cfg = FwdConfig<D>;
  const int m_blocks = (p.Sq + Cfg::BM - 1) / Cfg::BM;
  const int64_t grid = static_cast<int64_t>(m_blocks) * p.B * p.H;
  GRIMOIRE_FLASH_CHECK(grid <= 0x7fffffff,
                       "grimoire flash attention: B*H*ceil(Sq/128) is too large for one launch");
  constexpr int smem = fwd_smem_bytes<D>();
  auto kernel = flash_fwd_kernel<T, D>;
  set_smem(kernel, smem);
  kernel<<<static_cast<unsigned>(grid), Cfg::NWARPS * 32, smem, stream>>>(p);
  GRIMOIRE_FLASH_LAUNCH_CHECK();
}

template <typename T, int D>
inline void backward_impl(const BwdParams& p, cudaStream_t stream) {
  const int64_t rows = static_cast<int64_t>(p.B) * p.H * p.Sq;
  {
    constexpr int threads = 256;
    const int64_t blocks = (rows * (D / 8) + threads - 1) / threads;
    GRIMOIRE_FLASH_CHECK(blocks <= 0x7fffffff,
                         "grimoire flash attention backward: too many rows for one launch");
    flash_bwd_pre_kernel<T, D><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
        static_cast<const T*>(p.o), static_cast<const T*>(p.dout), p.delta, p.dq_accum, rows);
    GRIMOIRE_FLASH_LAUNCH_CHECK();
  }
  {
    const int n_blocks = (p.Sk + BwdConfig::BN - 1) / BwdConfig::BN;
    const int64_t grid = static_cast<int64_t>(n_blocks) * p.B * p.H;
    GRIMOIRE_FLASH_CHECK(grid <= 0x7fffffff,
                         "grimoire flash attention backward: B*H*ceil(Sk/64) is too large");
    constexpr int smem = bwd_smem_bytes<D>();
    auto kernel = flash_bwd_kernel<T, D>;
    set_smem(kernel, smem);
    kernel<<<static_cast<unsigned>(grid), BwdConfig::NWARPS * 32, smem, stream>>>(p);
    GRIMOIRE_FLASH_LAUNCH_CHECK();
  }
  {
    const int64_t n4 = rows * D / 4;
    constexpr int threads = 256;
    const int64_t blocks = std::min<int64_t>((n4 + threads - 1) / threads, 132 * 16);
    flash_bwd_dq_kernel<T><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
        p.dq_accum, static_cast<T*>(p.dq), n4);
    GRIMOIRE_FLASH_LAUNCH_CHECK();
  }
}

#undef GRIMOIRE_FLASH_DEVICE

}  // namespace detail

// bf16 == true: __nv_bfloat16 data, else __half.
inline void forward(const FwdParams& p, bool bf16, cudaStream_t stream) {
  GRIMOIRE_FLASH_CHECK(p.Sq >= 1 && p.Sk >= 1 && p.B >= 1 && p.H >= 1,
                       "grimoire flash attention: empty problem");
  switch (p.D) {
    case 32:
      return bf16 ? detail::forward_impl<__nv_bfloat16, 32>(p, stream)
                  : detail::forward_impl<__half, 32>(p, stream);
    case 64:
      return bf16 ? detail::forward_impl<__nv_bfloat16, 64>(p, stream)
                  : detail::forward_impl<__half, 64>(p, stream);
    case 128:
      return bf16 ? detail::forward_impl<__nv_bfloat16, 128>(p, stream)
                  : detail::forward_impl<__half, 128>(p, stream);
    default:
      GRIMOIRE_FLASH_CHECK(false, "grimoire flash attention: the head dim must be 32, 64 or 128");
  }
}

inline void backward(const BwdParams& p, bool bf16, cudaStream_t stream) {
  GRIMOIRE_FLASH_CHECK(p.Sq >= 1 && p.Sk >= 1 && p.B >= 1 && p.H >= 1,
                       "grimoire flash attention: empty problem");
  switch (p.D) {
    case 32:
      return bf16 ? detail::backward_impl<__nv_bfloat16, 32>(p, stream)
                  : detail::backward_impl<__half, 32>(p, stream);
    case 64:
      return bf16 ? detail::backward_impl<__nv_bfloat16, 64>(p, stream)
                  : detail::backward_impl<__half, 64>(p, stream);
    case 128:
      return bf16 ? detail::backward_impl<__nv_bfloat16, 128>(p, stream)
                  : detail::backward_impl<__half, 128>(p, stream);
    default:
      GRIMOIRE_FLASH_CHECK(false, "grimoire flash attention: the head dim must be 32, 64 or 128");
  }
}

}  // namespace flash
}  // namespace grimoire

#undef GRIMOIRE_FLASH_LAUNCH_CHECK
#undef GRIMOIRE_FLASH_CUDA_CHECK
#undef GRIMOIRE_FLASH_CHECK
