// grimoire runtime library: grimoire_checks.h.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// Argument checks every generated kernel shares, CPU and CUDA alike (host code only): each failure
// is a RuntimeError naming the op, the argument and what to do.
#pragma once

#include <ATen/Dispatch_v2.h>  // the generated sources dispatch on dtype with AT_DISPATCH_V2
#include <ATen/MemoryOverlap.h>
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace grimoire {

// Whether ops with index inputs check their index values (registration.cpp;
// generated_ops.index_checks).
bool index_checks();

// torch's Python name of a dtype (torch.float32, torch.int64, ...), for messages that say what to
// write.
inline const char* python_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return "float32";
    case at::kDouble:
      return "float64";
    case at::kHalf:
      return "float16";
    case at::kBFloat16:
      return "bfloat16";
    case at::kLong:
      return "int64";
    case at::kInt:
      return "int32";
    case at::kShort:
      return "int16";
    case at::kChar:
      return "int8";
    case at::kByte:
      return "uint8";
    case at::kBool:
      return "bool";
    case at::kComplexFloat:
      return "complex64";
    case at::kComplexDouble:
      return "complex128";
    default:
      return c10::toString(t);
  }
}

inline void check_dtype(const char* op, const char* what, at::ScalarType dtype,
                        std::initializer_list<at::ScalarType> allowed, const char* allowed_names) {
  // The conversion suggested is to a dtype the op takes: the first one it lists.
  TORCH_CHECK(std::find(allowed.begin(), allowed.end(), dtype) != allowed.end(), op, ": ", what,
              " has dtype ", python_dtype(dtype),
              ", which is not supported; supported dtypes: ", allowed_names,
              ". Convert it first, e.g. with .to(torch.", python_dtype(*allowed.begin()), ").");
}

inline void check_same_device(const char* op, const char* name, const at::Tensor& t,
                              const char* ref_name, const at::Tensor& ref) {
  TORCH_CHECK(t.device() == ref.device(), op, ": ", name, " is on ", t.device(), " but ", ref_name,
              " is on ", ref.device(), "; move all inputs to one device.");
}

inline void check_same_dtype(const char* op, const char* name, const at::Tensor& t,
                             const char* ref_name, const at::Tensor& ref) {
  TORCH_CHECK(t.scalar_type() == ref.scalar_type(), op, ": ", name, " has dtype ", t.scalar_type(),
              " but ", ref_name, " has dtype ", ref.scalar_type(), "; give all inputs one dtype.");
}

// One tensor of a multi-tensor call (an optimizer step), for check_no_aliasing.
struct Extent {
  uintptr_t begin;   // the address of its first element
  uintptr_t end;     // one past the last byte of its last element
  bool written;      // updated in place by the call
  const char* list;  // the argument it came in, e.g. "exp_avgs"
  size_t index;
  const at::Tensor* tensor;
};

// Where a tensor's elements lie; nothing for an empty tensor (it has no memory to share).
inline void add_extent(std::vector<Extent>& out, const at::Tensor& t, const char* list,
                       size_t index, bool written) {
  if (t.numel() == 0) {
    return;
  }
  int64_t last = 0;  // offset of the last element, in elements (torch strides are never negative)
  for (int64_t d = 0; d < t.dim(); ++d) {
    last += (t.size(d) - 1) * t.stride(d);
  }
  const auto begin = reinterpret_cast<uintptr_t>(t.data_ptr());
  out.push_back({begin, begin + static_cast<uintptr_t>((last + 1) * t.element_size()), written,
                 list, index, &t});
}

// No tensor the call writes shares memory with another tensor of the call (read-only ones may share
// with each other): every element is read once and written once, so an alias would be updated twice
// or read after it was written. One sort of the extents; a pair whose address ranges overlap is
// confirmed with at::get_overlap_status (strided views that only interleave count as sharing:
// TooHard).
inline void check_no_aliasing(const char* op, std::vector<Extent>& extents) {
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
  const Extent* reach_any = nullptr;      // of the extents so far, the one reaching furthest
  const Extent* reach_written = nullptr;  // the same among the written ones
  for (const Extent& e : extents) {
    // Any earlier extent overlapping e ends after e.begin, so the one reaching furthest does too.
    for (const Extent* other : {e.written ? reach_any : nullptr, reach_written}) {
      if (other != nullptr && e.begin < other->end &&
          at::get_overlap_status(*e.tensor, *other->tensor) != at::MemOverlapStatus::No) {
        const Extent& w = other->written ? *other : e;
        const Extent& r = other->written ? e : *other;
        TORCH_CHECK(false, op, ": ", w.list, "[", w.index, "] and ", r.list, "[", r.index,
                    "] share memory, and ", w.list, "[", w.index,
                    "] is updated in place; give every tensor of ",
                    "the call its own memory (pass a copy, .clone()).");
      }
    }
    if (reach_any == nullptr || e.end > reach_any->end) {
      reach_any = &e;
    }
    if (e.written && (reach_written == nullptr || e.end > reach_written->end)) {
      reach_written = &e;
    }
  }
}

}  // namespace grimoire
