;; The shape of the reference-loss bug this project exists to find (DESIGN.md,
;; after wasmtime issue 10397): a reference whose only live copy is a local
;; carried around an outer loop, a collection at a call in that loop, and an
;; allocation that reuses the freed slot before the next iteration reads it.
;;
;; Each outer iteration reads element 15 of the array the previous iteration
;; built, builds a new array and fills it in an inner loop through a cast to
;; the array's own type (array.set on ref.cast, br_if back to the inner loop),
;; then calls through a funcref held in a struct field (call_ref) and
;; allocates garbage of the same size. At that call_ref, $a is live only
;; because the loop goes around: a stack map that ignores the back edge
;; leaves it out, the collector frees the array, the garbage array takes its
;; slot, and the next iteration's cast or read names a reused slot.
;;
;; Correct engines return 1916 (5, then (k - 1) + 15 read back in iteration
;; k = 1 .. 49) and log the running sum once per iteration.
(module
  (type $bytes (array (mut i32)))
  (type $step (func (param i32) (result i32)))
  (type $box (struct (field $f (ref $step))))
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (elem declare func $inc)

  (func $inc (type $step) (param $x i32) (result i32)
    (i32.add (local.get $x) (i32.const 1)))

  (func $run (export "run") (result i32)
    (local $a anyref)
    (local $box (ref null $box))
    (local $junk anyref)
    (local $i i32)
    (local $j i32)
    (local $sum i32)
    (local.set $box (struct.new $box (ref.func $inc)))
    (local.set $a (array.new $bytes (i32.const 5) (i32.const 16)))
    (loop $outer
      ;; The previous iteration's array: the use that makes $a live across
      ;; the back edge.
      (local.set $sum
        (i32.add (local.get $sum)
          (array.get $bytes (ref.cast (ref $bytes) (local.get $a)) (i32.const 15))))
      (local.set $a (array.new $bytes (i32.const 0) (i32.const 16)))
      (local.set $j (i32.const 0))
      (loop $inner
        (array.set $bytes (ref.cast (ref $bytes) (local.get $a)) (local.get $j)
          (i32.add (local.get $i) (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 16))))
      (local.set $i
        (call_ref $step (local.get $i) (struct.get $box $f (local.get $box))))
      (local.set $junk (array.new $bytes (i32.const -1) (i32.const 16)))
      (call $log (local.get $sum))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 50))))
    (local.get $sum))
)
