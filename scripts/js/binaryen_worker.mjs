// Long-lived helper process for the Binaryen lane (generators/binaryen):
// Binaryen's translate-to-fuzz (`wasm-opt -ttf`) and its optimiser, both from
// the pinned npm package, many modules per process.
//
// Protocol (as scripts/js/spec_worker.mjs): one JSON object per line on stdin,
// one per line on stdout, answered in request order, echoing the "id".
//   {"id":N,"op":"hello"} | {"id":N,"op":"ping"}
//     -> {"id":N,"ok":true,"binaryen":"132.0.0","node":"v26...","v8":"14.6...",
//         "passes":<count of optimisation passes wasm-opt lists>}
//   {"id":N,"op":"ttf","input":"<base64>","features":["--mvp-features","--enable-gc",...],
//    "closed_world":false,"denan":false,"route":"reuse"|"fresh"|"spawn"}
//     -> {"id":N,"ok":true,"wasm":"<base64>"} | {"id":N,"ok":false,"error":"..."}
//   {"id":N,"op":"optimize","wasm":"<base64>","passes":["--gufa","-O2",...],
//    "features":[...],"route":"reuse"|"fresh"|"spawn"|"binaryenjs"}
//     -> the same answers
//   {"id":N,"op":"fuzz-exec","wasm":"<base64>","features":[...],"route":"reuse"|"fresh"|"spawn"}
//     -> {"id":N,"ok":true,"status":"completed"|"limit"|"error","lines":[...],"reason":"..."}
//        Binaryen's interpreter on the module (wasm-opt --fuzz-exec-before):
//        its log, one line per element; "limit" when Binaryen reported a
//        host limit (inconclusive), "error" when wasm-opt refused the module.
//        A module that never ends hangs this process: the client's timeout
//        kills and restarts it (oracle/external.h).
// "route" is optional (default "reuse") and exists to measure the options:
//   reuse       wasm-opt's Emscripten module, compiled once, instantiated once and
//               its main called again and again (a fresh instance after
//               RECYCLE_AFTER calls and after any failure, so that state a failed
//               run left behind never reaches the next one)
//   fresh       a new instance of the compiled module for every call
//   spawn       `node wasm-opt ...` as a child process per call (the baseline)
//   binaryenjs  (optimize only) binaryen.js: readBinary, setFeatures, runPasses
// Feature arguments must be --mvp-features, --enable-X or --disable-X; passes
// must be ones wasm-opt --help lists under "Optimization passes", -O, -O0..4,
// -Os, -Oz, or --closed-world: nothing else reaches wasm-opt's command line.
// A bad request, a refusal or an abort inside Binaryen is an ok:false answer,
// never the end of the process. It exits when stdin closes. wasm-opt's own
// stdout and stderr are captured (they would corrupt the protocol otherwise)
// and quoted in errors.

import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveJsonLines } from './json_lines.mjs';

const require = createRequire(import.meta.url);
const binaryenUrl = import.meta.resolve('binaryen');
const binaryenVersion = JSON.parse(
  fs.readFileSync(new URL('./package.json', binaryenUrl), 'utf8')).version;
const binDir = fileURLToPath(new URL('./bin/', binaryenUrl));
const wasmOptPath = join(binDir, 'wasm-opt');
const RECYCLE_AFTER = 200;
const SPAWN_TIMEOUT_MS = 60_000;

