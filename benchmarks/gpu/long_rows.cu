// Long-row softmax strategies, written by hand to choose what the rowwise planner should generate for
// rows the register path cannot hold (not generated code; no torch needed): three passes over global
// memory, an online max-and-sum taken a 16-byte pack at a time (each pack's max, then its exps, then one
// rescale), the row staged in shared memory, and a register-resident row; the backward with and without
// staging, and register-resident. Bandwidth against a device copy timed in the same process.
//   nvcc -O3 -arch=sm_90 -std=c++17 benchmarks/gpu/long_rows.cu -o /tmp/long_rows && /tmp/long_rows
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(x)                                                             \
  do {                                                                    \
    cudaError_t e = (x);                                                  \
    if (e != cudaSuccess) {                                               \
      printf("CUDA %s at %d: %s\n", #x, __LINE__, cudaGetErrorString(e)); \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

template <typename T>
__device__ __forceinline__ float tof(T v) { return static_cast<float>(v); }
template <>
__device__ __forceinline__ float tof(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T fromf(float v) { return static_cast<T>(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 fromf(float v) { return __float2bfloat16(v); }

struct alignas(16) P16 { uint4 u; };
template <typename T>
constexpr int VEC = 16 / sizeof(T);

__device__ __forceinline__ float wmax(float v) {
  for (int o = 16; o; o >>= 1) v = fmaxf(v, __shfl_xor_sync(~0u, v, o));
  return v;
}
__device__ __forceinline__ float wsum(float v) {
  for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(~0u, v, o);
  return v;
}
template <bool MAX>
__device__ __forceinline__ float breduce(float v, float* sc) {
  v = MAX ? wmax(v) : wsum(v);
  __syncthreads();
  if (threadIdx.x % 32 == 0) sc[threadIdx.x / 32] = v;
  __syncthreads();
  float r = sc[0];
  for (int w = 1; w < blockDim.x / 32; ++w) r = MAX ? fmaxf(r, sc[w]) : r + sc[w];
  return r;
}
// online (max, sum) combine
__device__ __forceinline__ void ms_combine(float& m, float& s, float m2, float s2) {
  float M = fmaxf(m, m2);
  if (M == -INFINITY) { s = 0.f; m = M; return; }
  s = s * __expf(m - M) + s2 * __expf(m2 - M);
  m = M;
}
__device__ __forceinline__ void bms(float& m, float& s, float* sc) {
  for (int o = 16; o; o >>= 1) {
    float m2 = __shfl_xor_sync(~0u, m, o), s2 = __shfl_xor_sync(~0u, s, o);
    ms_combine(m, s, m2, s2);
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) { sc[threadIdx.x / 32] = m; sc[32 + threadIdx.x / 32] = s; }
  __syncthreads();
  m = sc[0]; s = sc[32];
  for (int w = 1; w < blockDim.x / 32; ++w) ms_combine(m, s, sc[w], sc[32 + w]);
}

template <typename T>
__device__ __forceinline__ void unpack(const P16& p, float* f) {
  const T* t = reinterpret_cast<const T*>(&p);
#pragma unroll
  for (int e = 0; e < VEC<T>; ++e) f[e] = tof(t[e]);
}

// A: 3 passes over global (max, sum, write), U packs in flight per thread.
template <typename T, int U>
__global__ void fwd_3pass(const T* x, T* y, int64_t rows, int64_t n) {
  __shared__ float sc[64];
  const int64_t np = n / VEC<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const P16* xr = reinterpret_cast<const P16*>(x + r * n);
    P16* yr = reinterpret_cast<P16*>(y + r * n);
    float m = -INFINITY;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) b[u] = xr[p0 + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        float f[VEC<T>]; unpack<T>(b[u], f);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) m = fmaxf(m, f[e]);
      }
    }
    m = breduce<true>(m, sc);
    float s = 0;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) b[u] = xr[p0 + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        float f[VEC<T>]; unpack<T>(b[u], f);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) s += __expf(f[e] - m);
      }
    }
    s = breduce<false>(s, sc);
    const float inv = 1.f / s;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) b[u] = xr[p0 + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        float f[VEC<T>]; unpack<T>(b[u], f);
        P16 o; T* ot = reinterpret_cast<T*>(&o);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) ot[e] = fromf<T>(__expf(f[e] - m) * inv);
        yr[p0 + u * blockDim.x] = o;
      }
    }
  }
}

