// The external engines (external.h) as oracle engines (engine.h): V8 and
// Binaryen's interpreter next to our configurations in one comparison, e.g.
// `slabfuzz diff m.wasm --engines ref,slab-zeal,v8,binaryen`.
// Owns: turning an EngineRun into an ExecutionLog, and what a module must
// lose before an engine can run it (Binaryen's interpreter aborts on
// slabfuzz's `gc` import: it gets the module with that import stubbed,
// oracle/stub_import.h, which no log can tell apart on a correct engine).
// Does not own: the workers (external.h) or the comparison (compare.h).
// Contract: a worker restarted during a run is said in the log's message;
// an engine whose workers are gone for good gives Rejected logs saying so.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/engine.h"
#include "oracle/external.h"

namespace slabfuzz {

// An oracle Engine running modules on the named external engine.
Result<std::unique_ptr<Engine>, std::string> makeExternalOracleEngine(std::string_view name,
                                                                      ExternalOptions options);

// The bytes the named external engine is given for `input`: the module as
// read, except that Binaryen gets slabfuzz's `gc` import stubbed and no
// custom sections (its reader refuses malformed name sections, which the
// spec says to ignore). A finding
// keeps them, so that the engine's run can be repeated by hand.
std::vector<uint8_t> externalInputBytes(std::string_view engine, const ModuleInput& input);

// What kind of refusal an external engine's reason for refusing a module
// is (its compile or link error, or the worker's failure), read from the
// words V8, Binaryen and the workers use: an implementation limit, a
// feature it lacks, a link error, a harness failure, or else the module.
Rejection externalRejection(std::string_view reason);

// A factory for makeEngines that makes external engines with `options`.
ExternalEngineFactory externalEngineFactory(ExternalOptions options = {});

}  // namespace slabfuzz
