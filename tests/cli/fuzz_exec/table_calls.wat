;; fuzzing-support with an exported "table": table-get/set in and out of
;; range, and traps inside call-export-catch / call-ref-catch, which catch
;; only the host's exceptions, not traps (Binaryen 132 semantics).
(module
  (import "fuzzing-support" "log-i32" (func $li (param i32)))
  (import "fuzzing-support" "log-funcref" (func $lf (param funcref)))
  (import "fuzzing-support" "table-get" (func $tg (param i32) (result funcref)))
  (import "fuzzing-support" "table-set" (func $ts (param i32 funcref)))
  (import "fuzzing-support" "call-export-catch" (func $cec (param i32) (result i32)))
  (import "fuzzing-support" "call-ref-catch" (func $crc (param funcref) (result i32)))
  (table $t (export "table") 2 funcref)
  (func $boom (export "boom") (call $li (i32.const 11)) (unreachable))
  (func $ok (export "ok") (result i32) (call $li (i32.const 12)) (i32.const 5))
  (func (export "set-get")
    (call $lf (call $tg (i32.const 1)))
    (call $ts (i32.const 1) (ref.func $ok))
    (call $lf (call $tg (i32.const 1)))
    (call $li (call $crc (call $tg (i32.const 1))))
    (call $li (call $cec (i32.const 2))))
  (func (export "get-out-of-range") (drop (call $tg (i32.const 2))))
  (func (export "set-out-of-range") (call $ts (i32.const -1) (ref.null func)))
  (func (export "catch-does-not-catch-traps") (call $li (call $cec (i32.const 1))))
  (func (export "ref-catch-does-not-catch-traps") (call $li (call $crc (ref.func $boom))))
)
