// Binaryen's `fuzzing-support` host module and its `--fuzz-exec` driver, so
// that a module made by `wasm-opt -ttf` runs here exactly as it runs under
// `wasm-opt --fuzz-exec-before` (Binaryen 132), and the two logs compare
// line for line (DESIGN.md "Oracle").
// Owns: the imports -ttf emits (log-i32/i64/f32/f64/anyref/funcref/externref,
// call-export(-catch), call-ref(-catch), table-get/set, sleep, slabfuzz's own
// `gc` (a collection now), and the
// synthesised immutable externref globals), the text of every log line, and
// the export-calling loop. Does not own: running code (exec.h), linking
// (instantiate.h) or comparing logs (oracle/).
// Contract: every line goes to the LogSink given at construction, without
// its newline. What Binaryen's JS-like host throws (a call-export of a bad
// index, table-get out of range, ...) is an uncaught JS exception: here an
// Outcome trapped with TrapKind::HostTrap and detail kJsExceptionDetail,
// which call-export-catch and call-ref-catch catch and nothing else does
// (Binaryen's interpreter does not catch traps there either).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "runtime/exec.h"
#include "runtime/host/binaryen_format.h"
#include "runtime/instantiate.h"
#include "runtime/module.h"
#include "runtime/store.h"
#include "runtime/value.h"

namespace slabfuzz {

using LogSink = std::function<void(std::string_view line)>;

// Outcome::detail of the exception fuzzing-support throws (Binaryen's
// js-tag exception with its 0xbad "jserror" payload).
inline constexpr std::string_view kJsExceptionDetail = "jserror";
// The prefix of log lines only slabfuzz writes (heap violations, digests,
// verifier reports): compared only between slabfuzz's own configurations.
inline constexpr std::string_view kSlabfuzzLinePrefix = "[slabfuzz]";
bool isJsException(const Outcome& outcome);

// What one --fuzz-exec run observed, for exit codes and the oracle.
struct FuzzExecSummary {
  uint32_t exports_called = 0;
  uint32_t traps = 0;       // semantic traps
  uint32_t exceptions = 0;  // uncaught fuzzing-support exceptions
  // A resource limit of ours (fuel, call depth, heap, memory) ended a call:
  // the run proves nothing about the module (Binaryen's "host limit", whose
  // results it ignores in comparisons).
  bool inconclusive = false;
  // A heap violation ended the run (a finding); the exports after it were
  // not called.
  std::shared_ptr<const HeapViolation> violation;
};

// One function of the fuzzing-support ABI: its import name and exact type.
struct FuzzingSupportImport {
  std::string_view name;
  FuncType type;
};
// Every function FuzzingSupport provides, in one table: what the host
// registers, and what the oracle takes as the ABI that V8's and Binaryen's
// hosts implement too (oracle/comparable.h).
std::span<const FuzzingSupportImport> fuzzingSupportAbi();

class FuzzingSupport {
 public:
  FuzzingSupport(Store& store, LogSink sink);
  FuzzingSupport(const FuzzingSupport&) = delete;
  FuzzingSupport& operator=(const FuzzingSupport&) = delete;

  // Import lookup (an ImportResolver): "fuzzing-support" functions, and for
  // any other name an immutable (ref extern) global holding externref(N)
  // where N = (sum of the bytes of module and name) mod 251, as Binaryen's
  // FuzzerImportResolver synthesises (and fuzz_shell.js mirrors).
  std::optional<ExternVal> resolve(std::string_view module, std::string_view name);
  ImportResolver resolver() {
    return [this](std::string_view m, std::string_view n) { return resolve(m, n); };
  }

  // The instance whose exports call-export indexes and whose export "table"
  // table-get/set use. Set it after instantiation, before running.
  void setInstance(Instance* instance) { instance_ = instance; }

  // Binaryen's --fuzz-exec: for each export in order, a function is called
  // with default arguments and its results or trap logged; a global's value
  // is logged.
  FuzzExecSummary runExports(Executor& exec);

  // Runs the heap verifier (Executor::verifyHeap) after every export call
  // of runExports; a broken invariant ends the run as a violation. Off by
  // default (verification walks the whole heap).
  void setVerifyAfterCall(bool on) { verify_after_call_ = on; }

  // Called after each export call of runExports once its lines are logged
  // (not after a violation, which ends the run), with the call's results
  // and their types (empty unless it returned): the oracle adds its own observations here
  // (the heap digest). Returning false says the heap recorded a violation
  // meanwhile; the run then ends with it.
  using AfterCall = std::function<bool(Executor&, std::span<const Value> results,
                                      std::span<const ValType> types)>;
  void setAfterCall(AfterCall fn) { after_call_ = std::move(fn); }

  // The "[trap ...]" / "[exception thrown: ...]" / resource line for a call
  // that did not return, as Binaryen writes it (our trap messages, which
  // differ from Binaryen's wording: comparisons normalise them).
  static std::string describeFailure(const Outcome& outcome);
  // The line for a start function that trapped (`trap`, with the trap's
  // `detail`): as describeFailure, except that a host exception reads as
  // Binaryen's and V8's instantiation failure.
  static std::string describeInstantiationTrap(TrapKind trap, const std::string& detail);

 private:
  // Registers the ABI function `name` (its type from fuzzingSupportAbi()).
  FuncAddr hostFunc(std::string_view name, HostFunction fn);
  Outcome log(std::span<const Value> args, std::span<const ValType> types);
  Outcome callExportAsJs(Executor& exec, uint32_t index);
  Outcome callFuncAsJs(Executor& exec, Ref func);
  TableInst* exportedTable() const;
  // Runs after_call_ (if set); false when it found a violation, which is
  // then logged and put in `summary`.
  bool observe(Executor& exec, std::span<const Value> results, std::span<const ValType> types,
               std::string_view name, FuzzExecSummary& summary);

  Store& store_;
  LogSink sink_;
  Instance* instance_ = nullptr;
  std::map<std::string, FuncAddr, std::less<>> funcs_;  // registered on first import
  bool verify_after_call_ = false;
  AfterCall after_call_;
};

}  // namespace slabfuzz
