// grimoire runtime library: grimoire_cublaslt.cuh.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// cuBLASLt matmul with a fused epilogue for row-major tensors, as the gemm ops call it: the handle
// is torch's (at::cuda::getCurrentCUDABlasLtHandle), the workspace comes from torch's caching
// allocator, and everything runs on the given stream, so a call is CUDA-graph capturable.
//
// Row-major D[M, N] = A[M, K] @ op(B) is column-major D^T[N, M] = op(B)^T A^T: cuBLASLt sees m = N,
// n = M, k = K, its first operand is B (transposed when B is [N, K], a Linear weight) and its
// second A. The bias epilogues add a vector of length m = N per column of D^T, i.e. per row of D:
// the Linear bias.
#pragma once

#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>
#include <cublasLt.h>

#include <cstdint>

namespace grimoire {
namespace cublaslt {

enum class Epilogue { Default, Bias, Relu, ReluBias, Gelu, GeluBias, GeluAux, GeluAuxBias };

inline cublasLtEpilogue_t to_cublas(Epilogue e) {
  switch (e) {
    case Epilogue::Bias:
      return CUBLASLT_EPILOGUE_BIAS;
    case Epilogue::Relu:
      return CUBLASLT_EPILOGUE_RELU;
    case Epilogue::ReluBias:
      return CUBLASLT_EPILOGUE_RELU_BIAS;
    case Epilogue::Gelu:
      return CUBLASLT_EPILOGUE_GELU;
    case Epilogue::GeluBias:
      return CUBLASLT_EPILOGUE_GELU_BIAS;
    case Epilogue::GeluAux:
      return CUBLASLT_EPILOGUE_GELU_AUX;
    case Epilogue::GeluAuxBias:
      return CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    default:
      return CUBLASLT_EPILOGUE_DEFAULT;
  }
}

inline void check(cublasStatus_t status, const char* what) {
  TORCH_CHECK(status == CUBLAS_STATUS_SUCCESS, "cuBLASLt ", what, " failed with status ",
              static_cast<int>(status));
}

// The largest power of two up to 256 dividing the address: what cuBLASLt may assume of a buffer.
inline uint32_t alignment(const void* p) {
  uint32_t a = 256;
  while (a > 1 && reinterpret_cast<uintptr_t>(p) % a != 0) {
    a >>= 1;
  }
  return a;
}

// Owns the descriptors of one call.
struct Descriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~Descriptors() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

constexpr size_t kWorkspaceBytes = size_t(32) << 20;

// D = epilogue(A @ op(B) + bias), all row-major: A [M, K] (row stride lda), B [N, K] when b_nk else
// [K, N] (row stride ldb), D [M, N] (row stride ldd); bias [N] of D's dtype or nullptr; aux [M, N]
// (row stride ldd) receives the pre-activation for the GELU_AUX epilogues. float32 runs in TF32
// when torch allows it (torch.backends.cuda.matmul.allow_tf32). Returns false, having launched
// nothing, when cuBLASLt offers no algorithm for the call: the caller then takes another path.
inline bool matmul(at::ScalarType dtype, const void* A, int64_t lda, const void* B, int64_t ldb,
                   bool b_nk, const void* bias, void* D, int64_t ldd, void* aux, int64_t M,
                   int64_t N, int64_t K, Epilogue epilogue, const at::TensorOptions& options,
                   cudaStream_t stream) {
  cudaDataType_t type;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  switch (dtype) {
    case at::kFloat:
      type = CUDA_R_32F;
      if (at::globalContext().allowTF32CuBLAS()) {
        compute = CUBLAS_COMPUTE_32F_FAST_TF32;
      }
      break;
    case at::kHalf:
      type = CUDA_R_16F;
      break;
    case at::kBFloat16:
      type = CUDA_R_16BF;
      break;
    default:
      return false;
  }
  Descriptors desc;
  check(cublasLtMatmulDescCreate(&desc.op, compute, CUDA_R_32F), "MatmulDescCreate");
  // cuBLASLt's first operand is B: transposed when B is [N, K] (column-major K x N).
  const cublasOperation_t transa = b_nk ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t transb = CUBLAS_OP_N;
  check(
      cublasLtMatmulDescSetAttribute(desc.op, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof(transa)),
      "TRANSA");
  check(
      cublasLtMatmulDescSetAttribute(desc.op, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof(transb)),
      "TRANSB");
  const cublasLtEpilogue_t epi = to_cublas(epilogue);
  check(cublasLtMatmulDescSetAttribute(desc.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)),
        "EPILOGUE");
  if (bias != nullptr) {
    check(cublasLtMatmulDescSetAttribute(desc.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                         sizeof(bias)),
          "BIAS_POINTER");
  }
  if (aux != nullptr) {
    check(cublasLtMatmulDescSetAttribute(desc.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux,
                                         sizeof(aux)),
          "EPILOGUE_AUX_POINTER");
    const int64_t aux_ld = ldd;
    check(cublasLtMatmulDescSetAttribute(desc.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &aux_ld,
                                         sizeof(aux_ld)),
          "EPILOGUE_AUX_LD");
  }
  // Column-major layouts of what is stored: B as K x N (b_nk) or N x K, A as K x M, D as N x M.
  check(cublasLtMatrixLayoutCreate(&desc.a, type, b_nk ? K : N, b_nk ? N : K, ldb), "layout of B");
  check(cublasLtMatrixLayoutCreate(&desc.b, type, K, M, lda), "layout of A");
  check(cublasLtMatrixLayoutCreate(&desc.d, type, N, M, ldd), "layout of D");

  check(cublasLtMatmulPreferenceCreate(&desc.pref), "MatmulPreferenceCreate");
  const uint64_t ws_bytes = kWorkspaceBytes;
  check(cublasLtMatmulPreferenceSetAttribute(desc.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                             &ws_bytes, sizeof(ws_bytes)),
        "MAX_WORKSPACE_BYTES");
  const uint32_t align_a = alignment(B), align_b = alignment(A), align_d = alignment(D);
  check(cublasLtMatmulPreferenceSetAttribute(desc.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                             &align_a, sizeof(align_a)),
        "MIN_ALIGNMENT_A_BYTES");
  check(cublasLtMatmulPreferenceSetAttribute(desc.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                             &align_b, sizeof(align_b)),
        "MIN_ALIGNMENT_B_BYTES");
  check(cublasLtMatmulPreferenceSetAttribute(desc.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                             &align_d, sizeof(align_d)),
        "MIN_ALIGNMENT_C_BYTES");
  check(cublasLtMatmulPreferenceSetAttribute(desc.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                             &align_d, sizeof(align_d)),
        "MIN_ALIGNMENT_D_BYTES");

  cublasLtHandle_t handle = at::cuda::getCurrentCUDABlasLtHandle();
  cublasLtMatmulHeuristicResult_t heuristic = {};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle, desc.op, desc.a, desc.b, desc.d, desc.d, desc.pref, 1, &heuristic, &found);
  if (status != CUBLAS_STATUS_SUCCESS || found == 0) {
    return false;  // e.g. an epilogue this shape or alignment cannot have
  }
  const at::Tensor workspace =
      at::empty({static_cast<int64_t>(kWorkspaceBytes)}, options.dtype(at::kByte));
  const float alpha = 1.0f, beta = 0.0f;
  check(cublasLtMatmul(handle, desc.op, &alpha, B, desc.a, A, desc.b, &beta, D, desc.d, D, desc.d,
                       &heuristic.algo, workspace.data_ptr(), kWorkspaceBytes, stream),
        "Matmul");
  return true;
}

}  // namespace cublaslt
}  // namespace grimoire