// B: 2 passes over global (online max+sum, write).
template <typename T, int U>
__global__ void fwd_online(const T* x, T* y, int64_t rows, int64_t n) {
  __shared__ float sc[64];
  const int64_t np = n / VEC<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const P16* xr = reinterpret_cast<const P16*>(x + r * n);
    P16* yr = reinterpret_cast<P16*>(y + r * n);
    float m = -INFINITY, s = 0;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) b[u] = xr[p0 + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        float f[VEC<T>]; unpack<T>(b[u], f);
        float bm = f[0];
#pragma unroll
        for (int e = 1; e < VEC<T>; ++e) bm = fmaxf(bm, f[e]);
        float bs = 0;
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) bs += __expf(f[e] - bm);
        ms_combine(m, s, bm, bs);
      }
    }
    bms(m, s, sc);
    const float inv = 1.f / s;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) b[u] = xr[p0 + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        float f[VEC<T>]; unpack<T>(b[u], f);
        P16 o; T* ot = reinterpret_cast<T*>(&o);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) ot[e] = fromf<T>(__expf(f[e] - m) * inv);
        yr[p0 + u * blockDim.x] = o;
      }
    }
  }
}

// C: the row staged in dynamic shared memory: pass 1 global->smem (+max), then sum and write from smem.
// Rows longer than the stage (cap packs) keep their head staged and re-read their tail from global (L2).
template <typename T, int U>
__global__ void fwd_smem(const T* x, T* y, int64_t rows, int64_t n, int64_t cap) {
  extern __shared__ P16 stage[];
  __shared__ float sc[64];
  const int64_t np = n / VEC<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const P16* xr = reinterpret_cast<const P16*>(x + r * n);
    P16* yr = reinterpret_cast<P16*>(y + r * n);
    float m = -INFINITY;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) b[u] = xr[p0 + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        if (p0 + u * blockDim.x < cap) stage[p0 + u * blockDim.x] = b[u];
        float f[VEC<T>]; unpack<T>(b[u], f);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) m = fmaxf(m, f[e]);
      }
    }
    m = breduce<true>(m, sc);
    float s = 0;
    for (int64_t p = threadIdx.x; p < np; p += blockDim.x) {
      float f[VEC<T>]; unpack<T>(p < cap ? stage[p] : xr[p], f);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) s += __expf(f[e] - m);
    }
    s = breduce<false>(s, sc);
    const float inv = 1.f / s;
    for (int64_t p = threadIdx.x; p < np; p += blockDim.x) {
      float f[VEC<T>]; unpack<T>(p < cap ? stage[p] : xr[p], f);
      P16 o; T* ot = reinterpret_cast<T*>(&o);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) ot[e] = fromf<T>(__expf(f[e] - m) * inv);
      yr[p] = o;
    }
    __syncthreads();
  }
}

// C2: online max+sum while staging the head in smem, then write (stage, or global for the tail).
template <typename T, int U>
__global__ void fwd_online_smem(const T* x, T* y, int64_t rows, int64_t n, int64_t cap) {
  extern __shared__ P16 stage[];
  __shared__ float sc[64];
  const int64_t np = n / VEC<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const P16* xr = reinterpret_cast<const P16*>(x + r * n);
    P16* yr = reinterpret_cast<P16*>(y + r * n);
    float m = -INFINITY, s = 0;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) b[u] = xr[p0 + u * blockDim.x];
      // the chunk's max first, then its exps against it, then one rescale
      float cm = -INFINITY;
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        if (p0 + u * blockDim.x < cap) stage[p0 + u * blockDim.x] = b[u];
        float f[VEC<T>]; unpack<T>(b[u], f);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) cm = fmaxf(cm, f[e]);
      }
      float cs = 0;
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        float f[VEC<T>]; unpack<T>(b[u], f);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) cs += __expf(f[e] - cm);
      }
      ms_combine(m, s, cm, cs);
    }
    bms(m, s, sc);
    const float inv = 1.f / s;
    for (int64_t p = threadIdx.x; p < np; p += blockDim.x) {
      float f[VEC<T>]; unpack<T>(p < cap ? stage[p] : xr[p], f);
      P16 o; T* ot = reinterpret_cast<T*>(&o);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) ot[e] = fromf<T>(__expf(f[e] - m) * inv);
      yr[p] = o;
    }
    __syncthreads();
  }
}

// D: register-resident, K packs per thread, one row per block (n <= K*VEC*blockDim).
template <typename T, int K>
__global__ void __launch_bounds__(1024) fwd_reg(const T* x, T* y, int64_t rows, int64_t n) {
  __shared__ float sc[64];
  const int64_t np = n / VEC<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const P16* xr = reinterpret_cast<const P16*>(x + r * n);
    P16* yr = reinterpret_cast<P16*>(y + r * n);
    P16 b[K];
#pragma unroll
    for (int k = 0; k < K; ++k) if (threadIdx.x + k * blockDim.x < np) b[k] = xr[threadIdx.x + k * blockDim.x];
    float m = -INFINITY;
#pragma unroll
    for (int k = 0; k < K; ++k) if (threadIdx.x + k * blockDim.x < np) {
      float f[VEC<T>]; unpack<T>(b[k], f);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) m = fmaxf(m, f[e]);
    }
    m = breduce<true>(m, sc);
    float s = 0;
