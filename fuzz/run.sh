#!/bin/sh
# fuzz/run.sh BUILDDIR SRCDIR SECONDS TARGET...: runs each libFuzzer target
# for SECONDS on a scratch copy of its seed corpus and regression inputs,
# and prints its executions.  A crash keeps the input in
# BUILDDIR/fuzz/crashes/ and makes the run fail.
set -u

builddir=$1 srcdir=$2 seconds=$3
shift 3
status=0
mkdir -p "$builddir/fuzz/crashes"
for target in "$@"; do
	work=$(mktemp -d "${TMPDIR:-/tmp}/aish-fuzz-$target.XXXXXX")
	for dir in "$srcdir/fuzz/corpus/$target" "$srcdir/fuzz/regress/$target"; do
		[ -d "$dir" ] && cp "$dir"/* "$work/" 2>/dev/null
	done
	log="$builddir/fuzz/$target.log"
	"$builddir/fuzz/fuzz-$target" -max_total_time="$seconds" \
		-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$builddir/fuzz/crashes/$target-" \
		"$work" > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		echo "fuzz-$target: ${seconds}s, ${runs:-?} executions, no crash"
	else
		echo "fuzz-$target: FAILED (exit $rc), see $log:"
		grep -E 'ERROR|SUMMARY|check failed|Test unit written' "$log" | head -n 5
		status=1
	fi
	rm -rf "$work"
done
exit "$status"
