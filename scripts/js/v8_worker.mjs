// Long-lived worker that runs WebAssembly modules in V8 (the pinned node)
// under slabfuzz's own implementation of Binaryen's `fuzzing-support` host
// ABI, and answers with the log in Binaryen's --fuzz-exec line format, the
// lines `slabfuzz run` prints for the same module (runtime/host/
// fuzzing_support.h is the reference for every behaviour here).
//
// Protocol (as binaryen_worker.mjs; C++ client: oracle/external.h):
//   {"id":N,"op":"hello"} | {"id":N,"op":"ping"}
//     -> {"id":N,"ok":true,"node":"v26...","v8":"14.6...","gc":"full"|"minor"|"no-op"}
//   {"id":N,"op":"run","wasm":"<base64>","timeout_ms":T?,"max_lines":L?}
//     -> {"id":N,"ok":true,"status":S,"lines":[...],"reason":"...","thread_replaced":B}
//        S is "completed" (every export called; traps are part of the log),
//        "limit" (a resource limit of V8's ended a call, or the log grew past
//        max_lines, or the run took longer than T ms: inconclusive),
//        "error" (V8 refused to compile or link the module; "reason" says why).
// Modules run on a worker_thread that lives across requests; the main thread
// only relays and keeps time. A run past its time limit terminates that
// thread (V8 interrupts running wasm) and a fresh one takes its place, which
// costs a thread start, not a process start; "thread_replaced" tells the
// client so that the event is reported. Exits when stdin closes.
//
// Host behaviour, mirroring the runtime's:
//   log-*           one "[LoggingExternalInterface logging ...]" line; an i64
//                   as its low and high i32 halves; values as Binaryen prints.
//   call-export(i)  calls export i with default arguments (0, null); a bad
//                   index, a non-function export, an i64 or non-nullable
//                   reference parameter throws a JS exception. (The export
//                   loop itself passes 0n for i64, as Binaryen does.)
//   call-export-catch / call-ref-catch: 1 when a JS exception was thrown, 0
//                   otherwise; wasm traps and resource errors pass through.
//   table-get/set   the export named "table"; out of range throws.
//   sleep(ms, id)   returns id at once.
//   gc()            a collection when node runs with --expose-gc (a minor one
//                   unless the script's argument is --gc=full), otherwise
//                   nothing ("gc" in the hello answer says which).
//   any other import: an immutable externref global holding externref(N),
//                   N = (sum of the bytes of module and field names) mod 251.
//                   A (ref extern) import gets a wasm-made value instead (JS
//                   cannot make non-nullable globals): the same log, but an
//                   eqref after any.convert_extern, unlike the runtime's.
// Trap lines carry V8's reason in the runtime's words where one maps
// (trapWords below), and V8 words some traps differently anyway (struct.get
// of a constant null is "unreachable"): compare "[trap ...]" lines as
// "[trap]", as scripts/xcheck does.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

// --- Binaryen's number printing (runtime/host/binaryen_format.cc) ------------

// printf("%.*f") and printf("%.*e") as glibc prints them: from the double's
// exact decimal expansion, rounded half to even. (JS's toFixed and
// toExponential round exact ties up: 1.11100006103515625 to 16 places is
// ...562 in C and ...563 in JS.)
const exactBits = new Float64Array(1), exactWords = new BigUint64Array(exactBits.buffer);

// A finite positive double as its exact decimal digits: {int, frac}.
function exactDecimal(d) {
  exactBits[0] = d;
  const bits = exactWords[0];
  const biased = Number((bits >> 52n) & 0x7FFn);
  let m = bits & 0xFFFFFFFFFFFFFn, e;
  if (biased === 0) e = -1074;
  else { m |= 1n << 52n; e = biased - 1075; }
  if (e >= 0) return { int: (m << BigInt(e)).toString(), frac: '' };
  // m * 2^e = m * 5^-e / 10^-e
  const digits = (m * 5n ** BigInt(-e)).toString().padStart(-e + 1, '0');
  return { int: digits.slice(0, digits.length + e), frac: digits.slice(digits.length + e) };
}