#pragma unroll
    for (int k = 0; k < K; ++k) if (threadIdx.x + k * blockDim.x < np) {
      float f[VEC<T>]; unpack<T>(b[k], f);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) s += __expf(f[e] - m);
    }
    s = breduce<false>(s, sc);
    const float inv = 1.f / s;
#pragma unroll
    for (int k = 0; k < K; ++k) if (threadIdx.x + k * blockDim.x < np) {
      float f[VEC<T>]; unpack<T>(b[k], f);
      P16 o; T* ot = reinterpret_cast<T*>(&o);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) ot[e] = fromf<T>(__expf(f[e] - m) * inv);
      yr[threadIdx.x + k * blockDim.x] = o;
    }
  }
}

// Backward: dx = y * (dy - sum(y*dy)). E: 2 passes over global; F: y and dy staged in smem.
template <typename T, int U, bool SMEM>
__global__ void bwd(const T* y, const T* dy, T* dx, int64_t rows, int64_t n) {
  extern __shared__ P16 stage[];
  __shared__ float sc[64];
  const int64_t np = n / VEC<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const P16* yr = reinterpret_cast<const P16*>(y + r * n);
    const P16* gr = reinterpret_cast<const P16*>(dy + r * n);
    P16* dr = reinterpret_cast<P16*>(dx + r * n);
    float s = 0;
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 a[U], b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) { a[u] = yr[p0 + u * blockDim.x]; b[u] = gr[p0 + u * blockDim.x]; }
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        if (SMEM) { stage[p0 + u * blockDim.x] = a[u]; stage[np + p0 + u * blockDim.x] = b[u]; }
        float f[VEC<T>], g[VEC<T>]; unpack<T>(a[u], f); unpack<T>(b[u], g);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) s += f[e] * g[e];
      }
    }
    s = breduce<false>(s, sc);
    for (int64_t p0 = threadIdx.x; p0 < np; p0 += U * blockDim.x) {
      P16 a[U], b[U];
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        if (SMEM) { a[u] = stage[p0 + u * blockDim.x]; b[u] = stage[np + p0 + u * blockDim.x]; }
        else { a[u] = yr[p0 + u * blockDim.x]; b[u] = gr[p0 + u * blockDim.x]; }
      }
#pragma unroll
      for (int u = 0; u < U; ++u) if (p0 + u * blockDim.x < np) {
        float f[VEC<T>], g[VEC<T>]; unpack<T>(a[u], f); unpack<T>(b[u], g);
        P16 o; T* ot = reinterpret_cast<T*>(&o);
#pragma unroll
        for (int e = 0; e < VEC<T>; ++e) ot[e] = fromf<T>(f[e] * (g[e] - s));
        dr[p0 + u * blockDim.x] = o;
      }
    }
    if (SMEM) __syncthreads();
  }
}

// G: backward register-resident: y and dy held in K packs each per thread.
template <typename T, int K>
__global__ void __launch_bounds__(1024) bwd_reg(const T* y, const T* dy, T* dx, int64_t rows, int64_t n) {
  __shared__ float sc[64];
  const int64_t np = n / VEC<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const P16* yr = reinterpret_cast<const P16*>(y + r * n);
    const P16* gr = reinterpret_cast<const P16*>(dy + r * n);
    P16* dr = reinterpret_cast<P16*>(dx + r * n);
    P16 a[K], b[K];
#pragma unroll
    for (int k = 0; k < K; ++k) if (threadIdx.x + k * blockDim.x < np) { a[k] = yr[threadIdx.x + k * blockDim.x]; b[k] = gr[threadIdx.x + k * blockDim.x]; }
    float s = 0;
#pragma unroll
    for (int k = 0; k < K; ++k) if (threadIdx.x + k * blockDim.x < np) {
      float f[VEC<T>], g[VEC<T>]; unpack<T>(a[k], f); unpack<T>(b[k], g);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) s += f[e] * g[e];
    }
    s = breduce<false>(s, sc);
