#!/usr/bin/env bash
# Shared first half of scripts/run.sh and scripts/test.sh: install the Debian packages
# MeanField needs (only those missing), then configure and build Release into build/.
# Idempotent: a second call installs nothing and rebuilds only what changed.
set -euo pipefail

MEANFIELD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MEANFIELD_ROOT
BUILD_DIR="${MEANFIELD_BUILD_DIR:-$MEANFIELD_ROOT/build}"
export BUILD_DIR

# Open MPI refuses to start as root unless told; containers and CI run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

PACKAGES=(
  cmake g++ make                     # toolchain
  libdeal.ii-dev                     # deal.II 9.4 with p4est, PETSc, MPI, TBB, Boost
  openmpi-bin                        # mpirun, for the MPI tests
  libvtk9-dev                        # VTK 9.1: reading our .vtu/.pvd back in tests
  libboost-program-options-dev       # the command line
  libgtest-dev libbenchmark-dev      # tests and benchmarks
  libopenblas-dev                    # fast BLAS (the default reference BLAS is ~8x slower)
  python3-numpy python3-matplotlib   # postprocess/ plots (Debian's /usr/bin/python3)
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

JOBS="$(nproc 2>/dev/null || echo 2)"
echo "== configuring (Release) in $BUILD_DIR"
mkdir -p "$BUILD_DIR"
cmake -S "$MEANFIELD_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release > "$BUILD_DIR/configure.log" 2>&1 ||
  { cat "$BUILD_DIR/configure.log"; exit 1; }
echo "== building with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"