// The first `keep` digits of `s` as a number, rounded half to even by the rest.
function roundHalfEven(s, keep) {
  if (keep >= s.length) return BigInt(s + '0'.repeat(keep - s.length));
  let head = keep > 0 ? BigInt(s.slice(0, keep)) : 0n;
  const rest = s.slice(keep);
  if (rest[0] > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || (head & 1n)))) head += 1n;
  return head;
}

function cFixed(d, p) {
  const { int, frac } = exactDecimal(d);
  const r = roundHalfEven(int + frac, int.length + p).toString().padStart(p + 1, '0');
  return p > 0 ? r.slice(0, r.length - p) + '.' + r.slice(r.length - p) : r;
}

function cExponential(d, p) {
  const { int, frac } = exactDecimal(d);
  const all = int + frac;
  const z = all.search(/[1-9]/);
  let k = int.length - 1 - z;
  let r = roundHalfEven(all.slice(z), p + 1).toString();
  if (r.length > p + 1) {  // 9.99... rounded up to 10.0...
    r = r.slice(0, p + 1);
    k += 1;
  }
  const mant = p > 0 ? r[0] + '.' + r.slice(1) : r;
  const ek = Math.abs(k);
  return `${mant}e${k < 0 ? '-' : '+'}${ek < 10 ? '0' : ''}${ek}`;
}

function compressTrailingZeros(s) {
  const end = s.length - 1;
  let t = end;
  while (t > 0 && (s[t] === '0' || t > 24)) --t;
  const dropped = end - t;
  return dropped >= 3 ? s.slice(0, t + 1) + 'e' + dropped : s;
}

function stripZerosAroundDot(s, dot) {
  let last = dot;
  while (last + 1 < s.length && s[last + 1] >= '0' && s[last + 1] <= '9') ++last;
  let firstZero = last + 1;
  while (firstZero > dot + 1 && s[firstZero - 1] === '0') --firstZero;
  s = s.slice(0, firstZero) + s.slice(last + 1);
  let lead = 0;
  while (lead < s.length && s[lead] === '0') ++lead;
  return s.slice(lead);
}

const TWO64 = 18446744073709551616;

// cashew's numToString as Binaryen uses it: the fixed and the scientific
// candidate at their shortest exact precision, tidied; the more exact wins,
// or the strictly shorter scientific one when both are as exact.
function formatPositive(d) {
  const integer = Math.trunc(d) === d;
  const text = [], error = [];
  for (const sci of [false, true]) {
    let s;
    if (!integer) {
      for (let p = 0; p <= 18; ++p) {
        s = sci ? cExponential(d, p) : cFixed(d, p);
        if (Number(s) === d) break;
      }
    } else if (d <= TWO64) {
      s = d >= TWO64 ? '18446744073709551615' : BigInt(d).toString();
    } else {
      s = sci ? cExponential(d, 6) : BigInt(d).toString();
    }
    error.push(Math.abs(Number(s) - d));
    const dot = s.indexOf('.');
    if (dot >= 0) s = stripZerosAroundDot(s, dot);
    else if (!integer || !sci) s = compressTrailingZeros(s);
    text.push(s);
  }
  if (error[0] === error[1]) return text[1].length < text[0].length ? text[1] : text[0];
  return error[1] < error[0] ? text[1] : text[0];
}

const f64Bits = new Float64Array(1), u64View = new BigUint64Array(f64Bits.buffer);

function formatF64(d) {
  if (Number.isNaN(d)) {
    // The payload JS lets us see is whatever V8 kept; comparisons treat all
    // NaNs alike (DESIGN.md "Normalisation").
    f64Bits[0] = d;
    const bits = u64View[0];
    return `${bits >> 63n ? '-' : ''}nan:0x${(bits & 0xFFFFFFFFFFFFFn).toString(16)}`;
  }
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  if (!Number.isFinite(d)) return d < 0 ? '-inf' : 'inf';
  let s = formatPositive(Math.abs(d));
  if (s[0] === '.') s = '0' + s;
  return d < 0 ? '-' + s : s;
}

function formatF32(f) {
  if (Number.isNaN(f)) {
    const b = new Float32Array([f]), u = new Uint32Array(b.buffer)[0];
    return `${u >>> 31 ? '-' : ''}nan:0x${(u & 0x7FFFFF).toString(16)}`;
  }
  return formatF64(f);
}

