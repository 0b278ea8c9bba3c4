#!/usr/bin/env bash
# Usage: faults.sh <case> <meanfield> "<mpiexec -np 2>" <source dir> <work dir>
# Faults during a run and the ownership of the output directory (issue 11). Every case checks
# that the directory is consistent afterwards: each frame a pvd record lists exists with all its
# pieces, no temporary file is left, and every table has whole rows of equal length.
set -uo pipefail
case=$1
meanfield=$2
mpiexec=$3
source_dir=$4
work=$5
rm -rf "$work"
mkdir -p "$work"
pde_long="$source_dir/parameter_files/pde_sparse_deconvolution.prm"
pde_small="$source_dir/tests/prm/pde_small_deconvolution.prm"
particles_small="$source_dir/tests/prm/particles_small.prm"

fail() {
  echo "FAIL: $*"
  exit 1
}

# The directory holds only complete output: pvd records name existing frames, pvtu records name
# existing pieces, no .tmp is left, tables have rows of one length.
consistent() {
  local dir=$1
  [ -d "$dir" ] || fail "$dir does not exist"
  if ls "$dir"/*.tmp > /dev/null 2>&1; then fail "a temporary file is left: $(ls "$dir"/*.tmp)"; fi
  for pvd in "$dir"/*.pvd; do
    [ -e "$pvd" ] || continue
    grep -q "</VTKFile>" "$pvd" || fail "$pvd is cut"
    for frame in $(sed -n 's/.*file="\([^"]*\)".*/\1/p' "$pvd"); do
      [ -s "$dir/$frame" ] || fail "$pvd lists $frame, which does not exist"
      for piece in $(sed -n 's/.*Source="\([^"]*\)".*/\1/p' "$dir/$frame"); do
        [ -s "$(dirname "$dir/$frame")/$piece" ] || fail "$frame names the missing piece $piece"
      done
    done
  done
  for table in statistics comparison study paper; do
    [ -e "$dir/$table" ] || continue
    [ -z "$(tail -c 1 "$dir/$table")" ] || fail "$dir/$table does not end with a whole line"
    local lengths
    lengths=$(grep -v '^#' "$dir/$table" | awk '{ print NF }' | sort -u | wc -l)
    [ "$lengths" -le 1 ] || fail "$dir/$table has rows of different lengths"
  done
  echo "consistent: $dir"
}

# Start a run in the background and wait until it has written its first table row.
start_and_wait() {
  local dir=$1
  shift
  "$@" > "$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    if [ -s "$dir/statistics" ]; then return 0; fi
    sleep 0.1
  done
  kill -9 $pid
  fail "the run wrote no statistics within 30 s"
}

# Run a command with files limited to 64 KiB (a full disk, as the process sees it: writes past the
# limit fail with EFBIG instead of a SIGXFSZ), its output in $work/log.
with_small_file_limit() {
  (
    trap '' XFSZ
    ulimit -f 64
    "$@"
  ) > "$work/log" 2>&1
}

case $case in
interrupt_serial)
  # SIGINT: stop between two steps, flush the table, say where, exit 130
  dir=$work/run
  start_and_wait "$dir" "$meanfield" "$pde_long" --set "Output/Directory=$dir" --set "Output/Time interval=0.01"
  sleep 1
  kill -INT $pid
  wait $pid
  code=$?
  cat "$work/log" | tail -3
  [ $code -eq 130 ] || fail "exit code $code, expected 130"
  grep -q "interrupted at step [0-9]*, t = .*; output in $dir" "$work/log" || fail "no interrupt message"
  consistent "$dir"
  [ "$(grep -vc '^#' "$dir/statistics")" -gt 10 ] || fail "the statistics were not flushed"
  ;;
interrupt_np2)
  # SIGTERM to mpirun, which forwards it to both ranks: both stop at the same step, no hang
  dir=$work/run
  start_and_wait "$dir" $mpiexec "$meanfield" "$pde_long" --set "Output/Directory=$dir" --set "Output/Time interval=0.01"
  sleep 1
  kill -TERM $pid
  for _ in $(seq 1 300); do kill -0 $pid 2> /dev/null || break; sleep 0.1; done
  if kill -0 $pid 2> /dev/null; then
    kill -9 $pid
    fail "the ranks did not exit within 30 s of SIGTERM (a hang)"
  fi
  wait $pid
  code=$?
  tail -3 "$work/log"
  [ $code -ne 0 ] || fail "exit code 0 after SIGTERM"
  grep -q "interrupted at step [0-9]*, t = .*(signal 15)" "$work/log" || fail "no interrupt message"
  consistent "$dir"
  ;;
