// Turns the benchmark workloads (bench/workloads/*.wat) into .wasm with the
// pinned Binaryen's JS API, caching by content: a .wasm is rebuilt only when
// its .wat, this script, or the Binaryen version changes.
// Usage: node wat2wasm.mjs OUT_DIR [NAME...]   (default: every workload)
// Prints the .wasm paths, one a line.
import binaryen from "binaryen";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [outDir, ...names] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: wat2wasm.mjs OUT_DIR [NAME...]");
  process.exit(2);
}
const srcDir = join(here, "workloads");
const wanted = names.length ? names
  : readdirSync(srcDir).filter((f) => f.endsWith(".wat")).map((f) => basename(f, ".wat")).sort();

// The feature set of slabfuzz's runtime (DESIGN.md "Scope"), as in
// gen_ttf_modules.mjs. Not Features.All: that turns on proposals whose
// encodings are unfinished (custom descriptors, strings, ...) and can change
// what Binaryen emits for GC instructions.
const F = binaryen.Features;
const features = F.GC | F.ReferenceTypes | F.BulkMemory | F.NontrappingFPToInt | F.SignExt |
  F.Multivalue | F.TailCall | F.MutableGlobals;

const { version: binaryenVersion } = JSON.parse(
  readFileSync(join(here, "../node_modules/binaryen/package.json"), "utf8"));
const self = readFileSync(fileURLToPath(import.meta.url));

mkdirSync(outDir, { recursive: true });
for (const name of wanted) {
  const wat = readFileSync(join(srcDir, `${name}.wat`), "utf8");
  const key = createHash("sha256").update(wat).update(self).update(binaryenVersion).digest("hex");
  const wasmPath = join(outDir, `${name}.wasm`), keyPath = join(outDir, `${name}.key`);
  if (!existsSync(wasmPath) || !existsSync(keyPath) || readFileSync(keyPath, "utf8") !== key) {
    const mod = binaryen.parseText(wat);
    mod.setFeatures(features);
    if (!mod.validate()) {
      console.error(`wat2wasm: ${name}.wat does not validate in Binaryen ${binaryenVersion}`);
      process.exit(1);
    }
    // No optimisation: the benchmark measures the code as written.
    writeFileSync(wasmPath, mod.emitBinary());
    writeFileSync(keyPath, key);
    mod.dispose();
  }
  console.log(wasmPath);
}
