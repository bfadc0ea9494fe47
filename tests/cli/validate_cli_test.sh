#!/usr/bin/env bash
# `slabfuzz validate` at its boundary: every kind of bad input gets a
# one-line error and the documented exit status, never a crash or a hang.
# Usage: validate_cli_test.sh SLABFUZZ_BINARY SEED_MODULE
set -uo pipefail
bin=$1 seed=$2
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: >"$work/empty.wasm"
mkdir "$work/dir"
head -c 6 "$seed" >"$work/truncated.wasm"
printf '\x00asm\x01\x00\x00\x00\x03\x05\xff\xff\xff\xff\x0f' >"$work/huge-count.wasm"  # 2^32-1 functions
printf 'this is not wasm' >"$work/text.wasm"
printf '\x00asm\x01\x00\x00\x00\x01\x05\x01\x60\x00\x01\x7b' >"$work/v128.wasm"  # func type returning v128

expect valid            0 1 'valid$'                      -- validate "$seed"
expect quiet-valid      0 0 '^$'                          -- validate -q "$seed"
expect missing          2 1 'no such file'                -- validate "$work/nope.wasm"
expect directory        2 1 'is a directory'              -- validate "$work/dir"
expect empty            1 1 'malformed: .*offset 0x0'     -- validate "$work/empty.wasm"
expect truncated        1 1 'malformed: '                 -- validate "$work/truncated.wasm"
expect huge-count       1 1 'malformed: '                 -- validate "$work/huge-count.wasm"
expect not-wasm         1 1 'malformed: '                 -- validate "$work/text.wasm"
expect unsupported      1 1 'unsupported: .*SIMD'         -- validate "$work/v128.wasm"
expect io-beats-reject  2 2 'no such file'                -- validate "$work/text.wasm" "$work/nope.wasm"
expect json             1 9  '"status": "malformed"'      -- validate --json "$work/truncated.wasm"
expect no-args          2 2 'required'                    -- validate
expect bad-subcommand   2 2 'subcommand'                  -- nope
expect help             0 10 'Exit status'                 -- validate --help

echo "cli.validate: $passed passed, $failed failed"
((failed == 0))
