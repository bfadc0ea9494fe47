#!/usr/bin/env bash
# `slabfuzz gen` at its boundary: bad arguments, unreadable input, an
# existing output without --force, and determinism (the same seed twice gives
# the same bytes; --input of a seed's bytes gives that seed's module).
# Usage: gen_cli_test.sh SLABFUZZ_BINARY
set -uo pipefail
bin=$1
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

mkdir "$work/dir"
expect no-mode          2 1 'exactly one of --seed'      -- gen -o "$work/x.wasm"
expect both-modes       2 1 'exactly one of --seed'      -- gen --seed 1 --input "$work/dir" -o "$work/x.wasm"
expect no-output        2 1 '-o FILE is required'        -- gen --seed 1
expect bad-seed         2 2 'seed'                       -- gen --seed nope -o "$work/x.wasm"
expect bad-range        2 1 'A\.\.B'                     -- gen --stats --seeds 5..2
expect stats-no-range   2 1 'needs --seeds'              -- gen --stats
expect missing-input    2 1 'no such file'               -- gen --input "$work/nope.bin" -o "$work/x.wasm"
expect dir-input        2 1 'is a directory'             -- gen --input "$work/dir" -o "$work/x.wasm"
expect bad-out-dir      2 1 'cannot create'              -- gen --seed 1 -o "$work/nodir/x.wasm"
expect first            0 0 '^$'                         -- gen --seed 7 --size 3000 -o "$work/a.wasm"
expect exists           2 1 'exists \(use --force'       -- gen --seed 8 -o "$work/a.wasm"
expect second           0 0 '^$'                         -- gen --seed 7 --size 3000 -o "$work/b.wasm"
expect validates        0 1 'valid$'                     -- validate "$work/a.wasm"
expect help             0 23 'Exit status'                -- gen --help

# --stats: its line count follows the generator's templates, so only the
# verdict lines are checked.
# check NAME PATTERN -- ARGS...: exit 0 and PATTERN somewhere in stdout.
check() {
  local name=$1 pattern=$2
  shift 3
  local out
  if out=$(timeout 60 "$bin" "$@" 2>&1) && grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); printf 'FAIL %s: output:\n%s\n' "$name" "$out"
  fi
}
check stats      'valid \(our validator\): 3/3 \(100'  -- gen --stats --seeds 0..2 --top 0
check stats-json '"valid_percent": 100'                -- gen --stats --seeds 0..2 --json
head -c 2500 /dev/zero | tr '\0' 'x' >"$work/input.bin"
check input-1    '^$' -- gen --input "$work/input.bin" -o "$work/i1.wasm"
check input-2    '^$' -- gen --input "$work/input.bin" -o "$work/i2.wasm"
if ! cmp -s "$work/i1.wasm" "$work/i2.wasm"; then
  failed=$((failed + 1)); echo "FAIL determinism: one --input file gave different bytes twice"
else passed=$((passed + 1)); fi

# Determinism of --seed.
if ! cmp -s "$work/a.wasm" "$work/b.wasm"; then
  failed=$((failed + 1)); echo "FAIL determinism: seed 7 gave different bytes twice"
else passed=$((passed + 1)); fi
cp "$work/a.wasm" "$work/keep.wasm"
expect force            0 0 '^$'                         -- gen --seed 8 -o "$work/a.wasm" --force
if cmp -s "$work/a.wasm" "$work/keep.wasm"; then
  failed=$((failed + 1)); echo "FAIL force: --force did not replace the file"
else passed=$((passed + 1)); fi
if compgen -G "$work/.*.tmp.*" >/dev/null; then
  failed=$((failed + 1)); echo "FAIL temp files left behind:"; ls -a "$work"
else passed=$((passed + 1)); fi

echo "cli.gen: $passed passed, $failed failed"
((failed == 0))
