// The measuring half of bench/gc-heap: runs gc_bench (one configuration per
// process, so each peak RSS is that configuration's) and V8 on each
// allocation-heavy workload, checks every checksum against V8's, and prints
// the table. Figures, not a test: the exit status never depends on time, only
// on a checksum mismatch or failed run (3) or bad usage (2).
//
// Usage: node gc_heap.mjs --gc-bench PATH --wasm-dir DIR [--runs N] [--small]
//          [--cap-mib M] [--zeal-export NAME] [--timeout S] [WORKLOAD...]
import { spawnSync } from "node:child_process";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const node = process.execPath;
const v8Run = join(here, "v8_run.mjs");
const GOAL_SLAB_VS_REF = 1.3;  // slab (normal triggers) at most this many times ref's time
const DEFAULT_WORKLOADS = ["tree", "array_cast", "churn"];

function parseArgs(argv) {
  const o = { runs: 3, small: false, capMiB: 64, zealExport: "run_small", timeout: 600,
              gcBench: null, wasmDir: null, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") o.runs = Number(argv[++i]);
    else if (a === "--small") o.small = true;
    else if (a === "--cap-mib") o.capMiB = Number(argv[++i]);
    else if (a === "--zeal-export") o.zealExport = argv[++i];
    else if (a === "--timeout") o.timeout = Number(argv[++i]);
    else if (a === "--gc-bench") o.gcBench = argv[++i];
    else if (a === "--wasm-dir") o.wasmDir = argv[++i];
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else o.only.push(a);
  }
  if (!o.gcBench || !o.wasmDir) usage("--gc-bench and --wasm-dir are required");
  if (!(o.runs >= 1) || !(o.capMiB > 0) || !(o.timeout > 0)) usage("--runs, --cap-mib, --timeout must be positive");
  return o;
}
function usage(msg) {
  console.error(`gc_heap: ${msg}`);
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const norm = (v, type) => String(BigInt.asIntN(type === "i64" ? 64 : 32, BigInt(v)));

// One process; its JSON line, or {error}.
function runJson(cmd, args, timeoutS) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutS * 1000, killSignal: "SIGKILL" });
  if (r.error?.code === "ETIMEDOUT") return { error: `timeout (>${timeoutS}s)` };
  if (r.error) throw r.error;
  if (r.status !== 0) return { error: `exit ${r.status}: ${(r.stderr ?? "").trim().split("\n").pop()}` };
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

// `runs` processes; the JSON of the median-time one, or {error}.
function series(runs, once, key) {
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const r = once();
    if (r.error) return r;
    xs.push(r);
  }
  xs.sort((a, b) => a[key] - b[key]);
  const m = xs[(xs.length - 1) >> 1];
  return { ...m, results: [...new Set(xs.map((x) => x.result))] };
}

const opts = parseArgs(process.argv.slice(2));
const workloads = opts.only.length ? opts.only : DEFAULT_WORKLOADS;
const main = opts.small ? "run_small" : "run";
const capBytes = Math.round(opts.capMiB * 1024 * 1024);
// The rows: [label, config, export, extra gc_bench args]. slab-zeal and
// slab-small (oracle/config.cc: small slabs *and* zeal) collect at every
// safepoint, thousands of times slower, so they run zealExport (run_small
// unless told) and their ratio is against ref on the same export.
const rows = [
  ["ref", "ref", main, []],
  ["slab", "slab", main, []],
  [`slab cap ${opts.capMiB}M`, "slab", main, ["--max-heap", String(capBytes)]],
  ["slab-small", "slab-small", opts.zealExport, []],
  ["slab-zeal", "slab-zeal", opts.zealExport, []],
];
if (opts.zealExport !== main) rows.push([`ref (${opts.zealExport})`, "ref", opts.zealExport, []]);

