#!/usr/bin/env bash
# Build generated_ops on this machine for the GPU machine: against the torch that machine runs (TORCH_VENV:
# a venv holding exactly that build, e.g. torch==2.11.0+cu130 from PyPI) and CUDA_HOME's nvcc, for
# TORCH_CUDA_ARCH_LIST (default 9.0), with AVX2 CPU kernels (the lowest the x86-64 machines there have), into
# generated_ops/_lib/ — where the package loads a prebuilt library from, as a wheel ships it
# (_build.shipped_library checks the torch version). The GPU machine's time then goes to tests and
# benchmarks, not compilation: `benchmarks/gpu/run_all.sh` sees _lib/ and skips the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${TORCH_VENV:?set TORCH_VENV to a venv with the GPU machine\'s torch}/bin/python
BUILD=${BUILD_DIR:-/tmp/grimoire-prebuild}
start=$(date +%s)
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda} TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} GRIMOIRE_WITH_CUDA=1 \
  GRIMOIRE_CPU_CAPABILITY=${GRIMOIRE_CPU_CAPABILITY:-avx2} GENERATED_OPS_BUILD_DIR=$BUILD MAX_JOBS=${MAX_JOBS:-2} \
  "$PY" generated_ops/_build.py
mkdir -p generated_ops/_lib
cp "$BUILD/generated_ops_C.so" generated_ops/_lib/
"$PY" -c "import json, importlib.metadata as m; print(json.dumps({'torch': m.version('torch')}))" > generated_ops/_lib/built_with.json
echo "generated_ops/_lib/generated_ops_C.so for torch $(cat generated_ops/_lib/built_with.json), $(( $(date +%s) - start )) s, $(du -h generated_ops/_lib/generated_ops_C.so | cut -f1)"
