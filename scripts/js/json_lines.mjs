// The serving loop shared by the project's long-lived Node workers
// (spec_worker.mjs, binaryen_worker.mjs): one JSON request per line on
// stdin, one answer per line on stdout, in request order. The C++ side is
// process/node_worker.h.

// Lines split on "\n" only. (node:readline would also split on U+2028 and
// U+2029, which module texts may contain inside strings and comments.)
async function* requestLines(stream) {
  let parts = [];
  for await (const chunk of stream) {
    let start = 0;
    let newline;
    while ((newline = chunk.indexOf(10, start)) >= 0) {
      parts.push(chunk.subarray(start, newline));
      yield Buffer.concat(parts).toString('utf8');
      parts = [];
      start = newline + 1;
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  }
  if (parts.length > 0) yield Buffer.concat(parts).toString('utf8');
}

// Answers every non-blank line of stdin with `await handle(line)` (an object,
// written as one JSON line) until stdin ends. Lines are handled one at a
// time, in order, so answers match requests even while a handler awaits.
// Writes to a pipe are synchronous in Node on Linux, so a reader that stops
// reading only stalls this loop.
export async function serveJsonLines(handle) {
  for await (const line of requestLines(process.stdin)) {
    if (line.trim() === '') continue;
    process.stdout.write(JSON.stringify(await handle(line)) + '\n');
  }
}
