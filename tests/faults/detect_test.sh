#!/usr/bin/env bash
# The fault zoo's deterministic detection test (issue: "each fault detected
# within a fixed number of executions from a fixed seed"). For every fault
# of `slabfuzz faults --json`, `slabfuzz hunt` runs the row's lane from the
# row's seed and must detect it within the row's budget, with a signature
# that names the fault's class and a canary that says the fault changed what
# the engine did. The same stream with no fault must find nothing (a false
# positive is worse than a miss). Needs a build with SLABFUZZ_FAULTS=ON;
# rows whose lane needs V8/Binaryen are skipped, saying so, without Node.
# Usage: detect_test.sh SLABFUZZ_BIN NODE
# Exit 0 all passed, 1 a failure, 77 everything skipped.
set -uo pipefail
bin=$1
node=${2:-}

# fault                        lane   seed  budget  needs
rows='
loop-back-edge-liveness        gcgen  1     100     -
redefined-local-at-call        gcgen  1     400     -
select-result-unrooted         gcgen  1     100     -
array-new-segment-unrooted     gcgen  1     400     -
array-copy-unrooted            gcgen  1     100     -
stale-ref-mark                 gcgen  1     100     -
br-on-non-null-clobber         gcgen  1     400     -
ref-test-i31-null              gcgen  1     100     node
subtype-layout-moves-field     gcgen  1     400     -
cast-ignores-rec-group         gcgen  1     400     node
cast-rejects-subtype           gcgen  1     400     node
array-new-length-overflow      gcgen  1     400     node
generation-not-bumped          gcgen  1     100     -
free-list-double-push          gcgen  1     100     -
side-table-slab-released       gcgen  1     100     -
ref-write-skips-side-table     gcgen  1     400     -
loop-back-edge-liveness        ttf    1     200     node
ref-test-i31-null              ttf    1     200     node
'
clean_execs=300  # executions of each lane with no fault: no finding allowed

have_node=0
[[ -n $node && -x $node ]] && have_node=1
faults=$("$bin" faults --json | python3 -c 'import json,sys; print(" ".join(f["name"] for f in json.load(sys.stdin)))') || {
  echo "FAIL: slabfuzz faults --json"; exit 1; }
if ! "$bin" --fault loop-back-edge-liveness faults >/dev/null 2>&1; then
  echo "skipped: this slabfuzz was built without the fault zoo (SLABFUZZ_FAULTS=OFF)"
  exit 77
fi

passed=0 failed=0 skipped=0
# Every fault has a row.
for f in $faults; do
  if ! grep -Eq "^$f[[:space:]]" <<<"$rows"; then
    echo "FAIL: fault $f has no row in $0"
    failed=$((failed + 1))
  fi
done

hunt() {  # lane seed budget xcheck [fault] -> JSON on stdout
  local lane=$1 seed=$2 budget=$3 xcheck=$4 fault=${5:-}
  local args=()
  [[ -n $fault ]] && args=(--fault "$fault")
  timeout 600 "$bin" "${args[@]}" hunt --lane "$lane" --seed "$seed" --max-execs "$budget" \
    --xcheck "$xcheck" --json 2>/dev/null
}

while read -r fault lane seed budget needs; do
  [[ -z $fault ]] && continue
  xcheck="v8,binaryen"
  if [[ $needs == node || $lane != gcgen ]]; then
    if ((!have_node)); then
      echo "skipped: $fault ($lane): needs Node for V8/Binaryen (run scripts/setup)"
      skipped=$((skipped + 1))
      continue
    fi
  elif ((!have_node)); then
    xcheck=""
  fi
  json=$(hunt "$lane" "$seed" "$budget" "$xcheck" "$fault")
  verdict=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
d = r.get("detection")
if not d:
    print("miss: not detected in %d executions (reached %d, triggered %d)" % (r["execs"], r["reached"], r["triggered"]))
elif not r.get("right_class"):
    print("wrong-class: %s (does not name the fault)" % d["bucket"])
elif d["by"] != "crash" and r["triggered"] == 0:
    print("untriggered: %s found but the fault never changed behaviour" % d["bucket"])
else:
    print("ok: %d execution(s), %s, by %s" % (r["execs"], d["bucket"], d["by"]))
' "$json" 2>&1)
  if [[ $verdict == ok:* ]]; then
    passed=$((passed + 1))
    echo "pass $fault ($lane): ${verdict#ok: }"
  else
    failed=$((failed + 1))
    echo "FAIL $fault ($lane, seed $seed, budget $budget): $verdict"
  fi
done <<<"$rows"

# No fault: the same streams find nothing.
for lane in gcgen ttf; do
  xcheck="v8,binaryen"
  if ((!have_node)); then
    [[ $lane == ttf ]] && { echo "skipped: clean ttf run: needs Node"; skipped=$((skipped + 1)); continue; }
    xcheck=""
  fi
  json=$(hunt "$lane" 1 "$clean_execs" "$xcheck")
  if python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(1 if "detection" in r or r["execs"] != int(sys.argv[2]) else 0)' "$json" "$clean_execs"; then
    passed=$((passed + 1))
    echo "pass no fault ($lane): $clean_execs executions, no finding"
  else
    failed=$((failed + 1))
    echo "FAIL no fault ($lane): a finding without a fault (false positive) or a short run: $json"
  fi
done

echo "faults.detect: $passed passed, $failed failed, $skipped skipped"
((failed > 0)) && exit 1
((passed == 0)) && exit 77
exit 0
