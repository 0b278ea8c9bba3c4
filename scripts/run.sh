#!/usr/bin/env bash
# Usage: scripts/run.sh [file.prm] [meanfield options...]
# Installs what is missing, builds MeanField (Release) and runs a parameter file
# (default: parameter_files/default.prm). Set MEANFIELD_NP=2 to run on 2 MPI ranks.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bootstrap.sh"

PRM="${1:-$MEANFIELD_ROOT/parameter_files/default.prm}"
shift || true
cd "$MEANFIELD_ROOT"
echo "== running $PRM"
LOG="$BUILD_DIR/last_run.log"
if [ "${MEANFIELD_NP:-1}" -gt 1 ]; then
  mpirun --oversubscribe -np "$MEANFIELD_NP" "$BUILD_DIR/meanfield" "$PRM" "$@" | tee "$LOG"
else
  "$BUILD_DIR/meanfield" "$PRM" "$@" | tee "$LOG"
fi

# Where the results are: meanfield names its output directory on its last lines.
OUTPUT=$(sed -n 's/^Output directory: //p' "$LOG" | tail -1)
echo
echo "== results in $OUTPUT:"
# The figures of the run's tables (Debian's python3 with numpy and matplotlib).
if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  for pair in comparison:plot_comparison study:plot_convergence paper:plot_paper \
              trajectories:plot_trajectories; do
    if [ -f "$OUTPUT/${pair%%:*}" ]; then
      /usr/bin/python3 "$MEANFIELD_ROOT/postprocess/${pair##*:}.py" "$OUTPUT" > /dev/null
    fi
  done
fi
ls -1 "$OUTPUT" | sed 's/^/     /'
pvd=$(ls "$OUTPUT"/*.pvd 2>/dev/null || true)
if [ -n "$pvd" ]; then echo "   ParaView: paraview $pvd"; fi
png=$(ls "$OUTPUT"/*.png 2>/dev/null || true)
if [ -n "$png" ]; then echo "   plots: $png"; fi