const isZeal = (config) => config === "slab-zeal" || config === "slab-small";
const fmtS = (x) => (x == null ? "-" : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(4));
const fmtR = (x) => (x == null || !isFinite(x) ? "-" : x >= 100 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`);
const fmtUs = (x) => (x == null ? "-" : x >= 1000 ? `${(x / 1000).toFixed(1)}ms` : `${x.toFixed(x >= 10 ? 0 : 1)}us`);
const pad = (s, n) => String(s).padStart(n);
const padL = (s, n) => String(s).padEnd(n);

const problems = [];
console.log(`gc_bench: ${opts.gcBench}; ${opts.runs} round(s), rows interleaved, median; one process per run`);
for (const w of workloads) {
  const wasm = join(opts.wasmDir, `${w}.wasm`);
  // V8 gives each export's checksum, and its own time on the main export.
  const v8 = {};
  for (const exp of new Set(rows.map((r) => r[2]))) {
    const r = series(exp === main ? opts.runs : 1, () => runJson(node, [v8Run, wasm, exp], opts.timeout), "call_s");
    if (r.error) { problems.push(`${w}: V8 ${exp}: ${r.error}`); continue; }
    v8[exp] = r;
  }
  // Rounds: each round runs every row once, so a load change on a shared
  // machine hits all rows alike instead of the rows that happened to run
  // during it. Zeal rows on another export run in the first round only.
  const measured = rows.map(([label, config, exp, extra]) => ({ label, config, exp, extra, xs: [] }));
  for (let round = 0; round < opts.runs; round++) {
    for (const m of measured) {
      if (m.error || (round > 0 && isZeal(m.config) && m.exp !== main)) continue;
      const r = runJson(opts.gcBench, ["--config", m.config, "--export", m.exp, ...m.extra, wasm], opts.timeout);
      if (r.error) { m.error = r.error; problems.push(`${w} ${m.label}: ${r.error}`); continue; }
      m.xs.push(r);
    }
  }
  for (const m of measured) {
    if (m.error) { m.r = { error: m.error }; continue; }
    m.xs.sort((a, b) => a.call_s - b.call_s);
    m.r = { ...m.xs[(m.xs.length - 1) >> 1], results: [...new Set(m.xs.map((x) => x.result))] };
    const want = v8[m.exp];
    const type = want?.type ?? "i32";
    for (const got of m.r.results)
      if (want && norm(got, type) !== norm(want.result, type))
        problems.push(`${w} ${m.label} (${m.exp}): gives ${norm(got, type)}, V8 gives ${norm(want.result, type)}`);
  }
  const refOf = (exp) => measured.find((m) => m.config === "ref" && m.exp === exp && !m.r.error)?.r;
  console.log(`\n${w}  (checksum ${v8[main] ? norm(v8[main].result, v8[main].type) : "?"} on ${main})`);
  console.log(`${padL("config", 16)} ${padL("export", 10)} ${pad("seconds", 9)} ${pad("/ref", 7)} ` +
              `${pad("GCs", 7)} ${pad("p50", 7)} ${pad("p99", 7)} ${pad("max", 7)} ` +
              `${pad("peak live", 10)} ${pad("RSS MiB", 8)}`);
  for (const { label, exp, r } of measured) {
    if (r.error) { console.log(`${padL(label, 16)} ${padL(exp, 10)} ${r.error}`); continue; }
    const ref = refOf(exp);
    const p = r.pauses;
    console.log(`${padL(label, 16)} ${padL(exp, 10)} ${pad(fmtS(r.call_s), 9)} ${pad(fmtR(ref ? r.call_s / ref.call_s : null), 7)} ` +
                `${pad(r.collections, 7)} ${pad(p.count ? fmtUs(p.p50_us) : "-", 7)} ` +
                `${pad(p.count ? fmtUs(p.p99_us) : "-", 7)} ${pad(p.count ? fmtUs(p.max_us) : "-", 7)} ` +
                `${pad((r.peak_live_bytes / 1048576).toFixed(1) + "M", 10)} ${pad((r.peak_rss_kib / 1024).toFixed(1), 8)}`);
  }
  const v = v8[main];
  if (v) {
    const ref = refOf(main);
    console.log(`${padL("V8", 16)} ${padL(main, 10)} ${pad(fmtS(v.call_s), 9)} ${pad(fmtR(ref ? v.call_s / ref.call_s : null), 7)}`);
  }
  const slab = measured.find((m) => m.label === "slab" && !m.r.error)?.r, ref = refOf(main);
  if (slab && ref) {
    const q = slab.call_s / ref.call_s;
    console.log(`slab/ref ${fmtR(q)}: goal <= ${GOAL_SLAB_VS_REF}x ${q <= GOAL_SLAB_VS_REF ? "met" : "MISSED"}`);
  }
}
console.log(`\nseconds: the export's call alone (steady_clock), median of the rounds (rows interleaved);`);
console.log(`zeal rows: one run. Pauses, GCs, RSS: those of the median process.`);
console.log(`/ref: against ref on the same export. GCs and pauses: slab heap collections of that run.`);
console.log(`peak live: most live bytes (HeapLimits estimate) seen; RSS: the process's ru_maxrss.`);
if (problems.length) {
  console.log(`\nCHECKSUM MISMATCH OR FAILED RUN:`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(3);
}
