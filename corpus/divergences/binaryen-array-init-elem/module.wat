;; Two ways Binaryen 132's interpreter runs array.init_elem unlike the spec.
;; 1. The source offset is ignored. The passive segment holds
;;    [array(3), null, null, array(1)]. `init_elem` makes a two-element
;;    array, copies segment item 3 into index 1 (an array), then item 2 into
;;    index 1 (null), logging index 1 after each copy: the spec's answer is
;;    an object, then null. Binaryen reads the segment from item 0 whatever
;;    the offset, so its second line is object(null) too. `new_elem` shows
;;    that array.new_elem honours its offset in every engine.
;; 2. The segment's items are evaluated again at every copy. The spec
;;    evaluates them once, at instantiation: copying one item twice gives
;;    the same object twice (`same_item_twice` logs ref.eq = 1). Binaryen
;;    makes a new array per copy and logs 0.
(module
  (type $a (sub (array (mut (ref null $a)))))
  (import "fuzzing-support" "log-anyref" (func $log (param anyref)))
  (import "fuzzing-support" "log-i32" (func $log_i32 (param i32)))
  (elem $e (ref null $a)
    (item (array.new_default $a (i32.const 3)))
    (item (ref.null none))
    (item (ref.null none))
    (item (array.new_default $a (i32.const 1))))
  (func (export "new_elem")
    (local $x (ref null $a))
    (local.set $x (array.new_elem $a $e (i32.const 2) (i32.const 2)))
    (call $log (array.get $a (local.get $x) (i32.const 0)))
    (call $log (array.get $a (local.get $x) (i32.const 1))))
  (func (export "init_elem")
    (local $x (ref null $a))
    (local.set $x (array.new_default $a (i32.const 2)))
    (array.init_elem $a $e (local.get $x) (i32.const 1) (i32.const 3) (i32.const 1))
    (call $log (array.get $a (local.get $x) (i32.const 1)))
    (array.init_elem $a $e (local.get $x) (i32.const 1) (i32.const 2) (i32.const 1))
    (call $log (array.get $a (local.get $x) (i32.const 1))))
  (func (export "same_item_twice")
    (local $x (ref null $a))
    (local $y (ref null $a))
    (local.set $x (array.new_default $a (i32.const 1)))
    (local.set $y (array.new_default $a (i32.const 1)))
    (array.init_elem $a $e (local.get $x) (i32.const 0) (i32.const 0) (i32.const 1))
    (array.init_elem $a $e (local.get $y) (i32.const 0) (i32.const 0) (i32.const 1))
    (call $log_i32 (ref.eq (array.get $a (local.get $x) (i32.const 0))
                           (array.get $a (local.get $y) (i32.const 0))))))
