#!/usr/bin/env bash
# Usage: expect_failure.sh <regex> <output-dir> <command...>
# Passes iff the command exits non-zero, its output matches <regex> (extended grep), and
# <output-dir> does not exist afterwards (bad input must stop the run before any output).
# An <output-dir> of "-" skips that check (a run that fails after it started writes output).
regex=$1
output_dir=$2
shift 2
[ "$output_dir" != "-" ] && rm -rf "$output_dir"
output=$("$@" 2>&1)
code=$?
echo "$output"
if [ "$code" -eq 0 ]; then
  echo "FAIL: expected a non-zero exit code, got 0"
  exit 1
fi
# match across lines: the message of a bad value spans several
if ! tr '\n' ' ' <<<"$output" | sed 's/  */ /g' | grep -Eq -- "$regex"; then
  echo "FAIL: the message does not match /$regex/"
  exit 1
fi
if [ "$output_dir" != "-" ] && [ -e "$output_dir" ]; then
  echo "FAIL: $output_dir was created although the input was bad"
  exit 1
fi
echo "OK: exit code $code, message matches"
