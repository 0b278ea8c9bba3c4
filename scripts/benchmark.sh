#!/usr/bin/env bash
# Build (Release) and run the F' kernel benchmarks. Extra arguments go to Google Benchmark,
# e.g. scripts/benchmark.sh --benchmark_filter=relu_p100 --benchmark_repetitions=5
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2 --target bench_kernel bench_pde bench_particles

build/tests/benchmarks/bench_kernel --benchmark_counters_tabular=true "$@"
build/tests/benchmarks/bench_pde --benchmark_counters_tabular=true "$@"
build/tests/benchmarks/bench_particles --benchmark_counters_tabular=true "$@"

echo "How to read it: Time = wall-clock ms per call at m = 10^4 particles (full = evaluate +" \
  "first_variation); GFLOP/s follows the flop model at the top of tests/benchmarks/bench_kernel.cc;" \
  "relu_p100 full should be close to dgemm_only (its 3 raw matrix products); the 'Library was built" \
  "as DEBUG' warning is about Debian's libbenchmark, not MeanField."
echo "bench_pde: step_* is one SSP-RK2 step of the finite-volume solver (cell-updates/s = 2 stages" \
  "x cells / time); kernel_* is one kernel evaluation (f, then F' and grad F' at the cell centres)."
