// Acceptance of generated modules by the pinned engines, in one node process:
// V8 (WebAssembly.validate of this node) and Binaryen (binaryen.js readBinary
// with the runtime's feature set, then validate()). One process rather than
// a wasm-opt per module: node starts in about half a second.
// Usage: node accept.mjs DIR        (every DIR/*.wasm)
// Prints "v8: K/N accepted" and "binaryen: K/N accepted", then one line per
// refusal ("v8 refused seed-12.wasm: <CompileError>"); exits 1 if any.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: accept.mjs DIR');
  process.exit(2);
}
const binaryenUrl = import.meta.resolve('binaryen');
let binaryen = (await import(binaryenUrl)).default;
let generation = 0;

// The feature set of slabfuzz's runtime (DESIGN.md "Scope"), as in
// bench/wat2wasm.mjs; not Features.All, which changes how Binaryen reads GC.
const F = binaryen.Features;
const features = F.GC | F.ReferenceTypes | F.BulkMemory | F.NontrappingFPToInt | F.SignExt |
  F.Multivalue | F.TailCall | F.MutableGlobals;

const messageOf = (e) => (e && typeof e.message === 'string' ? e.message : String(e));

const files = readdirSync(dir).filter((f) => f.endsWith('.wasm'))
  .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
const refusals = [];
let v8ok = 0, binOk = 0;
for (const f of files) {
  const bytes = new Uint8Array(readFileSync(join(dir, f)));
  if (WebAssembly.validate(bytes)) {
    v8ok++;
  } else {
    let why = 'WebAssembly.validate said no';
    try { new WebAssembly.Module(bytes); } catch (e) { why = messageOf(e); }
    refusals.push(`v8 refused ${f}: ${why}`);
  }
  let mod;
  try {
    mod = binaryen.readBinary(bytes, features);
    mod.setFeatures(features);
    if (mod.validate()) binOk++;
    else refusals.push(`binaryen refused ${f}: validate() failed (Binaryen prints why, unterminated, at the end of the output)`);
  } catch (e) {
    refusals.push(`binaryen refused ${f}: ${messageOf(e)} (Binaryen prints why at the end of the output)`);
    // An Emscripten abort leaves the instance unusable: load a fresh one.
    if (e instanceof WebAssembly.RuntimeError || /^Aborted\b/.test(messageOf(e))) {
      mod = undefined;
      binaryen = (await import(`${binaryenUrl}?instance=${++generation}`)).default;
    }
  } finally {
    if (mod) mod.dispose();
  }
}
console.log(`v8: ${v8ok}/${files.length} accepted`);
console.log(`binaryen: ${binOk}/${files.length} accepted`);
for (const r of refusals) console.log(r);
process.exit(refusals.length || files.length === 0 ? 1 : 0);
