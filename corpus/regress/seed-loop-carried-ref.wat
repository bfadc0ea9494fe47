;; The shape of the reference-loss bug this project exists to find (DESIGN.md,
;; after wasmtime issue 10397): a reference whose only live copy is a local
;; carried around an outer loop, a collection at a call in that loop, and an
;; allocation that reuses the freed slot before the next iteration reads it.
;;
;; Each outer iteration reads element 63 of the array the previous iteration
;; built, builds a new array and fills it in an inner loop through a cast to
;; the array's own type (array.set on ref.cast, br_if back to the inner loop),
;; then calls through a funcref held in a struct field (call_ref) and
;; allocates another array of the same size (kept in a global until the next
;; iteration replaces it). At that call_ref, $a is live only because the loop
;; goes around: a stack map that ignores the back edge leaves it out, the
;; collector frees the array, the next allocation takes its slot (or, with
;; slabs of one object, its slab index), and the next iteration's cast names
;; a reused slot: stale-generation, or different-slab.
;;
;; Correct engines return 4268 (5, then (k - 1) + 63 read back in iteration
;; k = 1 .. 49) and log the running sum once per iteration. The arrays hold
;; 64 i32s: big enough that the small-slabs configuration gives each one a
;; slab of its own, so that a freed array's slab index is what gets reused.
(module
  (type $bytes (array (mut i32)))
  (type $step (func (param i32) (result i32)))
  (type $box (struct (field $f (ref $step))))
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (elem declare func $inc)
  ;; The struct whose field the outer loop calls through.
  (global $box (ref $box) (struct.new $box (ref.func $inc)))
  ;; The latest array of the same size, kept alive until the next one
  ;; replaces it (so its slab never empties and a freed slot is reused).
  (global $keep (mut anyref) (array.new_default $bytes (i32.const 64)))

  (func $inc (type $step) (param $x i32) (result i32)
    (i32.add (local.get $x) (i32.const 1)))

  (func $run (export "run") (result i32)
    (local $a anyref)
    (local $i i32)
    (local $j i32)
    (local $sum i32)
    (local.set $a (array.new $bytes (i32.const 5) (i32.const 64)))
    (loop $outer
      ;; The previous iteration's array: the use that makes $a live across
      ;; the back edge.
      (local.set $sum
        (i32.add (local.get $sum)
          (array.get $bytes (ref.cast (ref $bytes) (local.get $a)) (i32.const 63))))
      (local.set $a (array.new $bytes (i32.const 0) (i32.const 64)))
      (local.set $j (i32.const 0))
      (loop $inner
        (array.set $bytes (ref.cast (ref $bytes) (local.get $a)) (local.get $j)
          (i32.add (local.get $i) (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 64))))
      (local.set $i
        (call_ref $step (local.get $i) (struct.get $box $f (global.get $box))))
      (global.set $keep (array.new $bytes (i32.const -1) (i32.const 64)))
      (call $log (local.get $sum))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 50))))
    (local.get $sum))
)
