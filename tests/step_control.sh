#!/usr/bin/env bash
# Usage: step_control.sh <meanfield> <source dir> <work dir>
# Particles/Step control = backtracking is honoured by every run mode that steps particles
# (issue 11): compare steps its particles exactly like Run mode = particles (the same F and the
# same number of iterations at the end), and a study whose fixed step would blow up completes.
# Likewise Time stepping/Scheme in compare: its PDE side steps exactly like Run mode = pde.
set -uo pipefail
meanfield=$1
source_dir=$2
work=$3
rm -rf "$work"
fail() {
  echo "FAIL: $*"
  exit 1
}
# the number of the column named $2 in the table $1 (its header lines '# N: name -- ...')
column() {
  grep -E "^# *[0-9]+: $2 --" "$1" | sed -E 's/^# *([0-9]+):.*/\1/'
}
# the last row's values of the columns named $2 and $3 of table $1
last_values() {
  local a b
  a=$(column "$1" "$2")
  b=$(column "$1" "$3")
  grep -v '^#' "$1" | tail -1 | awk -v a="$a" -v b="$b" '{ print $a, $b }'
}
backtracking=(--set "Particles/Integrator=euler" --set "Particles/Step control=backtracking")

# compare: the particle side against a particles run with the same parameters
"$meanfield" "$source_dir/tests/prm/compare_small.prm" "${backtracking[@]}" \
  --set "Output/Directory=$work/compare" > /dev/null || fail "the compare run failed"
"$meanfield" "$source_dir/tests/prm/compare_small.prm" "${backtracking[@]}" --set "Run mode=particles" \
  --set "Particles/End time=0.002" --set "Output/Directory=$work/particles" > /dev/null ||
  fail "the particles run failed"
read -r F_compare n_compare <<< "$(last_values "$work/compare/comparison" "F particles" "particle iterations")"
read -r n_particles F_particles <<< "$(last_values "$work/particles/statistics" "iteration" "F")"
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
# compare with Time stepping/Scheme = implicit: the PDE side steps exactly like Run mode = pde
implicit=(--set "Discretization/Reconstruction=first order" --set "Time stepping/Scheme=implicit"
  --set "Time stepping/End time=0.02" --set "Output/Time interval=0.01")
"$meanfield" "$source_dir/tests/prm/compare_small.prm" "${implicit[@]}" \
  --set "Output/Directory=$work/compare_implicit" > /dev/null || fail "the implicit compare run failed"
"$meanfield" "$source_dir/tests/prm/compare_small.prm" "${implicit[@]}" --set "Run mode=pde" \
  --set "Output/Directory=$work/pde_implicit" > /dev/null || fail "the implicit pde run failed"
read -r F_compare n_compare <<< "$(last_values "$work/compare_implicit/comparison" "F pde" "pde steps")"
read -r n_pde F_pde <<< "$(last_values "$work/pde_implicit/statistics" "step" "F")"
echo "compare (implicit PDE): F = $F_compare after $n_compare steps; pde: F = $F_pde after $n_pde"
[ "$n_compare" = "$n_pde" ] || fail "compare took $n_compare PDE steps, pde $n_pde"
awk -v a="$F_compare" -v b="$F_pde" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-12 * (b < 0 ? -b : b)) }' ||
  fail "F differs: $F_compare vs $F_pde"
# implicit steps: far fewer than the CFL steps to t = 0.02 (hundreds on this mesh)
[ "$n_compare" -lt 200 ] || fail "$n_compare PDE steps: the implicit scheme was not used?"
echo "OK"