// --- wasm-opt as a function --------------------------------------------------
// wasm-opt is an Emscripten program (NODERAWFS: it reads and writes real
// files). Its script is wrapped in a function so that every evaluation is a
// new, independent runtime; two lines appended before its last statement hand
// us callMain (not exported by the build) and the embedded wasm binary, which
// we compile once: V8 then shares the compiled code between instances.
const wasmOptFactory = (() => {
  const source = fs.readFileSync(wasmOptPath, 'utf8').replace(/^#!.*\n/, '').trimEnd();
  const tail = 'createWasm().then(()=>run());';
  if (!source.endsWith(tail)) {
    throw new Error(`${wasmOptPath} does not end as the Emscripten build this worker expects`);
  }
  const body = source.slice(0, -tail.length) +
    'Module.slabfuzzCallMain=callMain;Module.slabfuzzWasmBinary=findWasmBinary;' +
    'return createWasm().then(()=>run());';
  return new Function('Module', 'require', '__dirname', '__filename', body);
})();

// What the running wasm-opt prints; its writes to fds 1 and 2 land here,
// up to CAPTURE_LIMIT characters (a fuzz-exec log past it is reported as a
// limit, never as a log that ends early).
const CAPTURE_LIMIT = 64 << 20;
let captured = '';
let capturedOverflow = false;
function capture(text) {
  if (captured.length + text.length > CAPTURE_LIMIT) {
    capturedOverflow = true;
    return;
  }
  captured += text;
}
// The fs wasm-opt sees: ours, except that the standard streams are ours too
// (stdin is the request stream, stdout the response stream).
const quietFs = {
  ...fs,
  writeSync(fd, buffer, offset, length, position) {
    if (fd !== 1 && fd !== 2) return fs.writeSync(fd, buffer, offset, length, position);
    if (typeof buffer === 'string') {
      capture(buffer);
      return Buffer.byteLength(buffer);
    }
    const off = offset ?? 0, len = length ?? buffer.byteLength - off;
    capture(Buffer.from(buffer.buffer, buffer.byteOffset + off, len).toString('utf8'));
    return len;
  },
  readSync(fd, ...rest) {
    if (fd === 0) return 0;
    return fs.readSync(fd, ...rest);
  },
};
const hookedRequire = (name) => (name === 'node:fs' || name === 'fs') ? quietFs : require(name);

let compiledWasmOpt = null;  // WebAssembly.Module

async function newWasmOpt() {
  let failed;
  const failure = new Promise((_, reject) => { failed = reject; });
  const Module = {
    noInitialRun: true,
    thisProgram: 'wasm-opt',
    print: (s) => capture(s + '\n'),
    printErr: (s) => capture(s + '\n'),
    instantiateWasm(imports, receive) {
      (async () => {
        compiledWasmOpt ??= await WebAssembly.compile(Module.slabfuzzWasmBinary());
        receive(await WebAssembly.instantiate(compiledWasmOpt, imports));
      })().catch(failed);
      return {};
    },
  };
  const saved = process.exitCode;
  try {
    await Promise.race([wasmOptFactory(Module, hookedRequire, binDir, wasmOptPath), failure]);
  } finally {
    process.exitCode = saved;
  }
  return { callMain: Module.slabfuzzCallMain, calls: 0 };
}

let shared = null;  // the reused instance

// Runs wasm-opt with `args`; returns {code, output}. A thrown error means the
// instance aborted (it is dropped).
async function wasmOpt(args, route) {
  if (route === 'spawn') {
    try {
      const out = execFileSync(process.execPath, [wasmOptPath, ...args],
                               { stdio: ['ignore', 'pipe', 'pipe'], timeout: SPAWN_TIMEOUT_MS,
                                 maxBuffer: CAPTURE_LIMIT });
      return { code: 0, output: out.toString('utf8'), overflow: false };
    } catch (e) {
      if (e.code === 'ENOBUFS') return { code: 0, output: '', overflow: true };
      if (e.status == null) throw new Error(`node wasm-opt: ${e.message}`);
      return { code: e.status, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  }
  let runner;
  if (route === 'fresh') {
    runner = await newWasmOpt();
  } else {
    if (!shared || shared.calls >= RECYCLE_AFTER) shared = await newWasmOpt();
    runner = shared;
  }
  runner.calls += 1;
  captured = '';
  capturedOverflow = false;
  const saved = process.exitCode;
  try {
    const code = runner.callMain([...args]);
    if (code !== 0 && runner === shared) shared = null;
    return { code, output: captured, overflow: capturedOverflow };
  } catch (e) {
    if (runner === shared) shared = null;
    throw new Error(`wasm-opt aborted: ${messageOf(e)}${captured ? `; it printed: ${tail(captured)}` : ''}`);
  } finally {
    process.exitCode = saved;
    captured = '';
  }
}

// --- validation of requests ---------------------------------------------------
const featurePattern = /^(--mvp-features|--(enable|disable)-[a-z0-9-]+)$/;
const levelPattern = /^-O[0-4sz]?$/;
// Options that change what passes may assume without changing the module's
// behaviour as the fuzzing-support host observes it.
const passOptions = new Set(['--closed-world']);

// The optimisation passes this wasm-opt knows, from its --help.
const knownPasses = await (async () => {
  const { code, output } = await wasmOpt(['--help'], 'reuse');
  const start = output.indexOf('Optimization passes:');
  const end = output.indexOf('Optimization options:');
  if (code !== 0 || start < 0 || end < start) throw new Error('cannot read wasm-opt --help');
  const names = new Set();
  for (const m of output.slice(start, end).matchAll(/^ {2}(--[a-z0-9-]+)/gm)) names.add(m[1]);
  return names;
})();

function features(req) {
  const f = req.features ?? [];
  if (!Array.isArray(f) || !f.every((x) => typeof x === 'string' && featurePattern.test(x))) {
    throw new Error('"features" must be a list of --mvp-features, --enable-X, --disable-X');
  }
  return f;
}

function passes(req) {
  const p = req.passes;
  if (!Array.isArray(p) || p.length === 0) throw new Error('"passes" must be a non-empty list');
  for (const x of p) {
    if (typeof x !== 'string' || !(levelPattern.test(x) || knownPasses.has(x) || passOptions.has(x))) {
      throw new Error(`unknown pass ${JSON.stringify(x)} (wasm-opt ${binaryenVersion} lists ` +
                      'no such optimisation pass; levels are -O, -O0..-O4, -Os, -Oz)');
    }
  }
  return p;
}

function route(req, allowed) {
  const r = req.route ?? 'reuse';
  if (!allowed.includes(r)) throw new Error(`"route" must be one of ${allowed.join(', ')}`);
  return r;
}

function bytesOf(field, name) {
  if (typeof field !== 'string') throw new Error(`"${name}" must be a base64 string`);
  return Buffer.from(field, 'base64');
}

function messageOf(e) {
  if (e !== null && typeof e === 'object' && typeof e.message === 'string') return e.message;
  return String(e);
}

function tail(text) {
  const t = text.trim();
  return t.length > 2000 ? '...' + t.slice(-2000) : t;
}

// --- requests -----------------------------------------------------------------
const scratch = fs.mkdtempSync(join(tmpdir(), 'slabfuzz-binaryen-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
const inPath = join(scratch, 'in'), outPath = join(scratch, 'out.wasm');

async function runToFile(args, r, what) {
  fs.rmSync(outPath, { force: true });
  const { code, output } = await wasmOpt(args, r);
  if (code !== 0) {
    return { ok: false, error: `${what} failed (wasm-opt exit ${code})${output ? ': ' + tail(output) : ''}` };
  }
  return { ok: true, wasm: fs.readFileSync(outPath).toString('base64') };
}

async function ttf(req) {
  const f = features(req), r = route(req, ['reuse', 'fresh', 'spawn']);
  // A module that closed-world passes will optimise is generated for the
  // closed world too (as Binaryen's fuzz_opt.py does): open-world modules can
  // break the assumption, and the optimiser then changes behaviour rightly.
  if (req.closed_world !== undefined && typeof req.closed_world !== 'boolean') {
    throw new Error('"closed_world" must be true or false');
  }
  const cw = req.closed_world ? ['--closed-world'] : [];
  // --denan: NaNs become 0 at run time, so that the sign and payload of an
  // arithmetic NaN (nondeterministic in the spec: x86 gives -nan, Binaryen's
  // precompute folds +nan) cannot reach the log through a reinterpret.
  if (req.denan !== undefined && typeof req.denan !== 'boolean') {
    throw new Error('"denan" must be true or false');
  }
  const dn = req.denan ? ['--denan'] : [];
  fs.writeFileSync(inPath, bytesOf(req.input, 'input'));
  return runToFile([inPath, '-ttf', ...f, ...cw, ...dn, '-o', outPath], r, 'translate-to-fuzz');
}

let binaryen = null;

async function optimize(req) {
  const f = features(req), p = passes(req);
  const r = route(req, ['reuse', 'fresh', 'spawn', 'binaryenjs']);
  const wasm = bytesOf(req.wasm, 'wasm');
  if (r === 'binaryenjs') return optimizeInProcess(wasm, f, p);
  fs.writeFileSync(inPath, wasm);
  return runToFile([inPath, ...f, ...p, '-o', outPath], r, 'optimisation');
}

// binaryen.js's route, for comparison: only the features wasm-opt would use
// are set, passes run one by one, -O levels through optimize().
async function optimizeInProcess(wasm, f, p) {
  binaryen ??= (await import(binaryenUrl)).default;
  const F = binaryen.Features;
  const byFlag = {
    'gc': F.GC, 'reference-types': F.ReferenceTypes, 'bulk-memory': F.BulkMemory | F.BulkMemoryOpt,
    'nontrapping-float-to-int': F.NontrappingFPToInt, 'sign-ext': F.SignExt,
    'multivalue': F.Multivalue, 'tail-call': F.TailCall, 'mutable-globals': F.MutableGlobals,
  };
  binaryen.setClosedWorld(false);
  let mask = F.MVP;
  for (const x of f) {
    const m = /^--enable-(.*)$/.exec(x);
    if (m && byFlag[m[1]] === undefined) throw new Error(`binaryenjs route: unsupported ${x}`);
    if (m) mask |= byFlag[m[1]];
  }
  const module = binaryen.readBinary(wasm);
  try {
    module.setFeatures(mask);
    for (const x of p) {
      const level = /^-O([0-4sz]?)$/.exec(x);
      if (level) {
        const l = level[1];
        binaryen.setOptimizeLevel(l === '' || l === 's' || l === 'z' ? 2 : Number(l));
        binaryen.setShrinkLevel(l === 's' || l === '' ? 1 : l === 'z' ? 2 : 0);
        module.optimize();
      } else if (x === '--closed-world') {
        binaryen.setClosedWorld(true);
      } else {
        module.runPasses([x.slice(2)]);
      }
    }
    // Not module.validate(): binaryen.js prints its findings on stdout,
    // which is our response stream. V8 judges the bytes instead.
    const bytes = module.emitBinary();
    if (!WebAssembly.validate(bytes)) {
      return { ok: false, error: 'binaryen.js produced a module V8 refuses' };
    }
    return { ok: true, wasm: Buffer.from(bytes).toString('base64') };
  } finally {
    module.dispose();
  }
}

// The lines of wasm-opt's output that are the execution log: everything but
// its warnings (which go to stderr, captured together with stdout here).
function logLines(output) {
  const lines = output.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.filter((l) => !/^(warning|\[wasm-validator error|Fatal:)/.test(l));
}

async function fuzzExec(req) {
  const f = features(req), r = route(req, ['reuse', 'fresh', 'spawn']);
  fs.writeFileSync(inPath, bytesOf(req.wasm, 'wasm'));
  let code, output, overflow;
  try {
    ({ code, output, overflow } = await wasmOpt([inPath, ...f, '--fuzz-exec-before', '-q'], r));
  } catch (e) {
    // The interpreter recursing past node's stack (wasm-opt is itself wasm
    // on node): a limit of this host, not a property of the module.
    if (/Maximum call stack size exceeded/.test(e.message)) {
      return { ok: true, status: 'limit', lines: [], reason: 'Binaryen\'s interpreter overflowed node\'s stack' };
    }
    // Binaryen aborts on an import its fuzzing-support host lacks, such as
    // slabfuzz's own `gc`: say so plainly.
    if (/unknown fuzzer import/.test(e.message)) {
      return { ok: true, status: 'error', lines: [],
               reason: 'Binaryen\'s interpreter does not provide an import this module calls ' +
                       '("unknown fuzzer import"; fuzzing-support.gc is slabfuzz\'s own)' };
    }
    throw e;
  }
  if (code !== 0) {
    return { ok: true, status: 'error', lines: [],
             reason: `wasm-opt exit ${code}${output ? ': ' + tail(output) : ''}` };
  }
  if (overflow) {
    return { ok: true, status: 'limit', lines: [],
             reason: `Binaryen's log is longer than ${CAPTURE_LIMIT} characters` };
  }
  const lines = logLines(output);
  const limit = lines.find((l) => l.startsWith('[host limit'));
  return { ok: true, status: limit ? 'limit' : 'completed', lines, reason: limit ?? '' };
}

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { id: null, ok: false, error: `request is not JSON: ${messageOf(e)}` };
  }
  const id = req !== null && typeof req === 'object' ? req.id : null;
  try {
    let answer;
    switch (req.op) {
      case 'hello':
      case 'ping':
        answer = { ok: true, binaryen: binaryenVersion, node: process.version,
                   v8: process.versions.v8, passes: knownPasses.size };
        break;
      case 'ttf': answer = await ttf(req); break;
      case 'optimize': answer = await optimize(req); break;
      case 'fuzz-exec': answer = await fuzzExec(req); break;
      default: answer = { ok: false, error: `unknown op ${JSON.stringify(req.op)}` };
    }
    return { id, ...answer };
  } catch (e) {
    return { id, ok: false, error: messageOf(e) };
  }
}

await serveJsonLines(handle);
