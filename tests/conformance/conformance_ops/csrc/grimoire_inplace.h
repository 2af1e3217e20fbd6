// grimoire runtime library: grimoire_inplace.h.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// The ADInplaceOrView kernel of the ops that write their inputs (the optimizer steps): after the
// kernel ran, the version counter of every tensor the schema marks written (Tensor(a!),
// Tensor(a!)[]) is bumped, as torch's in-place ops do. A graph that saved such a tensor before the
// call then raises "modified by an inplace operation" in its backward instead of reading the new
// values. (torch's autogradNotImplementedInplaceOrViewFallback skips tensor lists.) And the
// Autograd kernel of the out= ops, which refuses arguments that require grad as torch's out=
// functions do, and their check of the caller's tensor.
#pragma once
#include "grimoire_checks.h"

#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <c10/core/GradMode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/library.h>

#include <vector>

namespace grimoire {

inline bool writes(const c10::Argument& arg) {
  const c10::AliasInfo* alias = arg.alias_info();
  if (alias == nullptr) {
    return false;
  }
  if (alias->isWrite()) {
    return true;
  }
  for (const c10::AliasInfo& inner : alias->containedTypes()) {  // Tensor(a!)[]: on the elements
    if (inner.isWrite()) {
      return true;
    }
  }
  return false;
}

inline void bump_written_versions(const c10::OperatorHandle& op, c10::DispatchKeySet keys,
                                  torch::jit::Stack* stack) {
  const auto& args = op.schema().arguments();
  const size_t first = stack->size() - args.size();
  std::vector<at::Tensor> written;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!writes(args[i])) {
      continue;
    }
    const c10::IValue& value = (*stack)[first + i];
    if (value.isTensor()) {
      written.push_back(value.toTensor());
    } else if (value.isTensorList()) {
      for (const at::Tensor& t : value.toTensorList()) {
        written.push_back(t);
      }
    }
  }
  {
    at::AutoDispatchBelowADInplaceOrView below;
    op.redispatchBoxed(keys & c10::after_ADInplaceOrView_keyset, stack);
  }
  for (const at::Tensor& t : written) {
    if (t.defined()) {
      torch::autograd::impl::bump_version(t);
    }
  }
}

// out= : the caller's tensor has exactly the result's shape, dtype and device. It is not resized:
// the fake kernel and torch.compile's functionalization take a mutated argument's metadata as it
// is. An op's in-place form, op_(x, ...), is op_out with out=x: given its name (`inplace`), a call
// whose out is `ref` itself (the first input) is told in the caller's terms, op_ and x, not op_out
// and out.
inline void check_out(const char* op, const at::Tensor& out, at::IntArrayRef shape,
                      at::ScalarType dtype, const at::Tensor& ref, const char* ref_name,
                      const char* inplace = nullptr) {
  if (inplace != nullptr && out.is_same(ref)) {
    TORCH_CHECK(out.sizes() == shape, inplace, ": ", ref_name, " has shape ", out.sizes(),
                " but the result has shape ", shape, "; in place, ", ref_name,
                " is written and not resized: the other inputs must broadcast to its "
                "shape.");
    TORCH_CHECK(out.scalar_type() == dtype, inplace, ": ", ref_name, " has dtype ",
                out.scalar_type(), " but the result has dtype ", dtype,
                "; in place, the result must have ", ref_name, "'s dtype.");
    return;  // out is ref: on its device
  }
  TORCH_CHECK(out.sizes() == shape, op, ": out has shape ", out.sizes(),
              " but the result has shape ", shape,
              "; pass a tensor of the result's shape (out= tensors are not resized).");
  TORCH_CHECK(out.scalar_type() == dtype, op, ": out has dtype ", out.scalar_type(),
              " but the result has dtype ", dtype, "; pass a tensor of the result's dtype.");
  check_same_device(op, "out", out, ref_name, ref);
}

// The Autograd kernel of an out= op: torch's out= functions are not differentiable, and say so when
// an argument requires grad (instead of a result detached from the graph); otherwise straight below
// autograd.
inline void refuse_autograd_of_out(const c10::OperatorHandle& op, c10::DispatchKeySet keys,
                                   torch::jit::Stack* stack) {
  const size_t n = op.schema().arguments().size();
  if (c10::GradMode::is_enabled()) {
    for (size_t i = stack->size() - n; i < stack->size(); ++i) {
      const c10::IValue& value = (*stack)[i];
      TORCH_CHECK(
          !(value.isTensor() && value.toTensor().defined() && value.toTensor().requires_grad()),
          op.schema().name(),
          ": functions with out=... arguments don't support automatic differentiation, "
          "but one of the arguments requires grad; call it under torch.no_grad() or without out=.");
    }
  }
  op.redispatchBoxed(keys & c10::after_autograd_keyset, stack);
}

}  // namespace grimoire
