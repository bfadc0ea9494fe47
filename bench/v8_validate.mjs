// V8's WebAssembly.validate throughput over the .wasm files in a directory,
// printed as one JSON line: {"bytes": N, "seconds": S, "mb_per_s": X, "invalid": K}.
// Repeats the whole set until at least MIN_SECONDS have passed.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [dir, minArg] = process.argv.slice(2);
const minSeconds = Number(minArg ?? 2);
const mods = readdirSync(dir).filter((f) => f.endsWith(".wasm")).sort()
  .map((f) => new Uint8Array(readFileSync(join(dir, f))));
const total = mods.reduce((s, m) => s + m.length, 0);
let invalid = 0;
for (const m of mods) if (!WebAssembly.validate(m)) invalid++;  // warm-up and count
let rounds = 0;
const t0 = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < minSeconds) {
  for (const m of mods) WebAssembly.validate(m);
  rounds++;
  elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
}
const bytes = total * rounds;
console.log(JSON.stringify({ bytes, seconds: elapsed, mb_per_s: bytes / elapsed / 1e6, invalid }));
