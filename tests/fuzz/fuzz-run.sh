#!/bin/sh
# fuzz-run.sh SECONDS WORKDIR EXE CORPUS [EXE CORPUS ...]
# Runs each libFuzzer target for SECONDS.  New inputs go to WORKDIR/<target>/corpus (the
# committed CORPUS is only read); a crashing input is written to WORKDIR/<target>/ and
# should be copied to tests/fuzz/regress/<harness>/ so the regression runner keeps it.
set -eu
secs=$1 work=$2
shift 2
while [ $# -ge 2 ]; do
	exe=$1 corpus=$2
	shift 2
	dir=$work/$(basename "$exe")
	mkdir -p "$dir/corpus"
	echo "fuzzing $exe for ${secs}s; new inputs in $dir/corpus, crashes in $dir/"
	"$exe" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$dir/" "$dir/corpus" "$corpus"
done