#pragma unroll
    for (int k = 0; k < K; ++k) if (threadIdx.x + k * blockDim.x < np) {
      float f[VEC<T>], g[VEC<T>]; unpack<T>(a[k], f); unpack<T>(b[k], g);
      P16 o; T* ot = reinterpret_cast<T*>(&o);
#pragma unroll
      for (int e = 0; e < VEC<T>; ++e) ot[e] = fromf<T>(f[e] * (g[e] - s));
      dr[threadIdx.x + k * blockDim.x] = o;
    }
  }
}

__global__ void copyk(const uint4* a, uint4* b, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) b[i] = a[i];
}

template <typename T>
__global__ void fill(T* x, int64_t total, unsigned seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    unsigned h = (unsigned)(i * 2654435761u) ^ seed;
    h ^= h >> 13; h *= 0x5bd1e995; h ^= h >> 15;
    x[i] = fromf<T>(((h & 0xffff) / 65536.f - 0.5f) * 8.f);
  }
}

int SMS;
int SMEM_MAX;  // dynamic shared memory a block may opt in to, less the kernels' static scratch
template <typename F>
float timeit(F f) {
  cudaEvent_t a, b; cudaEventCreate(&a); cudaEventCreate(&b);
  for (int i = 0; i < 3; ++i) f();
  CK(cudaDeviceSynchronize());
  const int it = 20;
  cudaEventRecord(a);
  for (int i = 0; i < it; ++i) f();
  cudaEventRecord(b); CK(cudaEventSynchronize(b));
  float ms; cudaEventElapsedTime(&ms, a, b);
  CK(cudaGetLastError());
  return ms / it;
}

template <typename K>
int occ(K k, int threads, size_t smem) {
  int b = 0; CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, k, threads, smem)); return b;
}

