#!/usr/bin/env bash
# GPU validation and benchmarks in one call, on a machine with a GPU, torch, Triton, pytest and
# pytest-benchmark (no Prolog, no generator needed):
#   1. build generated_ops/ with its CUDA sources (or load a prebuilt generated_ops/_lib/, see prebuild.sh),
#   2. run the whole generated test suite (CPU and CUDA cases, CUDA-only tests),
#   3. run the generated benchmark suite on CUDA, the one timer (generated_ops/benchmarks: CUDA events,
#      copy and matmul ceilings, peak memory, Liger-Kernel where it imports): $OUT/harness.json,
#   4. render it with grimoire's report writer (`grimoire bench --from-json`, or
#      `python -m grimoire.report` where grimoire is not installed): $OUT/report/report.md.
# Everything lands in $OUT (default: benchmarks/gpu/out): env.txt, build.log, tests.log, junit.xml,
# harness.log, harness.json, report/. Exit status: non-zero when the build, a test or the benchmarks failed.
#   benchmarks/gpu/run_all.sh [--no-tests] [--no-bench]
# TEST_SELECT / BENCH_SELECT: pytest -k expressions narrowing the tests / the benchmarks.
# BENCH_DTYPES (default float32,bfloat16): the dtypes timed (GRIMOIRE_BENCH_DTYPES).
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
  $PY -c "import liger_kernel, importlib.metadata as m; print('liger-kernel', m.version('liger-kernel'))" 2>/dev/null \
    || echo "liger-kernel: not installed (the benchmarks leave it out)"
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
echo "build: $(( $(date +%s) - start )) s (exit $build_rc)"
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

bench_rc=0
if [ $run_bench = 1 ]; then
  start=$(date +%s)
  GRIMOIRE_BENCH_DEVICE=cuda GRIMOIRE_BENCH_DTYPES=${BENCH_DTYPES:-float32,bfloat16} \
  GRIMOIRE_BENCH_COMMAND="benchmarks/gpu/run_all.sh${BENCH_SELECT:+ (BENCH_SELECT=$BENCH_SELECT)}" \
    timeout "${HARNESS_TIMEOUT:-1200}" $PY -m pytest generated_ops/benchmarks -q -p no:cacheprovider \
    --benchmark-only -o python_files='bench_*.py' --benchmark-json="$OUT/harness.json" \
    --benchmark-columns=median,iqr,rounds --benchmark-sort=name --benchmark-min-rounds=10 \
    ${BENCH_SELECT:+-k "$BENCH_SELECT"} > "$OUT/harness.log" 2>&1
  bench_rc=$?
  echo "benchmarks: exit $bench_rc in $(( $(date +%s) - start )) s"
  grep -E "^(FAILED|ERROR)|^library peer" "$OUT/harness.log" | head -20
  tail -3 "$OUT/harness.log"
  if [ -s "$OUT/harness.json" ]; then
    # The one report writer, grimoire/report.py: through the CLI where grimoire is installed, else
    # directly (it needs neither Prolog nor the generator).
    if command -v grimoire > /dev/null; then
      grimoire bench --from-json "$OUT/harness.json" --out "$OUT/report"
    else
      $PY -m grimoire.report "$OUT/harness.json" "$OUT/report"
    fi
    sed -n '/^## Performance bars/,/^## /p' "$OUT/report/report.md" | head -12
  fi
fi
[ $build_rc -eq 0 ] && [ $test_rc -eq 0 ] && [ $bench_rc -eq 0 ]
