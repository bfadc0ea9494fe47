// Writes deterministic pseudo-random input files and turns each into a GC
// module with Binaryen's translate-to-fuzz (pinned wasm-opt), for benchmarks.
// Usage: node gen_ttf_modules.mjs OUT_DIR COUNT INPUT_BYTES
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [outDir, countArg, sizeArg] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: gen_ttf_modules.mjs OUT_DIR COUNT INPUT_BYTES");
  process.exit(2);
}
const count = Number(countArg ?? 16), size = Number(sizeArg ?? 200000);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasmOpt = join(root, "node_modules/binaryen/bin/wasm-opt");
// The feature set of slabfuzz's runtime (DESIGN.md "Scope").
const features = ["--enable-gc", "--enable-reference-types", "--enable-bulk-memory",
  "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-multivalue",
  "--enable-tail-call", "--enable-mutable-globals"];
mkdirSync(outDir, { recursive: true });

// xorshift64*: the same seed gives the same bytes on every machine.
function bytesFor(seed, n) {
  let x = BigInt(seed) * 0x9E3779B97F4A7C15n + 1n;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x >> 12n; x ^= (x << 25n) & 0xFFFFFFFFFFFFFFFFn; x ^= x >> 27n;
    out[i] = Number(((x * 0x2545F4914F6CDD1Dn) >> 56n) & 0xFFn);
  }
  return out;
}

for (let i = 0; i < count; i++) {
  const wasm = join(outDir, `ttf-${String(i).padStart(3, "0")}.wasm`);
  if (existsSync(wasm)) continue;
  const input = join(outDir, `ttf-${i}.bin`);
  writeFileSync(input, bytesFor(i + 1, size));
  execFileSync(process.execPath, [wasmOpt, "-ttf", input, ...features, "-o", wasm],
               { stdio: ["ignore", "ignore", "pipe"] });
}