// --- the module's signatures (types, imports, functions, exports) -----------
// JS cannot ask V8 for an export's parameter types, and default arguments
// depend on them (0 vs 0n vs null; i64 and non-nullable references throw in
// call-export), so the binary's type, import, function and export sections
// are read here. Anything unexpected just leaves the signature unknown.

function readModuleSignatures(bytes) {
  let pos = 8;
  const u32 = () => {
    let result = 0, shift = 0, b;
    do {
      b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  };
  const s33 = () => {
    let result = 0n, shift = 0n, b;
    do {
      b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (b & 0x40) result -= 1n << shift;
    return result;
  };
  const valType = () => {
    const b = bytes[pos];
    if (b >= 0x7b && b <= 0x7f) {
      pos++;
      return { kind: { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' }[b] };
    }
    if (b === 0x63 || b === 0x64) {
      pos++;
      s33();
      return { kind: 'ref', nullable: b === 0x63 };
    }
    s33();  // an abstract heap type shorthand: nullable
    return { kind: 'ref', nullable: true };
  };
  const vec = (f) => {
    const n = u32(), out = [];
    for (let i = 0; i < n; ++i) out.push(f());
    return out;
  };
  const limits = () => {
    const flags = u32();
    u32();
    if (flags & 1) u32();
  };
  const types = [], funcs = [], globals = [], globalImports = [], exports = [];
  // A constant expression (global initialisers): skipped, instruction by
  // instruction, to reach the next global's type.
  const skipConstExpr = () => {
    for (;;) {
      const op = bytes[pos++];
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x42 || op === 0xd0) s33();
      else if (op === 0x43) pos += 4;
      else if (op === 0x44) pos += 8;
      else if (op === 0x23 || op === 0xd2) u32();
      else if (op === 0xfb) {
        const sub = u32();
        if (sub === 8) { u32(); u32(); }  // array.new_fixed
        else if (sub <= 7) u32();         // struct.new(_default), array.new(_default)
      } else if (!(op >= 0x6a && op <= 0x7e)) {
        throw new Error(`unexpected opcode 0x${op.toString(16)} in a constant expression`);
      }
    }
  };
  const compType = () => {
    const form = bytes[pos++];
    if (form === 0x60) return { params: vec(valType), results: vec(valType) };
    const field = () => {
      if (bytes[pos] === 0x78 || bytes[pos] === 0x77) pos++;
      else valType();
      pos++;  // mutability
    };
    if (form === 0x5f) vec(field);
    else if (form === 0x5e) field();
    else throw new Error(`unknown composite type 0x${form.toString(16)}`);
    return null;
  };
  const subType = () => {
    if (bytes[pos] === 0x50 || bytes[pos] === 0x4f) {
      pos++;
      vec(u32);
    }
    types.push(compType());
  };
  while (pos < bytes.length) {
    const id = bytes[pos++], size = u32(), end = pos + size;
    if (id === 1) {
      const n = u32();
      for (let i = 0; i < n; ++i) {
        if (bytes[pos] === 0x4e) {
          pos++;
          const m = u32();
          for (let j = 0; j < m; ++j) subType();
        } else {
          subType();
        }
      }
    } else if (id === 2) {
      const n = u32();
      for (let i = 0; i < n; ++i) {
        for (let k = 0; k < 2; ++k) {  // module and field names
          const len = u32();
          pos += len;
        }
        const kind = bytes[pos++];
        if (kind === 0) funcs.push(u32());
        else if (kind === 1) { valType(); limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) {
          const t = valType();
          globals.push(t);
          globalImports.push(t);
          pos++;
        }
        else if (kind === 4) { pos++; u32(); }
        else throw new Error(`unknown import kind ${kind}`);
      }
    } else if (id === 3) {
      for (const t of vec(u32)) funcs.push(t);
    } else if (id === 6) {
      const n = u32();
      for (let i = 0; i < n; ++i) {
        globals.push(valType());
        pos++;
        skipConstExpr();
      }
    } else if (id === 7) {
      const n = u32();
      for (let i = 0; i < n; ++i) {
        const len = u32();
        const name = Buffer.from(bytes.subarray(pos, pos + len)).toString('utf8');
        pos += len;
        const kind = bytes[pos++];
        exports.push({ name, kind, index: u32() });
      }
    }
    pos = end;
  }
  return { funcType: (f) => types[funcs[f]] ?? null, globalType: (g) => globals[g] ?? null,
           importedGlobal: (i) => globalImports[i] ?? null, exports };
}

// --- running one module ------------------------------------------------------

const LOG = '[LoggingExternalInterface logging';

// An externref the host made up (a synthesised global): printed externref(N).
class HostExtern {
  constructor(n) { this.n = n; Object.freeze(this); }
}
// A JS exception thrown by the host itself (bad export index, table index
// out of range, a parameter JS cannot supply): what call-export-catch and
// call-ref-catch catch, and "[exception thrown: imported-js-tag jserror]"
// when nothing does.
class HostException extends Error {}

function isResourceError(e) {
  return e instanceof RangeError && /call stack|out of memory|allocat/i.test(e.message);
}

// V8's trap messages (RuntimeError) in the runtime's words (runtime/traps.def).
// Against ours a trap line is compared by its class (oracle/trap_class.h,
// trap_spellings.def), so a message must land in the right class; an
// unknown message is kept behind "v8: " (and matches any semantic trap).
const trapWords = [
  [/^unreachable/, 'unreachable'],
  [/divide by zero|remainder by zero/, 'integer divide by zero'],
  [/divide result unrepresentable/, 'integer overflow'],
  [/float unrepresentable/, 'invalid conversion to integer'],
  [/memory access out of bounds|data segment out of bounds/, 'out of bounds memory access'],
  [/table index is out of bounds|element segment out of bounds|table access out of bounds/,
   'out of bounds table access'],
  [/null function or function signature mismatch|function signature mismatch/,
   'indirect call type mismatch'],
  // call_indirect of a null table entry (V8 14 says it apart from a
  // signature mismatch): ours calls that an uninitialized element.
  [/^null function$/, 'uninitialized element'],
  [/dereferencing a null pointer|null reference/, 'null reference'],
  [/illegal cast/, 'cast failure'],
  [/array element access out of bounds|array (index )?out of bounds/, 'out of bounds array access'],
];
// Resource traps: the runtime's "host limit" class, inconclusive.
const limitWords = [[/requested new array is too large|array too large/, 'array too large']];

// The line for a call that did not return, and whether it makes the run
// inconclusive.
function describeFailure(e) {
  if (e instanceof HostException) return { line: '[exception thrown: imported-js-tag jserror]' };
  if (isResourceError(e)) {
    return { line: `[host limit ${/memory/i.test(e.message) ? 'heap exhausted' : 'call stack exhausted'}]`,
             limit: true, reason: e.message };
  }
  if (e instanceof WebAssembly.RuntimeError) {
    for (const [re, words] of limitWords) {
      if (re.test(e.message)) return { line: `[host limit ${words}]`, limit: true, reason: e.message };
    }
    for (const [re, words] of trapWords) if (re.test(e.message)) return { line: `[trap ${words}]` };
    return { line: `[trap v8: ${e.message}]` };
  }
  // Any other JS error escaping a call is the harness's or V8's surprise:
  // logged as an exception, and its text kept for the reader.
  return { line: '[exception thrown: imported-js-tag jserror]', note: String(e) };
}

// A non-nullable (ref extern) global cannot be made from JS (the JS API has
// only nullable externref globals), so such imports get one exported by a
// tiny module: extern.convert_any of a struct holding N. JS sees that struct
// as the externref; printing maps it back to externref(N). Unlike a host
// object it is an eqref after any.convert_extern (a difference a module can
// observe with ref.test; none of gcgen's or -ttf's modules has so far).
const nonNullExterns = new Map();  // N -> WebAssembly.Global
const madeExterns = new Map();     // the struct object -> N
function nonNullExternGlobal(n) {
  let g = nonNullExterns.get(n);
  if (g) return g;
  const leb = n < 64 ? [n] : [(n & 0x7f) | 0x80, n >> 7];
  const init = [0x41, ...leb, 0xfb, 0x00, 0x00, 0xfb, 0x1b, 0x0b];  // struct.new 0, extern.convert_any
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x5f, 0x01, 0x7f, 0x00,                    // (type (struct (field i32)))
    0x06, 4 + init.length, 0x01, 0x64, 0x6f, 0x00, ...init,      // (global (ref extern) ...)
    0x07, 0x05, 0x01, 0x01, 0x67, 0x03, 0x00,                    // (export "g" (global 0))
  ]);
  g = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.g;
  madeExterns.set(g.value, n);
  nonNullExterns.set(n, g);
  return g;
}

function formatValue(v) {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      // An i31 reaches JS as a number; so does every i32/f32/f64. The
      // caller knows which it asked for (see formatResult/log lines).
      return formatF64(v);
    case 'bigint': return BigInt.asIntN(64, v).toString();
    case 'function': return 'function';
    case 'undefined': return 'undefined';
    default:
      if (v instanceof HostExtern) return `externref(${v.n})`;
      if (madeExterns.has(v)) return `externref(${madeExterns.get(v)})`;
      // A struct or array: opaque to JS, its prototype null.
      return 'object(null)';
  }
}

