#!/usr/bin/env bash
# Usage: scripts/test.sh [ctest options...]
# Installs what is missing, builds MeanField (Release) and runs the whole ctest suite,
# MPI tests (mpirun -np 2) included.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bootstrap.sh"

echo "== running the test suite"
# (a default per-test timeout: a hanging test fails instead of stalling the suite)
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 900 -j "$JOBS" "$@"
