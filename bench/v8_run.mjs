// Instantiates one workload in V8 (the pinned Node) and calls one export,
// timing only the call (compilation and instantiation are outside the clock;
// V8's tiering during the call is inside it, as it would be for any caller).
// Usage: node v8_run.mjs FILE.wasm [EXPORT]   (EXPORT defaults to "run")
// Prints one JSON line:
//   {"result": "832040", "type": "i32", "call_s": 0.0042, "small_factor": 122.997}
// with the result as a decimal string, so i64 results (BigInt) survive JSON.
import { readFileSync } from "node:fs";

const [file, name = "run"] = process.argv.slice(2);
if (!file) {
  console.error("usage: v8_run.mjs FILE.wasm [EXPORT]");
  process.exit(2);
}
const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
const fn = instance.exports[name];
if (typeof fn !== "function") {
  console.error(`v8_run: ${file} has no exported function ${name}`);
  process.exit(2);
}
const t0 = process.hrtime.bigint();
const result = fn();
const callS = Number(process.hrtime.bigint() - t0) / 1e9;
const factor = instance.exports.small_factor?.value ?? null;
const type = typeof result === "bigint" ? "i64" : "i32";
console.log(JSON.stringify({ result: String(result), type, call_s: callS, small_factor: factor }));