function formatRef(v) {
  if (typeof v === 'number') return `i31ref(${v})`;
  return formatValue(v);
}

function formatTyped(v, type) {
  if (!type) return typeof v === 'number' ? formatF64(v) : formatValue(v);
  switch (type.kind) {
    case 'i32': return String(v | 0);
    case 'i64': return BigInt.asIntN(64, v).toString();
    case 'f32': return formatF32(v);
    case 'f64': return formatF64(v);
    case 'ref': return formatRef(v);
    default: return 'v128';
  }
}

// What gc() does: "full" (a full collection, ~4 ms each), "minor" (a
// young-generation scavenge, ~0.1 ms: the collector that moves objects
// most often), or "no-op" when node runs without --expose-gc. Chosen by the
// script's argument --gc=full|minor; defaults to minor.
const gcArg = (isMainThread ? process.argv : [`--gc=${workerData?.gc}`])
  .map((a) => /^--gc=(full|minor)$/.exec(a)?.[1]).find(Boolean) ?? 'minor';
const gcMode = typeof globalThis.gc === 'function' ? gcArg : 'no-op';
const collect = gcMode === 'full' ? () => globalThis.gc()
  : gcMode === 'minor' ? () => globalThis.gc({ type: 'minor' }) : () => {};

function runModule(bytes, maxLines) {
  const lines = [];
  let limit = null;
  const emit = (line) => {
    if (lines.length >= maxLines) {
      limit ??= `the log reached ${maxLines} lines`;
      throw new HostException('log limit');
    }
    lines.push(line);
  };
  let sigs;
  try {
    sigs = readModuleSignatures(bytes);
  } catch (e) {
    sigs = { funcType: () => null, globalType: () => null, importedGlobal: () => null, exports: [] };
  }
  let module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    return { status: 'error', lines, reason: `V8 refused the module: ${e.message}` };
  }
  if (sigs.exports.length === 0) {
    const kinds = { function: 0, table: 1, memory: 2, global: 3, tag: 4 };
    sigs.exports = WebAssembly.Module.exports(module).map((e) => ({ name: e.name, kind: kinds[e.kind] }));
  }
  let instance = null;
  const exportValue = (i) => {
    const e = sigs.exports[i];
    return e && instance ? instance.exports[e.name] : undefined;
  };
  // Default arguments for a call from JS; null when JS cannot make them.
  const defaults = (type, forExport) => {
    if (!type) return [];
    const args = [];
    for (const p of type.params) {
      if (p.kind === 'i64') {
        if (!forExport) return null;  // undefined has no BigInt conversion
        args.push(0n);
      } else if (p.kind === 'ref') {
        if (!p.nullable) return null;
        args.push(null);
      } else {
        args.push(0);
      }
    }
    return args;
  };
  const callAsJs = (fn) => {
    if (typeof fn !== 'function') throw new HostException('not a function');
    const index = Number(fn.name);
    const type = Number.isInteger(index) && fn.name !== '' ? sigs.funcType(index) : null;
    const args = defaults(type, false);
    if (args === null) throw new HostException('parameters JS cannot supply');
    fn(...args);
  };
  const callExport = (i) => {
    const e = sigs.exports[i >>> 0];
    if (!e || e.kind !== 0) throw new HostException('no function export at that index');
    callAsJs(exportValue(i >>> 0));
  };
  // call-export-catch and call-ref-catch catch the host's exceptions only.
  const catching = (f) => {
    try {
      f();
      return 0;
    } catch (e) {
      if (e instanceof HostException && limit === null) return 1;
      throw e;
    }
  };
  const table = () => {
    const t = instance?.exports.table;
    if (!(t instanceof WebAssembly.Table)) throw new HostException('no exported table');
    return t;
  };
  const hostOp = (f) => {
    try {
      return f();
    } catch (e) {
      if (e instanceof HostException || e instanceof WebAssembly.RuntimeError || isResourceError(e)) throw e;
      throw new HostException(String(e));
    }
  };
  const log = (format) => (...args) => { emit(`${LOG} ${args.map(format).join(' ')}]`); };
  const support = {
    'log-i32': log((v) => String(v | 0)),
    'log-i64': (v) => {
      emit(`${LOG} ${BigInt.asIntN(32, v)} ${BigInt.asIntN(32, v >> 32n)}]`);
    },
    'log-f32': log(formatF32),
    'log-f64': log(formatF64),
    'log-anyref': log(formatRef),
    'log-funcref': log(formatValue),
    'log-externref': log(formatRef),
    'call-export': (i, _rethrow) => { callExport(i); },
    'call-export-catch': (i) => catching(() => callExport(i)),
    'call-ref': (f, _rethrow) => { callAsJs(f); },
    'call-ref-catch': (f) => catching(() => callAsJs(f)),
    'table-get': (i) => hostOp(() => table().get(i >>> 0)),
    'table-set': (i, f) => hostOp(() => { table().set(i >>> 0, f); }),
    'sleep': (_ms, id) => id,
    'gc': () => { collect(); },
  };
  const imports = {};
  let globalImport = 0;
  for (const imp of WebAssembly.Module.imports(module)) {
    const type = imp.kind === 'global' ? sigs.importedGlobal(globalImport++) : null;
    imports[imp.module] ??= {};
    if (imp.module === 'fuzzing-support') {
      if (imp.name in support) imports[imp.module][imp.name] = support[imp.name];
      continue;
    }
    let n = 0;
    for (const b of Buffer.from(imp.module + imp.name, 'utf8')) n = (n + b) % 251;
    imports[imp.module][imp.name] = type && type.kind === 'ref' && !type.nullable
      ? nonNullExternGlobal(n)
      : new WebAssembly.Global({ value: 'externref', mutable: false }, new HostExtern(n));
  }
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (e) {
    if (e instanceof WebAssembly.LinkError || e instanceof TypeError) {
      return { status: 'error', lines, reason: `V8 could not link the module: ${e.message}` };
    }
    const f = describeFailure(e);
    // The start function threw a host exception (e.g. table-get before the
    // instance, and so its "table", exists): Binaryen words this line its
    // own way.
    lines.push(e instanceof HostException ? '[exception thrown: failed to instantiate module]' : f.line);
    return { status: f.limit ? 'limit' : 'completed', lines, reason: f.reason ?? '' };
  }
  // A resource limit ends one call, not the run (as in the runtime), but
  // makes the whole run inconclusive; the log cap ends the run.
  let inconclusive = '', note = '';
  for (let i = 0; i < sigs.exports.length && limit === null; ++i) {
    const e = sigs.exports[i];
    if (e.kind !== 0 && e.kind !== 3) continue;  // tables, memories: not logged
    try {
      emit(`[fuzz-exec] export ${e.name}`);
      if (e.kind === 3) {
        emit(`${LOG} ${formatTyped(instance.exports[e.name].value, sigs.globalType(e.index))}]`);
        continue;
      }
      const type = sigs.funcType(e.index);
      const args = defaults(type, true);
      if (args === null) {
        emit('[trap fuzzer can only send defaultable parameters to exports]');
        continue;
      }
      const result = instance.exports[e.name](...args);
      const results = type ? type.results : [];
      const values = results.length > 1 ? result : [result];
      results.forEach((t, k) => {
        const text = formatTyped(values[k], t);
        emit(k === 0 ? `[fuzz-exec] note result: ${e.name} => ${text}` : text);
      });
    } catch (err) {
      if (limit !== null) break;
      const f = describeFailure(err);
      lines.push(f.line);
      if (f.limit) inconclusive ||= f.reason || 'resource limit';
      if (f.note) note ||= f.note;
    }
  }
  if (limit !== null) return { status: 'limit', lines, reason: limit };
  if (inconclusive) return { status: 'limit', lines, reason: inconclusive };
  return { status: 'completed', lines, reason: note };
}

