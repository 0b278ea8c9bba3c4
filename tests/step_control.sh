#!/usr/bin/env bash
# Usage: step_control.sh <meanfield> <source dir> <work dir>
# Particles/Step control = backtracking is honoured by every run mode that steps particles
# (issue 11): compare steps its particles exactly like Run mode = particles (the same F and the
# same number of iterations at the end), and a study whose fixed step would blow up completes.
set -uo pipefail
meanfield=$1
source_dir=$2
work=$3
rm -rf "$work"
fail() {
  echo "FAIL: $*"
  exit 1
}
backtracking=(--set "Particles/Integrator=euler" --set "Particles/Step control=backtracking")

# compare: the particle side against a particles run with the same parameters
"$meanfield" "$source_dir/tests/prm/compare_small.prm" "${backtracking[@]}" \
  --set "Output/Directory=$work/compare" > /dev/null || fail "the compare run failed"
"$meanfield" "$source_dir/tests/prm/compare_small.prm" "${backtracking[@]}" --set "Run mode=particles" \
  --set "Particles/End time=0.002" --set "Output/Directory=$work/particles" > /dev/null ||
  fail "the particles run failed"
# comparison: column 3 F particles, column 9 particle iterations; statistics: 1 iteration, 3 F
read -r F_compare n_compare <<< "$(grep -v '^#' "$work/compare/comparison" | tail -1 | awk '{ print $3, $9 }')"
read -r n_particles F_particles <<< "$(grep -v '^#' "$work/particles/statistics" | tail -1 | awk '{ print $1, $3 }')"
echo "compare: F = $F_compare after $n_compare iterations; particles: F = $F_particles after $n_particles"
[ "$n_compare" = "$n_particles" ] || fail "compare took $n_compare particle steps, particles $n_particles"
awk -v a="$F_compare" -v b="$F_particles" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-12 * (b < 0 ? -b : b)) }' ||
  fail "F differs: $F_compare vs $F_particles"
# the same step control, so fewer steps than the 100 fixed steps of eta = 2e-5 to t = 0.002
[ "$n_compare" -lt 100 ] || fail "$n_compare steps: the step did not grow (backtracking ignored?)"

# study: E1 with Euler and eta = 3 > 2/K (unstable as a fixed step); backtracking finds stable steps
"$meanfield" "$source_dir/tests/prm/study_small.prm" "${backtracking[@]}" --set "Particles/Step=3" \
  --set "Time stepping/End time=5" --set "Study/Particle numbers=16, 64" --set "Study/Seeds=2" \
  --set "Study/Initializations=iid" --set "Study/Reference refinements=0" \
  --set "Output/Directory=$work/study" > "$work/study.log" 2>&1 || { tail -3 "$work/study.log"; fail "the study failed"; }
if grep -v '^#' "$work/study/study" | grep -qiE "nan|inf"; then fail "the study has non-finite distances"; fi
echo "OK"
