;; Rec groups, subtype chains, packed and reference fields, casts.
(module
  (rec
    (type $node (sub (struct (field $val (mut i32)) (field $next (mut (ref null $node))))))
    (type $leaf (sub final $node (struct (field $val (mut i32)) (field $next (mut (ref null $node))) (field $tag i8)))))
  (type $bytes (array (mut i8)))
  (type $refs (array (mut (ref null $node))))
  (type $fn (func (param (ref null $node)) (result i32)))
  (global $g (mut (ref null $node)) (ref.null $node))
  (func $sum (type $fn) (param $n (ref null $node)) (result i32)
    (local $acc i32)
    (block $done
      (loop $walk
        (br_if $done (ref.is_null (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (struct.get $node $val (local.get $n))))
        (local.set $n (struct.get $node $next (local.get $n)))
        (br $walk)))
    (local.get $acc))
  (func (export "build") (result i32)
    (local $a (ref null $refs))
    (local.set $a (array.new $refs (struct.new $leaf (i32.const 7) (ref.null none) (i32.const 1)) (i32.const 4)))
    (global.set $g (ref.cast (ref $node) (array.get $refs (local.get $a) (i32.const 2))))
    (drop (array.new_default $bytes (i32.const 16)))
    (call $sum (global.get $g))))
