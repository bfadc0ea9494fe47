#!/usr/bin/env bash
# The AFL++ path end to end, kept small: the `afl` preset configures a scratch
# build of wasm_diff (unoptimised, so that it compiles in well under a minute
# on two cores; instrumentation, driver and oracle are the preset's),
# afl-fuzz runs it for 10 s from corpus/wasm_diff, and its fuzzer_stats must
# show persistent mode with shared-memory test cases (not a fork, or a file,
# per input), executions, new corpus entries (mutated inputs reach the target)
# and no crash. Exit 77 (skipped) when AFL++ is not installed.
# Usage: afl_test.sh SOURCE_DIR
set -uo pipefail
root=$(cd "$1" && pwd)
for tool in afl-clang-fast afl-clang-fast++ afl-fuzz; do
  if ! command -v "$tool" >/dev/null; then
    echo "skipped: $tool is not on PATH (AFL++, Debian package afl++, which scripts/setup installs)"
    exit 77
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seconds=10

cd "$root" || exit 1
if ! cmake --preset afl -B "$tmp/build" -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0 \
     -DSLABFUZZ_BUILD_TOOLS=OFF >"$tmp/configure.log" 2>&1; then
  tail -30 "$tmp/configure.log"
  echo "FAIL: cmake --preset afl did not configure"
  exit 1
fi
if ! cmake --build "$tmp/build" -j 2 --target wasm_diff >"$tmp/build.log" 2>&1; then
  tail -30 "$tmp/build.log"
  echo "FAIL: wasm_diff did not build with the afl preset"
  exit 1
fi

# Only what afl-fuzz needs to start on any machine: no CPU-governor or
# core_pattern checks, no UI, no core binding (a campaign may hold the cores).
# -t 10000: the limit fuzz-smoke gives libFuzzer; afl-fuzz's own pick (a few
# times the seeds' time, some 20 ms) calls every fuel-bound run a hang. Hangs
# are reported, not failed: slow runs are the oracle's business, not this path's.
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
  timeout $((seconds + 120)) afl-fuzz -V "$seconds" -t 10000 -i corpus/wasm_diff \
  -x fuzzers/wasm.dict -o "$tmp/out" -- "$tmp/build/fuzzers/wasm_diff" >"$tmp/fuzz.log" 2>&1
rc=$?
stats=$tmp/out/default/fuzzer_stats
if ((rc != 0)) || [[ ! -f $stats ]]; then
  sed 's/\x1b\[[0-9;]*m//g' "$tmp/fuzz.log" | tail -30
  echo "FAIL: afl-fuzz exited with status $rc (fuzzer_stats $([[ -f $stats ]] && echo written || echo missing))"
  exit 1
fi
field() { sed -nE "s/^$1 *: *//p" "$stats"; }

failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
mode=$(field target_mode | sed "s/ *$//")
[[ $mode == *persistent* ]] || fail "not in persistent mode (target_mode: $mode): a fork per input"
[[ $mode == *shmem_testcase* ]] || fail "no shared-memory test cases (target_mode: $mode)"
execs=$(field execs_done)
((${execs:-0} > 0)) || fail "no executions (execs_done: ${execs:-none})"
found=$(field corpus_found)
((${found:-0} > 0)) || fail "no new corpus entries in ${seconds}s: mutated inputs do not reach the target"
crashes=$(field saved_crashes)
if ((${crashes:-0} > 0)); then
  fail "$crashes crash(es); inputs in $root/out/afl-test/"
  mkdir -p "$root/out/afl-test" && cp "$tmp"/out/default/crashes/id* "$root/out/afl-test/"
fi
echo "afl: wasm_diff ${seconds}s: $execs execs ($(field execs_per_sec)/s), target_mode: $mode," \
  "corpus +$found, stability $(field stability), $crashes crash(es), $(field saved_hangs) hang(s)"
((failed == 0))