template <typename T>
void run(const char* tname, int64_t rows, int64_t n, float copy_gbs) {
  const int64_t total = rows * n;
  T *x, *y, *y2, *dy, *dx;
  CK(cudaMalloc(&x, total * sizeof(T))); CK(cudaMalloc(&y, total * sizeof(T))); CK(cudaMalloc(&y2, total * sizeof(T)));
  CK(cudaMalloc(&dy, total * sizeof(T))); CK(cudaMalloc(&dx, total * sizeof(T)));
  fill<<<1024, 256>>>(x, total, 1); fill<<<1024, 256>>>(dy, total, 2);
  const double fbytes = 2.0 * total * sizeof(T), bbytes = 3.0 * total * sizeof(T);
  auto rep = [&](const char* name, double bytes, float ms) {
    double gbs = bytes / ms / 1e6;
    printf("%-5s %7lldx%-7lld %-26s %8.3f ms %6.0f GB/s %4.0f%%\n", tname, (long long)rows, (long long)n, name, ms, gbs, 100 * gbs / copy_gbs);
  };
  // reference-ish check: online vs 3pass equal
  auto grid_for = [&](int blocks_per_sm) { return (unsigned)std::min<int64_t>(rows, (int64_t)SMS * blocks_per_sm); };
  for (int thr : {512, 1024}) {
    int o3 = occ(fwd_3pass<T, 4>, thr, 0);
    char nm[64];
    snprintf(nm, 64, "3pass U4 t%d occ%d", thr, o3);
    if (o3) rep(nm, fbytes, timeit([&] { fwd_3pass<T, 4><<<grid_for(o3), thr>>>(x, y, rows, n); }));
    int oo = occ(fwd_online<T, 4>, thr, 0);
    snprintf(nm, 64, "online U4 t%d occ%d", thr, oo);
    if (oo) rep(nm, fbytes, timeit([&] { fwd_online<T, 4><<<grid_for(oo), thr>>>(x, y2, rows, n); }));
  }
  // check online == 3pass
  {
    std::vector<T> h1(std::min<int64_t>(total, 1 << 20)), h2(h1.size());
    cudaMemcpy(h1.data(), y, h1.size() * sizeof(T), cudaMemcpyDeviceToHost);
    cudaMemcpy(h2.data(), y2, h2.size() * sizeof(T), cudaMemcpyDeviceToHost);
    double md = 0;
    for (size_t i = 0; i < h1.size(); ++i) md = fmax(md, fabs((double)(float)h1[i] - (double)(float)h2[i]));
    printf("      max |online - 3pass| = %.3g\n", md);
  }
  const size_t rowb = n * sizeof(T);
  {
    // the whole row staged where it fits, else as much of its head as the block may hold
    const int64_t cap = std::min<int64_t>(n / VEC<T>, SMEM_MAX / 16);
    const size_t sb = cap * 16;
    const char* what = cap * VEC<T> < n ? "part" : "row";
    CK(cudaFuncSetAttribute(fwd_smem<T, 4>, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_MAX));
    CK(cudaFuncSetAttribute(fwd_online_smem<T, 4>, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_MAX));
    for (int thr : {512, 1024}) {
      int os = occ(fwd_smem<T, 4>, thr, sb);
      char nm[64]; snprintf(nm, 64, "smem-%s U4 t%d occ%d", what, thr, os);
      if (os) rep(nm, fbytes, timeit([&] { fwd_smem<T, 4><<<grid_for(os), thr, sb>>>(x, y2, rows, n, cap); }));
      os = occ(fwd_online_smem<T, 4>, thr, sb);
      snprintf(nm, 64, "onl-smem-%s U4 t%d occ%d", what, thr, os);
      if (os) rep(nm, fbytes, timeit([&] { fwd_online_smem<T, 4><<<grid_for(os), thr, sb>>>(x, y2, rows, n, cap); }));
    }
  }
  const int64_t np = n / VEC<T>;
  if (np <= 1024 * 4) {
    int o = occ(fwd_reg<T, 4>, 1024, 0);
    char nm[64]; snprintf(nm, 64, "reg K4 t1024 occ%d", o);
    if (o) rep(nm, fbytes, timeit([&] { fwd_reg<T, 4><<<grid_for(o), 1024>>>(x, y2, rows, n); }));
  }
  if (np <= 512 * 8) {
    int o = occ(fwd_reg<T, 8>, 512, 0);
    char nm[64]; snprintf(nm, 64, "reg K8 t512 occ%d", o);
    if (o) rep(nm, fbytes, timeit([&] { fwd_reg<T, 8><<<grid_for(o), 512>>>(x, y2, rows, n); }));
  }
  if (np <= 1024 * 8) {
    int o = occ(fwd_reg<T, 8>, 1024, 0);
    char nm[64]; snprintf(nm, 64, "reg K8 t1024 occ%d", o);
    if (o) rep(nm, fbytes, timeit([&] { fwd_reg<T, 8><<<grid_for(o), 1024>>>(x, y2, rows, n); }));
  }
  if (np <= 1024 * 4) {
    int o = occ(bwd_reg<T, 4>, 1024, 0);
    char nm[64]; snprintf(nm, 64, "bwd reg K4 t1024 occ%d", o);
    if (o) rep(nm, bbytes, timeit([&] { bwd_reg<T, 4><<<grid_for(o), 1024>>>(y, dy, dx, rows, n); }));
  }
  for (int thr : {512, 1024}) {
    int o = occ(bwd<T, 4, false>, thr, 0);
    char nm[64]; snprintf(nm, 64, "bwd 2pass t%d occ%d", thr, o);
    if (o) rep(nm, bbytes, timeit([&] { bwd<T, 4, false><<<grid_for(o), thr>>>(y, dy, dx, rows, n); }));
    if (static_cast<int>(2 * rowb) <= SMEM_MAX) {
      CK(cudaFuncSetAttribute(bwd<T, 4, true>, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_MAX));
      int os = occ(bwd<T, 4, true>, thr, 2 * rowb);
      snprintf(nm, 64, "bwd smem t%d occ%d", thr, os);
      if (os) rep(nm, bbytes, timeit([&] { bwd<T, 4, true><<<grid_for(os), thr, 2 * rowb>>>(y, dy, dx, rows, n); }));
    }
  }
  cudaFree(x); cudaFree(y); cudaFree(y2); cudaFree(dy); cudaFree(dx);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  CK(cudaDeviceGetAttribute(&SMS, cudaDevAttrMultiProcessorCount, 0));
  CK(cudaDeviceGetAttribute(&SMEM_MAX, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
  SMEM_MAX -= 1024;
  cudaDeviceProp p; cudaGetDeviceProperties(&p, 0);
  printf("%s, %d SMs, L2 %d MB\n", p.name, SMS, p.l2CacheSize >> 20);
  const int64_t cb = 512ll << 20;
  uint4 *a, *b; CK(cudaMalloc(&a, cb)); CK(cudaMalloc(&b, cb));
  float ms = timeit([&] { copyk<<<SMS * 8, 512>>>(a, b, cb / 16); });
  float copy = 2.0 * cb / ms / 1e6;
  printf("copy %.0f GB/s\n", copy);
  cudaFree(a); cudaFree(b);
  run<__nv_bfloat16>("bf16", 4096, 32000, copy);
  run<float>("fp32", 4096, 32000, copy);
  run<__nv_bfloat16>("bf16", 1024, 128256, copy);
  run<float>("fp32", 16, 262144, copy);
  run<__nv_bfloat16>("bf16", 4096, 65536, copy);
  run<__nv_bfloat16>("bf16", 8192, 16384, copy);
  return 0;
}
