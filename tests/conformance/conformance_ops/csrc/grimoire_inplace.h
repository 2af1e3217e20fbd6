// grimoire runtime library: grimoire_inplace.h.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// The ADInplaceOrView kernel of the ops that write their inputs (the optimizer steps): after the
// kernel ran, the version counter of every tensor the schema marks written (Tensor(a!), Tensor(a!)[])
// is bumped, as torch's in-place ops do. A graph that saved such a tensor before the call then
// raises "modified by an inplace operation" in its backward instead of reading the new values.
// (torch's autogradNotImplementedInplaceOrViewFallback skips tensor lists.)
#pragma once

#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
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

inline void bump_written_versions(const c10::OperatorHandle& op, c10::DispatchKeySet keys, torch::jit::Stack* stack) {
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

}  // namespace grimoire