// --- the thread that runs modules --------------------------------------------

if (!isMainThread) {
  parentPort.on('message', ({ seq, wasm, maxLines }) => {
    let answer;
    try {
      answer = runModule(new Uint8Array(wasm), maxLines);
    } catch (e) {
      answer = { status: isResourceError(e) ? 'limit' : 'error', lines: [],
                 reason: `harness failure: ${e?.stack ?? e}` };
    }
    parentPort.postMessage({ seq, ...answer, lines: [...answer.lines] });
  });
} else {
  const { serveJsonLines } = await import('./json_lines.mjs');
  const self = fileURLToPath(import.meta.url);
  const DEFAULT_TIMEOUT_MS = 10_000, DEFAULT_MAX_LINES = 100_000;
  let runner = null, seq = 0;
  let pending = null;  // {seq, resolve}

  const startRunner = () => {
    // V8 flags (--expose-gc) are process-wide: the thread sees gc() without them.
    const w = new Worker(self, { execArgv: [], workerData: { gc: gcMode } });
    w.on('message', (m) => {
      if (pending && m.seq === pending.seq) pending.resolve(m);
    });
    w.on('error', (e) => {
      if (w === runner && pending) {
        pending.resolve({ status: isResourceError(e) || /memory/i.test(String(e)) ? 'limit' : 'error',
                          lines: [], reason: `the run thread died: ${e?.message ?? e}`, died: true });
      }
    });
    w.on('exit', () => {
      if (w === runner) {
        runner = null;
        pending?.resolve({ status: 'limit', lines: [], reason: 'the run thread exited', died: true });
      }
    });
    w.unref();
    runner = w;
  };

  const run = async (req) => {
    if (typeof req.wasm !== 'string') throw new Error('"wasm" must be a base64 string');
    const bytes = Buffer.from(req.wasm, 'base64');
    const timeout = Number.isInteger(req.timeout_ms) && req.timeout_ms > 0 ? req.timeout_ms : DEFAULT_TIMEOUT_MS;
    const maxLines = Number.isInteger(req.max_lines) && req.max_lines > 0 ? req.max_lines : DEFAULT_MAX_LINES;
    if (!runner) startRunner();
    const mine = ++seq;
    let timer;
    const answer = await new Promise((resolve) => {
      pending = { seq: mine, resolve };
      timer = setTimeout(() => resolve({ status: 'limit', lines: [], timedOut: true,
                                         reason: `the run took longer than ${timeout} ms` }), timeout);
      const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      runner.postMessage({ seq: mine, wasm: copy, maxLines }, [copy]);
    });
    clearTimeout(timer);
    pending = null;
    let replaced = false;
    if (answer.timedOut || answer.died) {
      const old = runner;
      runner = null;
      if (old) await old.terminate();
      startRunner();
      replaced = true;
    }
    return { ok: true, status: answer.status, lines: answer.lines, reason: answer.reason ?? '',
             thread_replaced: replaced };
  };

  await serveJsonLines(async (line) => {
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      return { id: null, ok: false, error: `request is not JSON: ${e.message}` };
    }
    const id = req !== null && typeof req === 'object' ? req.id : null;
    try {
      switch (req.op) {
        case 'hello':
        case 'ping':
          return { id, ok: true, node: process.version, v8: process.versions.v8, gc: gcMode };
        case 'run': return { id, ...(await run(req)) };
        default: return { id, ok: false, error: `unknown op ${JSON.stringify(req.op)}` };
      }
    } catch (e) {
      return { id, ok: false, error: e?.message ?? String(e) };
    }
  });
  if (runner) await runner.terminate();
}
