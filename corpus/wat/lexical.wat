(; Seed for wat_fuzzer: comments (; nested ;), annotations, string ids,
   numbers of every syntax ;)
(@custom "x" (y "z"))
(module $m
  (func $"a b" (export "f") (result f64)
    (f64.add (f64.const 0x1.8p+3) (f64.const 1_000.5e-3)) (@a 1)
    (drop) (f64.const -nan:0x8_0000_0000_0001))
  (func (result f32) (f32.const inf)) ;; line comment
  (func (result i64) i64.const 0xffff_ffff_ffff_ffff))
