#!/usr/bin/env bash
# `slabfuzz run` at its boundary: bad files, bad modules, unlinkable imports,
# bad --invoke names and arguments each get a one-line error and the exit
# status documented in `slabfuzz run --help`, never a crash.
# Usage: run_cli_test.sh SLABFUZZ_BINARY
set -uo pipefail
bin=$1
# shellcheck source=tests/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hdr='\x00asm\x01\x00\x00\x00'
# (func (export "f") (param i32 i64) (result i32) (local.get 0))
printf "$hdr"'\x01\x07\x01\x60\x02\x7f\x7e\x01\x7f\x03\x02\x01\x00\x07\x05\x01\x01f\x00\x00\x0a\x06\x01\x04\x00\x20\x00\x0b' >"$work/f.wasm"
# (import "env" "x" (func)): nothing provides it
printf "$hdr"'\x01\x04\x01\x60\x00\x00\x02\x09\x01\x03env\x01x\x00\x00' >"$work/unlinkable.wasm"
# (start) of a function that is `unreachable`
printf "$hdr"'\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x08\x01\x00\x0a\x05\x01\x03\x00\x00\x0b' >"$work/start-traps.wasm"
# (func (export "loop") (loop (br 0)))
printf "$hdr"'\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x07\x08\x01\x04loop\x00\x00\x0a\x09\x01\x07\x00\x03\x40\x0c\x00\x0b\x0b' >"$work/loop.wasm"
: >"$work/empty.wasm"
mkdir "$work/dir"

expect runs             0 2 'note result: f => 0$'         -- run "$work/f.wasm"
expect invoke           0 2 'note result: f => -7$'        -- run "$work/f.wasm" --invoke f -- -7 0x10
expect invoke-hex       0 2 'f => -1$'                     -- run "$work/f.wasm" --invoke f 0xffffffff 1
expect missing          2 1 'no such file'                 -- run "$work/nope.wasm"
expect directory        2 1 'is a directory'               -- run "$work/dir"
expect empty            1 1 'malformed: .*offset 0x0'      -- run "$work/empty.wasm"
expect unlinkable       1 1 'unlinkable: '                 -- run "$work/unlinkable.wasm"
expect start-traps      1 2 '^\[trap unreachable\]'        -- run "$work/start-traps.wasm"
expect out-of-fuel      3 2 '^\[out of fuel\]$'            -- run "$work/loop.wasm" --fuel 1000
expect unknown-export   2 1 'no exported function named "g"' -- run "$work/f.wasm" --invoke g
expect arity            2 1 'takes 2 argument'             -- run "$work/f.wasm" --invoke f 1
expect bad-i32          2 1 'not a valid i32'              -- run "$work/f.wasm" --invoke f 4294967296 1
expect bad-i64          2 1 'not a valid i64'              -- run "$work/f.wasm" --invoke f 1 1.5
expect no-file          2 2 'file is required'             -- run

echo "run CLI: $passed passed, $failed failed"
(( failed == 0 ))
