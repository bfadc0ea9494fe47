;; Nested loops: allocation and an indirect call in the outer loop, a cast and
;; an array write in the inner loop, br_if back edges.
(module
  (type $arr (array (mut i32)))
  (type $cb (func (param i32) (result i32)))
  (type $holder (struct (field $f (ref $cb))))
  (func $inc (type $cb) (local.get 0) (i32.const 1) (i32.add))
  (elem declare func $inc)
  (func (export "run") (result i32)
    (local $a (ref null $arr)) (local $h (ref null $holder)) (local $i i32) (local $j i32) (local $acc i32)
    (local.set $h (struct.new $holder (ref.func $inc)))
    (loop $outer
      (local.set $a (array.new $arr (i32.const 0) (i32.const 8)))
      (local.set $j (i32.const 0))
      (loop $inner
        (array.set $arr (ref.cast (ref $arr) (local.get $a)) (local.get $j) (local.get $i))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 8))))
      (local.set $acc (call_ref $cb (local.get $acc) (struct.get $holder $f (local.get $h))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 4))))
    (i32.add (local.get $acc) (array.get $arr (local.get $a) (i32.const 3)))))
