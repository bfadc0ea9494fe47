;; churn: 3 million steps of replacing a random entry in a table of 8192
;; structs (512 buckets of 16, each bucket a GC array of references), each
;; new struct holding a fresh 4-element i32 array, and every 256 steps a
;; fresh bucket array replacing one, keeping half of the old one's entries
;; (array.copy of references). Allocation-heavy with a steady live set
;; (about 8192 structs and arrays) and references in arrays: the pattern a
;; generational or slab collector sees in long-running programs, unlike
;; tree's "everything dies at once".
;; Checksum: the sum (i32, wrapping) of the value and one element of every
;; entry replaced; entries depend on the running sum, so a lost or stale
;; entry changes it.
(module
  ;; One rec group: $bucket and $ring have the same shape, and Binaryen's
  ;; text parser (which runs before wat2wasm.mjs can enable GC) rejects two
  ;; single-type groups that differ only in the type they reference.
  (rec
    (type $vec (array (mut i32)))
    (type $item (struct (field $data (ref $vec)) (field $val i32)))
    (type $bucket (array (mut (ref null $item))))
    (type $ring (array (mut (ref null $bucket)))))

  (func $work (param $steps i32) (result i32)
    (local $ring (ref null $ring))
    (local $b (ref null $bucket))
    (local $nb (ref null $bucket))
    (local $old (ref null $item))
    (local $s i32)
    (local $h i32)
    (local $bi i32)
    (local $k i32)
    (local $i i32)
    (local $sum i32)
    (local.set $ring (array.new_default $ring (i32.const 512)))
    (loop $fill
      (array.set $ring (local.get $ring) (local.get $i)
        (array.new_default $bucket (i32.const 16)))
      (br_if $fill
        (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 512))))
    (loop $step
      ;; A Fibonacci hash of the step picks the bucket (top 9 bits) and slot.
      (local.set $h (i32.mul (i32.add (local.get $s) (i32.const 1)) (i32.const 0x9E3779B1)))
      (local.set $bi (i32.shr_u (local.get $h) (i32.const 23)))
      (local.set $k (i32.and (i32.shr_u (local.get $h) (i32.const 19)) (i32.const 15)))
      (local.set $b (array.get $ring (local.get $ring) (local.get $bi)))
      (local.set $old (array.get $bucket (local.get $b) (local.get $k)))
      (if (i32.eqz (ref.is_null (local.get $old)))
        (then
          (local.set $sum
            (i32.add (local.get $sum)
              (i32.add
                (struct.get $item $val (local.get $old))
                (array.get $vec (struct.get $item $data (local.get $old))
                                (i32.and (local.get $s) (i32.const 3))))))))
      (array.set $bucket (local.get $b) (local.get $k)
        (struct.new $item
          (array.new $vec (i32.xor (local.get $s) (local.get $sum)) (i32.const 4))
          (local.get $s)))
      ;; Every 256 steps a fresh bucket replaces this one with its upper half.
      (if (i32.eqz (i32.and (local.get $s) (i32.const 255)))
        (then
          (local.set $nb (array.new_default $bucket (i32.const 16)))
          (array.copy $bucket $bucket (local.get $nb) (i32.const 0)
                                      (local.get $b) (i32.const 8) (i32.const 8))
          (array.set $ring (local.get $ring) (local.get $bi) (local.get $nb))))
      (br_if $step
        (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $steps))))
    (local.get $sum))

  (func (export "run") (result i32) (call $work (i32.const 3000000)))
  (func (export "run_small") (result i32) (call $work (i32.const 30000)))
  (global (export "small_factor") f64 (f64.const 100))
)
