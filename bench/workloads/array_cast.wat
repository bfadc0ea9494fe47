;; array_cast: 200,000 rounds of filling and then summing a 64-element mutable
;; i32 array, in nested loops. The array is held in an eqref local, so every
;; array.get/array.set in the inner loops goes through a real ref.cast to the
;; array's own type (a subtype check on the object's header, not a no-op an
;; engine could drop after validation). This is the shape of the seed bug
;; (wasmtime 10397): array.new in the outer loop, array.set on a ref.cast in the
;; inner loop, br_if back to the inner loop. Measures cast + bounds-checked
;; array access; one 64-element allocation per round is noise beside the
;; 128 inner iterations.
;; Checksum: the running sum (i32, wrapping), which feeds the next round's fill
;; so that rounds cannot be reordered or skipped.
(module
  (type $arr (array (mut i32)))

  (func $work (param $rounds i32) (result i32)
    (local $a eqref)
    (local $r i32)
    (local $i i32)
    (local $sum i32)
    (loop $round
      (local.set $a (array.new_default $arr (i32.const 64)))
      ;; fill: a[i] = i * r + sum
      (local.set $i (i32.const 0))
      (loop $fill
        (array.set $arr
          (ref.cast (ref $arr) (local.get $a))
          (local.get $i)
          (i32.add (i32.mul (local.get $i) (local.get $r)) (local.get $sum)))
        (br_if $fill
          (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                    (i32.const 64))))
      ;; sum: sum = rotl(sum, 7) + a[i]; the rotate makes the order of the
      ;; elements matter and keeps the low bits of the checksum alive
      (local.set $i (i32.const 0))
      (loop $add
        (local.set $sum
          (i32.add
            (i32.rotl (local.get $sum) (i32.const 7))
            (array.get $arr (ref.cast (ref $arr) (local.get $a)) (local.get $i))))
        (br_if $add
          (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                    (i32.const 64))))
      (br_if $round
        (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1)))
                  (local.get $rounds))))
    (local.get $sum))

  (func (export "run") (result i32) (call $work (i32.const 200000)))
  (func (export "run_small") (result i32) (call $work (i32.const 2000)))
  (global (export "small_factor") f64 (f64.const 100))
)
