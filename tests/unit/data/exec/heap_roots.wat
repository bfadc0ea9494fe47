;; Roots outside frames (Store::forEachRoot) and the gc import: a global, a
;; table of anyref and a passive element segment each hold the only reference
;; to an object; `alloc` allocates (a safepoint) and `read` reads all three.
(module
  (type $cell (struct (field $v (mut i32))))
  (type $take (func (param anyref) (result i32)))
  (import "fuzzing-support" "gc" (func $gc))
  (global $g (mut anyref) (struct.new $cell (i32.const 11)))
  (table $t 2 anyref)
  (elem $e anyref (item (struct.new $cell (i32.const 33))))

  (func $init
    (table.set $t (i32.const 1) (struct.new $cell (i32.const 22))))
  (start $init)

  (func (export "alloc") (result i32)
    (drop (struct.new $cell (i32.const 0)))
    (i32.const 1))

  (func (export "collect")
    (call $gc))

  (func $cellv (param $r anyref) (result i32)
    (struct.get $cell $v (ref.cast (ref $cell) (local.get $r))))

  (func (export "read") (result i32)
    (local $a (ref null $t_arr))
    (local.set $a (array.new_elem $t_arr $e (i32.const 0) (i32.const 1)))
    (i32.add
      (i32.add (call $cellv (global.get $g)) (call $cellv (table.get $t (i32.const 1))))
      (call $cellv (array.get $t_arr (local.get $a) (i32.const 0)))))

  ;; Arguments of reference type, for Executor::invoke's type check.
  (func (export "take_cell") (param $c (ref $cell)) (result i32)
    (struct.get $cell $v (local.get $c)))
  (func (export "take_any") (param $c anyref) (result i32)
    (ref.is_null (local.get $c)))
  (type $t_arr (array (mut anyref)))
)