disk_full)
  # every file is limited to 64 KiB (ulimit -f; SIGXFSZ ignored, so a write fails with EFBIG like a
  # full disk): the frames of 16384 cells do not fit. The run must fail naming the file and the
  # reason, and leave only complete output.
  dir=$work/run
  with_small_file_limit "$meanfield" "$pde_long" --set "Output/Directory=$dir" \
    --set "Time stepping/End time=0.003" --set "Output/Time interval=0.001"
  code=$?
  tail -3 "$work/log"
  [ $code -eq 2 ] || fail "exit code $code, expected 2 (a run that failed)"
  grep -q "Could not write the solution: .*solution/solution_00000.0.vtu: File too large" "$work/log" ||
    fail "the message does not name the file and the reason"
  if grep -q "^Output directory:" "$work/log"; then fail "the run claims success"; fi
  consistent "$dir"
  [ ! -e "$dir/solution/solution_00000.0.vtu" ] || fail "the cut frame is left behind"
  ;;
disk_full_table)
  # the statistics table outgrows the 64 KiB limit: the run fails naming the table, and the
  # previous version of the table stays in place, complete
  dir=$work/run
  with_small_file_limit "$meanfield" "$particles_small" --set "Output/Directory=$dir" \
    --set "Output/Write VTK=false" --set "Particles/End time=0.2" --set "Output/Time interval=0.002"
  code=$?
  tail -2 "$work/log"
  [ $code -eq 2 ] || fail "exit code $code, expected 2 (a run that failed)"
  grep -q "Could not write a table: .*statistics.tmp: File too large" "$work/log" ||
    fail "the message does not name the table and the reason"
  [ "$(grep -vc '^#' "$dir/statistics")" -gt 100 ] || fail "the previous table is lost"
  consistent "$dir"
  ;;
previous_run_refused)
  dir=$work/run
  "$meanfield" "$pde_small" --set "Output/Directory=$dir" > /dev/null || fail "the first run failed"
  before=$(cd "$dir" && find . -type f | sort | xargs md5sum)
  "$meanfield" "$particles_small" --set "Output/Directory=$dir" > "$work/log" 2>&1
  code=$?
  cat "$work/log"
  [ $code -eq 1 ] || fail "exit code $code, expected 1"
  grep -q "holds the files of a previous run (parameters.prm, solution.pvd" "$work/log" || fail "message"
  grep -q "set Overwrite = true" "$work/log" || fail "the message does not give the fix"
  [ "$before" = "$(cd "$dir" && find . -type f | sort | xargs md5sum)" ] || fail "the directory changed"
  ;;
overwrite)
  # Overwrite = true removes the previous run's files (frames included) and nothing else
  dir=$work/run
  "$meanfield" "$pde_small" --set "Output/Directory=$dir" > /dev/null || fail "the first run failed"
  echo "my notes" > "$dir/notes.txt"
  mkdir -p "$dir/solution" && echo "mine" > "$dir/solution/README"
  "$meanfield" "$particles_small" --set "Output/Directory=$dir" --set "Output/Overwrite=true" > /dev/null ||
    fail "the overwriting run failed"
  [ ! -e "$dir/solution.pvd" ] || fail "the old solution.pvd is left"
  [ -z "$(ls "$dir/solution" | grep -v README)" ] || fail "old frames are left: $(ls "$dir/solution")"
  [ -s "$dir/notes.txt" ] && [ -s "$dir/solution/README" ] || fail "a file that is not MeanField's was removed"
  [ -s "$dir/particles.pvd" ] || fail "the new run wrote no particles.pvd"
  grep -q "particles_small.prm" "$dir/parameters.prm" || fail "parameters.prm is not the new run's"
  consistent "$dir"
  ;;
table_in_the_way)
  # a directory where a table must go: refused up front, nothing written
  dir=$work/run
  mkdir -p "$dir/statistics"
  "$meanfield" "$pde_small" --set "Output/Directory=$dir" > "$work/log" 2>&1
  code=$?
  cat "$work/log"
  [ $code -eq 1 ] || fail "exit code $code, expected 1"
  grep -q "holds a directory named statistics" "$work/log" || fail "message"
  [ "$(ls "$dir")" = "statistics" ] || fail "something was written: $(ls "$dir")"
  ;;
*)
  fail "unknown case $case"
  ;;
esac
echo "OK: $case"
