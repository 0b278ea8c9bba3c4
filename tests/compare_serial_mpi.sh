#!/usr/bin/env bash
# Usage: compare_serial_mpi.sh <meanfield> "<mpiexec -np 2>" <file.prm> <work-dir> [table
#        [more meanfield arguments, e.g. --set ...]]
# Runs the parameter file serially and on 2 MPI ranks and compares the two tables (default:
# statistics) column by column to a relative 1e-12 (the last column, a wall time, is skipped).
# The absolute floor is 1e-12 too: on two ranks f = sum_j w_j phi(theta_j, x_k) is summed in
# another order (relative n u ~ 1e-14), and over a run's steps the positions of size ~1 drift by
# ~1e-13. A distance between two measures (MMD, sliced W2, ~0.02) moves by that drift, not by a
# relative 1e-12 of itself. A partition bug moves an O(1) quantity by O(1).
set -euo pipefail
meanfield=$1
mpiexec=$2
prm=$3
work=$4
table=${5:-statistics}
shift $(($# < 5 ? $# : 5))
rm -rf "$work"
"$meanfield" "$prm" "$@" --set "Output/Directory=$work/serial" > /dev/null
$mpiexec "$meanfield" "$prm" "$@" --set "Output/Directory=$work/np2" > /dev/null
paste -d '\n' <(grep -v '^#' "$work/serial/$table") <(grep -v '^#' "$work/np2/$table") |
  awk 'NR % 2 == 1 { n = split($0, a, " "); next }
       { m = split($0, b, " ");
         if (m != n) { print "FAIL: rows differ in length"; bad = 1; next }
         for (i = 1; i < n; ++i) {
           if (a[i] == "nan" && b[i] == "nan") continue;
           d = a[i] - b[i]; if (d < 0) d = -d;
           s = (a[i] < 0 ? -a[i] : a[i]); if (s < 1e-300) s = 1e-300;
           if (d > 1e-12 * s && d > 1e-12) { printf "FAIL: row %d column %d: %s vs %s\n", NR / 2, i, a[i], b[i]; bad = 1 }
         } ++rows }
       END { if (bad || rows == 0) exit 1; printf "OK: %d rows agree to 1e-12\n", rows }'
