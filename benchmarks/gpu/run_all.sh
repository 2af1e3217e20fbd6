#!/usr/bin/env bash
# GPU validation in one call, on a machine with a GPU, torch and pytest (no Prolog, no generator needed):
#   1. build generated_ops/ with its CUDA sources,
#   2. run the whole generated test suite (CPU and CUDA cases, CUDA-only tests),
#   3. run the GPU benchmarks (benchmarks/gpu/bench_gpu.py, benchmarks/gpu/bench_optim.py: $OUT/optim.json),
#      then the generated benchmark suite on CUDA
#      (the generated harness: CUDA events, copy ceiling; $OUT/harness.json, rendered here by
#      `grimoire bench --from-json`),
#   4. write report.md (benchmarks/gpu/report.py) and print the short tables last.
# Everything lands in $OUT (default: benchmarks/gpu/out): env.txt, build.log, tests.log, junit.xml,
# bench.log, bench.json, optim.log, optim.json, report.md. Exit status: non-zero when the build or any test failed.
#   benchmarks/gpu/run_all.sh [--no-tests] [--no-bench]
# TEST_SELECT / BENCH_SELECT: pytest -k expressions narrowing the tests / the harness benchmarks.
# LEGACY_BENCH=0 skips bench_gpu.py. A prebuilt generated_ops/_lib/ (benchmarks/gpu/prebuild.sh) skips the build.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-benchmarks/gpu/out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 MAX_JOBS=${MAX_JOBS:-16} GRIMOIRE_WITH_CUDA=1
run_tests=1 run_bench=1
for a in "$@"; do
  case $a in --no-tests) run_tests=0 ;; --no-bench) run_bench=0 ;; *) echo "unknown option $a"; exit 2 ;; esac
done

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  $PY -c "import sys, torch, triton; print('python', sys.version.split()[0], '| torch', torch.__version__, '| CUDA', torch.version.cuda, '| triton', triton.__version__)"
  nvcc --version | tail -2
  echo "CXX=${CXX:-c++} CC=${CC:-cc} TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-}"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

start=$(date +%s)
if [ -f generated_ops/_lib/generated_ops_C.so ]; then
  # A library built elsewhere against this machine's torch (generated_ops/_lib, as a wheel ships it): the
  # package loads it instead of compiling (_build.shipped_library checks the torch version).
  echo "prebuilt library: generated_ops/_lib (built with $(cat generated_ops/_lib/built_with.json))" > "$OUT/build.log"
  if ! $PY -c "import generated_ops; print('loaded', generated_ops._build.load_library())" >> "$OUT/build.log" 2>&1; then
    echo "the prebuilt library does not load here: building instead" | tee -a "$OUT/build.log"
    tail -5 "$OUT/build.log"
    rm -rf generated_ops/_lib
    $PY generated_ops/_build.py --verbose >> "$OUT/build.log" 2>&1
  fi
else
  $PY generated_ops/_build.py --verbose > "$OUT/build.log" 2>&1
fi
build_rc=$?
echo "$(( $(date +%s) - start )) s (exit $build_rc)" > "$OUT/build_time.txt"
echo "build: $(cat "$OUT/build_time.txt")"
if [ $build_rc -ne 0 ]; then grep -E "error" "$OUT/build.log" | head -30; tail -20 "$OUT/build.log"; exit 1; fi

test_rc=0
if [ $run_tests = 1 ]; then
  start=$(date +%s)
  timeout "${TEST_TIMEOUT:-300}" $PY -m pytest generated_ops/tests -q -rs -p no:cacheprovider --junitxml="$OUT/junit.xml" \
    ${TEST_SELECT:+-k "$TEST_SELECT"} ${TEST_ARGS:-} > "$OUT/tests.log" 2>&1
  test_rc=$?
  echo "tests: exit $test_rc in $(( $(date +%s) - start )) s"
  grep -E "^(FAILED|ERROR)" "$OUT/tests.log" | head -30
  tail -3 "$OUT/tests.log"
fi

if [ $run_bench = 1 ]; then
  start=$(date +%s)
  if [ "${LEGACY_BENCH:-1}" = 1 ]; then
    timeout "${BENCH_TIMEOUT:-200}" $PY benchmarks/gpu/bench_gpu.py --json "$OUT/bench.json" > "$OUT/bench.log" 2>&1
    echo "bench: exit $? in $(( $(date +%s) - start )) s"
    tail -25 "$OUT/bench.log"
  fi
  if [ "${OPTIM_BENCH:-1}" = 1 ]; then
    start=$(date +%s)
    timeout "${OPTIM_TIMEOUT:-400}" $PY benchmarks/gpu/bench_optim.py --json "$OUT/optim.json" > "$OUT/optim.log" 2>&1
    echo "optimizer bench: exit $? in $(( $(date +%s) - start )) s"
    tail -60 "$OUT/optim.log"
  fi
  start=$(date +%s)
  GRIMOIRE_BENCH_DEVICE=cuda timeout "${HARNESS_TIMEOUT:-240}" $PY -m pytest generated_ops/benchmarks -q -p no:cacheprovider \
    --benchmark-only -o python_files='bench_*.py' --benchmark-json="$OUT/harness.json" \
    ${BENCH_SELECT:+-k "$BENCH_SELECT"} > "$OUT/harness.log" 2>&1
  echo "harness benchmarks: exit $? in $(( $(date +%s) - start )) s"
  tail -3 "$OUT/harness.log"
fi

$PY benchmarks/gpu/report.py "$OUT" > "$OUT/report.md" 2> "$OUT/report.err" || cat "$OUT/report.err"
rm -f "$OUT/build_time.txt" "$OUT/report.err"
echo
sed -n '/^## Generated tests/,/^## Benchmarks/p' "$OUT/report.md" | head -40
sed -n '/^\(Targets:\|## Targets on\)/,$p' "$OUT/report.md"
[ $test_rc -eq 0 ]
