// The oracle (oracle/): normalisation, verdicts, signatures and the abort
// function per finding kind, and differential runs that must find a planted
// difference (a heap that corrupts reads, a verifier that fails, the seed
// bug's back-edge-blind stack maps) with the right signature, and must
// never call exhaustion a finding.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "generators/gcgen/gcgen.h"
#include "oracle/comparable.h"
#include "oracle/compare.h"
#include "oracle/engine.h"
#include "oracle/finding.h"
#include "oracle/normalise.h"
#include "oracle/run.h"
#include "tests/support/forwarding_heap.h"
#include "text/wat.h"
#include "tools/gen_input.h"

namespace slabfuzz {
namespace {

using LogStatus = ExecutionLog::Status;

ExecutionLog ourLog(std::string engine, std::vector<std::string> lines,
                    LogStatus status = LogStatus::Ran) {
  ExecutionLog l;
  l.engine = std::move(engine);
  l.lines = std::move(lines);
  l.status = status;
  l.ours = true;
  return l;
}

std::vector<uint8_t> wat(std::string_view text) {
  auto bytes = assembleWat(text);
  EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().toString());
  return bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>{};
}

std::vector<uint8_t> readRegress(const std::string& name) {
  std::string path = std::string(SLABFUZZ_GOLDEN_DIR) + "/../../corpus/regress/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ExecutionLog run(std::span<const uint8_t> wasm, std::string_view config,
                 OurRunOptions options = {}) {
  auto c = parseEngineConfig(config);
  EXPECT_TRUE(c.ok()) << config;
  options.config = c.value();
  return runOurs(ModuleInput{wasm, nullptr}, options);
}

// --- normalisation --------------------------------------------------------

TEST(OracleNormalise, NanPayloadsAndSignsAreCanonical) {
  EXPECT_EQ(canonicalNans("[LoggingExternalInterface logging nan:0x400000]"),
            "[LoggingExternalInterface logging nan]");
  EXPECT_EQ(canonicalNans("[LoggingExternalInterface logging -nan:0x8000000000000 1]"),
            "[LoggingExternalInterface logging nan 1]");
  EXPECT_EQ(canonicalNans("[fuzz-exec] note result: nan => -nan:0x1"),
            "[fuzz-exec] note result: nan => nan");
  // Names are not values.
  EXPECT_EQ(canonicalNans("[fuzz-exec] export banana:0x1"), "[fuzz-exec] export banana:0x1");
  EXPECT_EQ(canonicalNans("[fuzz-exec] note result: nanny => 1"),
            "[fuzz-exec] note result: nanny => 1");
  // Normalising twice changes nothing.
  std::string once = canonicalNans("[LoggingExternalInterface logging -nan:0xabc]");
  EXPECT_EQ(canonicalNans(once), once);
}

TEST(OracleNormalise, LogsDifferingOnlyInNanPayloadsAgree) {
  ExecutionLog a = ourLog("ref", {"[fuzz-exec] export f", "[fuzz-exec] note result: f => nan:0x400000"});
  ExecutionLog b = ourLog("slab-zeal", {"[fuzz-exec] export f", "[fuzz-exec] note result: f => -nan:0x1"});
  EXPECT_EQ(compareLogs(a, b).kind, Verdict::Kind::Agree);
}

TEST(OracleNormalise, OurLinesAndTrapWordingOnlyBetweenOurs) {
  ExecutionLog a = ourLog("ref", {"[fuzz-exec] export f", "[trap unreachable]",
                                  "[slabfuzz] heap digest 0000000000000001 verified"});
  ExecutionLog b = a;
  b.engine = "v8";
  b.ours = false;
  b.lines = {"[fuzz-exec] export f", "[trap unreachable executed]"};
  EXPECT_EQ(compareLogs(a, b).kind, Verdict::Kind::Agree);
  ExecutionLog c = ourLog("slab", {"[fuzz-exec] export f", "[trap unreachable]",
                                   "[slabfuzz] heap digest 0000000000000002 verified"});
  Verdict v = compareLogs(a, c);
  ASSERT_EQ(v.kind, Verdict::Kind::Finding);
  EXPECT_EQ(v.signature.kind, FindingKind::DiffHeapDigest);
  EXPECT_EQ(v.signature.site, "export f, log line 3");
}

// --- verdicts ---------------------------------------------------------------

TEST(OracleCompare, ClassifiesTheFirstDifference) {
  ExecutionLog base = ourLog("ref", {"[fuzz-exec] export f", "[LoggingExternalInterface logging 1]",
                                     "[fuzz-exec] note result: f => 2"});
  ExecutionLog log = base, result = base;
  log.lines[1] = "[LoggingExternalInterface logging 7]";
  result.lines[2] = "[fuzz-exec] note result: f => 3";
  EXPECT_EQ(compareLogs(base, log).signature.kind, FindingKind::DiffLog);
  Verdict r = compareLogs(base, result);
  EXPECT_EQ(r.signature.kind, FindingKind::DiffResult);
  EXPECT_EQ(r.line, 3u);
  EXPECT_EQ(r.line_b, "[fuzz-exec] note result: f => 3");
  EXPECT_EQ(r.signature.toString(), "diff:result at export f, log line 3 [mutator]");
}

ExecutionLog theirLog(std::string engine, std::vector<std::string> lines,
                      LogStatus status = LogStatus::Ran) {
  ExecutionLog l = ourLog(std::move(engine), std::move(lines), status);
  l.ours = false;
  return l;
}

TEST(OracleCompare, AOneSidedTrapIsAFindingAgainstEveryEngine) {
  const std::vector<std::string> trapped = {"[fuzz-exec] export f", "[LoggingExternalInterface logging 1]",
                                            "[trap cast failure]", "[fuzz-exec] export g",
                                            "[fuzz-exec] note result: g => 1"};
  const std::vector<std::string> returned = {"[fuzz-exec] export f", "[LoggingExternalInterface logging 1]",
                                             "[fuzz-exec] note result: f => 0", "[fuzz-exec] export g",
                                             "[fuzz-exec] note result: g => 1"};
  // Between our own configurations, and against V8 or Binaryen alike: a
  // spurious trap of ours is what the cross-check exists to see.
  for (const ExecutionLog& other :
       {ourLog("slab-zeal", returned), theirLog("v8", returned), theirLog("binaryen", returned)}) {
    Verdict v = compareLogs(ourLog("ref", trapped), other);
    ASSERT_EQ(v.kind, Verdict::Kind::Finding) << other.engine;
    EXPECT_EQ(v.signature.kind, FindingKind::DiffTrap) << other.engine;
    EXPECT_EQ(v.line, 3u) << other.engine;
    // The other way round too: a trap the engine has and we do not.
    EXPECT_EQ(compareLogs(ourLog("ref", returned), theirLog(other.engine, trapped)).kind,
              Verdict::Kind::Finding);
  }
  // A difference before the trap is still the first one.
  std::vector<std::string> earlier = returned;
  earlier[1] = "[LoggingExternalInterface logging 2]";
  EXPECT_EQ(compareLogs(ourLog("ref", trapped), theirLog("v8", earlier)).signature.kind,
            FindingKind::DiffLog);
}

TEST(OracleCompare, TrapsAgainstAnotherEngineMatchByClass) {
  auto at = [](std::string trap) {
    return std::vector<std::string>{"[fuzz-exec] export f", std::move(trap)};
  };
  // Each engine's spelling of one class agrees with ours.
  const std::pair<const char*, const char*> same[] = {
      {"[trap cast failure]", "[trap cast error]"},
      {"[trap null structure reference]", "[trap null ref]"},
      {"[trap null function reference]", "[trap null target in call_ref]"},
      {"[trap out of bounds array access]", "[trap array oob]"},
      {"[trap out of bounds memory access]", "[trap final > memory: 70000 > 65536]"},
      {"[trap integer divide by zero]", "[trap i32.div_s by 0]"},
      {"[trap invalid conversion to integer]", "[trap truncSFloat of nan]"},
      {"[trap uninitialized element]", "[trap null target in call_indirect]"},
      {"[trap indirect call type mismatch]", "[trap callIndirect: non-subtype]"},
      {"[trap indirect call type mismatch]", "[trap cast failure in call_indirect]"},
      {"[trap unreachable]", "[trap unreachable]"},
  };
  for (auto [ours, theirs] : same) {
    EXPECT_EQ(compareLogs(ourLog("ref", at(ours)), theirLog("binaryen", at(theirs))).kind,
              Verdict::Kind::Agree)
        << ours << " vs " << theirs;
  }
  // V8 14 says "null function" for a call_indirect of a null entry: an
  // indirect-call trap like ours, not a null dereference (call_ref's).
  EXPECT_EQ(compareLogs(ourLog("ref", at("[trap uninitialized element]")),
                        theirLog("v8", at("[trap v8: null function]")))
                .kind,
            Verdict::Kind::Agree);
  EXPECT_EQ(compareLogs(ourLog("ref", at("[trap null function reference]")),
                        theirLog("v8", at("[trap v8: null function]")))
                .kind,
            Verdict::Kind::Finding);
  // Another class at the same place is a finding.
  Verdict v = compareLogs(ourLog("ref", at("[trap cast failure]")), theirLog("binaryen", at("[trap null ref]")));
  ASSERT_EQ(v.kind, Verdict::Kind::Finding);
  EXPECT_EQ(v.signature.kind, FindingKind::DiffTrap);
  EXPECT_EQ(v.line_a, "[trap cast]");
  EXPECT_EQ(v.line_b, "[trap null]");
  EXPECT_EQ(compareLogs(ourLog("ref", at("[trap out of bounds array access]")),
                        theirLog("v8", at("[trap integer divide by zero]")))
                .kind,
            Verdict::Kind::Finding);
  // V8 reports a dereference of a null it knows statically as unreachable;
  // only V8, and only against a null.
  EXPECT_EQ(compareLogs(ourLog("ref", at("[trap null structure reference]")), theirLog("v8", at("[trap unreachable]"))).kind,
            Verdict::Kind::Agree);
  EXPECT_EQ(compareLogs(ourLog("ref", at("[trap null structure reference]")),
                        theirLog("binaryen", at("[trap unreachable]")))
                .kind,
            Verdict::Kind::Finding);
  EXPECT_EQ(compareLogs(ourLog("ref", at("[trap cast failure]")), theirLog("v8", at("[trap unreachable]"))).kind,
            Verdict::Kind::Finding);
  // Between our own configurations the message itself counts.
  EXPECT_EQ(compareLogs(ourLog("ref", at("[trap null structure reference]")),
                        ourLog("slab", at("[trap null array reference]")))
                .kind,
            Verdict::Kind::Finding);
}

TEST(OracleCompare, AResourceLimitEndsTheComparisonAtItsLine) {
  // A recursion that exhausts the stack at another depth in each engine:
  // the lines before the first limit are compared, nothing after.
  std::vector<std::string> ours = {"[fuzz-exec] export f", "[LoggingExternalInterface logging 1]",
                                   "[LoggingExternalInterface logging 2]", "[host limit call stack exhausted]",
                                   "[fuzz-exec] export g", "[fuzz-exec] note result: g => 1"};
  std::vector<std::string> v8 = {"[fuzz-exec] export f", "[LoggingExternalInterface logging 1]",
                                 "[LoggingExternalInterface logging 2]", "[LoggingExternalInterface logging 3]",
                                 "[host limit call stack exhausted]", "[fuzz-exec] export g",
                                 "[fuzz-exec] note result: g => 1"};
  Verdict v = compareLogs(ourLog("ref", ours, LogStatus::Inconclusive), theirLog("v8", v8, LogStatus::Inconclusive));
  EXPECT_EQ(v.kind, Verdict::Kind::AgreeUpToLimit) << v.report();
  ASSERT_EQ(v.inconclusive.size(), 2u);
  EXPECT_EQ(v.inconclusive[0], "ref: [host limit call stack exhausted] (log line 4)");
  // A difference before the limit is a finding.
  v8[2] = "[LoggingExternalInterface logging 7]";
  EXPECT_EQ(compareLogs(ourLog("ref", ours, LogStatus::Inconclusive), theirLog("v8", v8, LogStatus::Inconclusive)).kind,
            Verdict::Kind::Finding);
  // An inconclusive log with no limit line (a time-out, a log cap) is
  // compared as far as it goes.
  ExecutionLog cut = theirLog("v8", {"[fuzz-exec] export f", "[LoggingExternalInterface logging 5]"},
                              LogStatus::Inconclusive);
  EXPECT_EQ(compareLogs(ourLog("ref", ours), cut).kind, Verdict::Kind::Finding);
  cut.lines[1] = "[LoggingExternalInterface logging 1]";
  EXPECT_EQ(compareLogs(ourLog("ref", ours), cut).kind, Verdict::Kind::AgreeUpToLimit);
}

TEST(OracleCompare, ExhaustionIsNeverAFindingButItsPrefixCounts) {
  ExecutionLog a = ourLog("ref", {"[fuzz-exec] export f", "[host limit heap exhausted]"},
                          LogStatus::Inconclusive);
  ExecutionLog b = ourLog("slab-zeal", {"[fuzz-exec] export f", "[fuzz-exec] note result: f => 1"});
  ExecutionLog c = ourLog("slab-small", {"[fuzz-exec] export f", "[fuzz-exec] note result: f => 1"});
  std::vector<ExecutionLog> logs = {a, b, c};
  Verdict v = judge(logs);
  EXPECT_EQ(v.kind, Verdict::Kind::AgreeUpToLimit);
  ASSERT_EQ(v.inconclusive.size(), 1u);
  // The conclusive ones are still compared with each other to the end.
  logs[2].lines[1] = "[fuzz-exec] note result: f => 2";
  EXPECT_EQ(judge(logs).kind, Verdict::Kind::Finding);
  // And the inconclusive one as far as it went.
  logs[2].lines[1] = "[fuzz-exec] note result: f => 1";
  logs[0].lines[0] = "[fuzz-exec] export g";
  EXPECT_EQ(judge(logs).kind, Verdict::Kind::Finding);
}

TEST(OracleCompare, RefusalsForALimitOrAFeatureAreNotComparable) {
  ExecutionLog ran = theirLog("v8", {"[fuzz-exec] export f"});
  for (Rejection r : {Rejection::Limit, Rejection::Unsupported, Rejection::Harness}) {
    ExecutionLog refused = ourLog("ref", {}, LogStatus::Rejected);
    refused.rejection = r;
    EXPECT_EQ(compareLogs(refused, ran).kind, Verdict::Kind::NotComparable) << rejectionName(r);
    ExecutionLog theirs = theirLog("binaryen", {}, LogStatus::Rejected);
    theirs.rejection = r;
    EXPECT_EQ(compareLogs(ourLog("ref", {"[fuzz-exec] export f"}), theirs).kind, Verdict::Kind::NotComparable);
  }
}

TEST(OracleCompare, AStatusDifferenceNamesWhoRefusedWhat) {
  ExecutionLog ours = ourLog("ref", {}, LogStatus::Rejected);
  ours.rejection = Rejection::Module;
  ours.rejection_code = "unknown-index";
  ours.message = "invalid: unknown function 45";
  Verdict v = compareLogs(ours, theirLog("binaryen", {"[fuzz-exec] export f"}));
  ASSERT_EQ(v.kind, Verdict::Kind::Finding);
  EXPECT_EQ(v.signature.bucket(), "diff:status:ours-rejects:unknown-index [validate]");
  EXPECT_NE(v.detail.find("unknown function 45"), std::string::npos) << v.detail;
  ExecutionLog theirs = theirLog("v8", {}, LogStatus::Rejected);
  theirs.rejection = Rejection::Unlinkable;
  Verdict w = compareLogs(ourLog("ref", {"[fuzz-exec] export f"}), theirs);
  ASSERT_EQ(w.kind, Verdict::Kind::Finding);
  EXPECT_EQ(w.signature.bucket(), "diff:status:v8-rejects:unlinkable [link]");
}

TEST(OracleCompare, RealExhaustionAgreesUpToTheLimit) {
  std::vector<uint8_t> loop = wat(R"((module
    (func (export "spin") (loop $l (br $l)))
    (func $deep (export "deep") (call $deep))
    (func (export "after") (result i32) (i32.const 7))))");
  for (const char* config : {"ref", "slab-zeal", "slab-small"}) {
    OurRunOptions o;
    o.limits.fuel = 20'000;
    ExecutionLog l = run(loop, config, o);
    EXPECT_EQ(l.status, LogStatus::Inconclusive) << config;
    EXPECT_EQ(l.message, "[out of fuel]") << config;
  }
  auto engines = makeEngines("ref,slab-zeal,slab-conservative");
  ASSERT_TRUE(engines.ok());
  auto input = decodeInput(loop);
  ASSERT_TRUE(input.ok());
  DiffOutcome out = runDifferential(engines.value(), input.value());
  EXPECT_EQ(out.verdict.kind, Verdict::Kind::AgreeUpToLimit);
  EXPECT_EQ(out.verdict.inconclusive.size(), 3u);

  std::vector<uint8_t> deep = wat(R"((module (func $deep (export "deep") (call $deep))))");
  ExecutionLog d = run(deep, "slab-zeal");
  EXPECT_EQ(d.status, LogStatus::Inconclusive);
  EXPECT_EQ(d.message, "[host limit call stack exhausted]");
}

TEST(OracleCompare, RejectionsAgreeOrDiffer) {
  ExecutionLog r1 = ourLog("ref", {}, LogStatus::Rejected), r2 = ourLog("slab", {}, LogStatus::Rejected);
  std::vector<ExecutionLog> both = {r1, r2};
  EXPECT_EQ(judge(both).kind, Verdict::Kind::Rejected);
  std::vector<ExecutionLog> one = {r1, ourLog("slab", {"[fuzz-exec] export f"})};
  EXPECT_EQ(judge(one).signature.kind, FindingKind::DiffStatus);
}

// --- the comparable set ------------------------------------------------------

TEST(OracleComparable, OnlyImportsOfTheAbiAreComparable) {
  auto module = [](std::string_view imports) {
    auto input = decodeInput(wat(fmt::format("(module {} (func (export \"f\")))", imports)));
    EXPECT_TRUE(input.ok());
    return input.ok() ? input.value().module : std::make_shared<const Module>();
  };
  auto comparable = [&](std::string_view imports) {
    return !notComparableWith("v8", *module(imports)).has_value() &&
           !notComparableWith("binaryen", *module(imports)).has_value();
  };
  EXPECT_TRUE(comparable(""));
  EXPECT_TRUE(comparable(R"((import "fuzzing-support" "log-i32" (func (param i32)))
                            (import "fuzzing-support" "call-ref-catch" (func (param funcref) (result i32)))
                            (import "fuzzing-support" "gc" (func))
                            (import "env" "x" (global externref))
                            (import "m" "y" (global (ref extern))))"));
  // A name the ABI does not have (a mutated "log-i18"), the right name with
  // another type, a global that is mutable or of another type, a function
  // from another module, a memory: each host links these its own way.
  for (std::string_view out : {
           R"((import "fuzzing-support" "log-i18" (func (param i32))))",
           R"((import "fuzzing-sukport" "log-funcref" (func (param funcref))))",
           R"((import "fuzzing-support" "log-i32" (func (param i64))))",
           R"((import "fuzzing-support" "table-set" (func (param i32) (param i32))))",
           R"((import "env" "x" (global (mut externref))))",
           R"((import "env" "x" (global anyref)))",
           R"((import "fuzzing-support" "x" (global externref)))",
           R"((import "env" "f" (func)))",
           R"((import "env" "mem" (memory 1)))",
       }) {
    EXPECT_FALSE(comparable(out)) << out;
    auto why = notComparableWith("v8", *module(out));
    ASSERT_TRUE(why.has_value()) << out;
    EXPECT_NE(why->find("import"), std::string::npos) << *why;
  }
  // Our own configurations share one host: always comparable.
  EXPECT_FALSE(notComparableWith("slab-zeal", *module(R"((import "env" "f" (func)))")).has_value());
}

TEST(OracleComparable, AModuleOutsideTheSetIsNotRunOnTheEngine) {
  // An external engine that must never be asked: a module outside its
  // comparable set gives NotComparable without running it.
  struct Unaskable final : Engine {
    std::string name_ = "v8";
    const std::string& name() const override { return name_; }
    ExecutionLog run(const ModuleInput&) override {
      ADD_FAILURE() << "ran a module outside the comparable set";
      return {};
    }
  };
  std::vector<std::unique_ptr<Engine>> engines;
  auto ref = makeEngines("ref,slab");
  ASSERT_TRUE(ref.ok());
  engines.push_back(std::move(ref.value()[0]));
  engines.push_back(std::make_unique<Unaskable>());
  std::vector<uint8_t> bytes = wat(R"((module (import "fuzzing-support" "log-i18" (func (param i32)))
                                        (func (export "f"))))");
  DiffOutcome out = runDifferential(engines, ModuleInput{bytes, nullptr});
  EXPECT_EQ(out.verdict.kind, Verdict::Kind::NotComparable);
  ASSERT_EQ(out.not_comparable.size(), 1u);
  EXPECT_NE(out.not_comparable[0].find("log-i18"), std::string::npos) << out.not_comparable[0];
}

TEST(OracleComparable, OurRefusalsSayWhatKind) {
  ExecutionLog invalid = run(wat("(module (func (result i32)))"), "ref");
  EXPECT_EQ(invalid.status, LogStatus::Rejected);
  EXPECT_EQ(invalid.rejection, Rejection::Module);
  EXPECT_EQ(invalid.rejection_code, "type-mismatch");
  ExecutionLog unlinkable = run(wat(R"((module (import "fuzzing-support" "log-i18" (func))))"), "ref");
  EXPECT_EQ(unlinkable.rejection, Rejection::Unlinkable);
}

TEST(OracleCompare, UnifiedDiffShowsTheChange) {
  ExecutionLog a = ourLog("ref", {"[fuzz-exec] export f", "[LoggingExternalInterface logging 1]",
                                  "[LoggingExternalInterface logging 2]"});
  ExecutionLog b = a;
  b.engine = "slab-zeal";
  b.lines[2] = "[LoggingExternalInterface logging 3]";
  std::string d = unifiedDiff(a, b);
  EXPECT_NE(d.find("--- ref\n+++ slab-zeal\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\n-[LoggingExternalInterface logging 2]\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\n+[LoggingExternalInterface logging 3]\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\n [LoggingExternalInterface logging 1]\n"), std::string::npos) << d;
  EXPECT_EQ(unifiedDiff(a, a), "");
}

// --- findings ---------------------------------------------------------------

TEST(OracleFinding, EveryKindHasItsOwnAbortFunction) {
  std::set<FindingAbortFn> fns;
  std::set<std::string_view> names;
  for (size_t k = 0; k < kFindingKindCount; ++k) {
    auto kind = static_cast<FindingKind>(k);
    FindingAbortFn fn = findingAbortFunction(kind);
    ASSERT_NE(fn, nullptr);
    fns.insert(fn);
    names.insert(findingKindName(kind));
  }
  EXPECT_EQ(fns.size(), kFindingKindCount);
  EXPECT_EQ(names.size(), kFindingKindCount);
  // Every heap violation kind has a finding kind of the same name.
  for (auto v : {HeapViolationKind::DifferentSlab, HeapViolationKind::StaleGeneration,
                 HeapViolationKind::FreeSlot, HeapViolationKind::TypeConfusion,
                 HeapViolationKind::ForeignHeap, HeapViolationKind::SlabOutOfRange}) {
    EXPECT_EQ(findingKindName(findingKindOf(v)), "slab-id:" + std::string(heapViolationName(v)));
  }
}

TEST(OracleFindingDeathTest, AbortsThroughTheKindsFunction) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Signature s;
  s.kind = FindingKind::SlabIdStaleGeneration;
  s.site = "func $run (2), IR 9 struct.get";
  EXPECT_DEATH(abortOnFinding(s, s.toString()),
               "slab-id:stale-generation at func \\$run.*finding slab-id:stale-generation");
}

// --- planted differences ------------------------------------------------------

// A reference heap whose array.get returns one more than it should: a wrong
// value the mutator cannot tell from a right one, only a comparison can.
class OffByOneHeap : public test::ForwardingHeap {
 public:
  using ForwardingHeap::ForwardingHeap;
  Value arrayGet(Ref o, uint32_t i) const override {
    return Value::i32(ForwardingHeap::arrayGet(o, i).i32() + 1);
  }
};

constexpr std::string_view kArrayModule = R"((module
  (type $a (array (mut i32)))
  (global $g (mut (ref null $a)) (ref.null $a))
  (func (export "make") (global.set $g (array.new $a (i32.const 41) (i32.const 3))))
  (func (export "read") (result i32) (array.get $a (global.get $g) (i32.const 1)))))";

TEST(OracleDifferential, FindsACorruptedRead) {
  std::vector<uint8_t> m = wat(kArrayModule);
  // Without the digest, which reads through arrayGet too and would see the
  // corruption first (DigestSeesWhatNoCallReturns).
  OurRunOptions plain;
  plain.limits.digest_after_call = false;
  ExecutionLog ref = run(m, "ref", plain);
  OurRunOptions planted = plain;
  planted.heap = [](const TypeStore& t) { return std::make_unique<OffByOneHeap>(t); };
  ExecutionLog bad = run(m, "slab-zeal", planted);
  ASSERT_EQ(ref.status, LogStatus::Ran);
  ASSERT_EQ(bad.status, LogStatus::Ran);
  std::vector<ExecutionLog> logs = {ref, bad};
  Verdict v = judge(logs);
  ASSERT_EQ(v.kind, Verdict::Kind::Finding);
  EXPECT_EQ(v.signature.kind, FindingKind::DiffResult);
  EXPECT_EQ(v.signature.site.rfind("export read", 0), 0u) << v.signature.site;
  EXPECT_EQ(v.line_a, "[fuzz-exec] note result: read => 41");
  EXPECT_EQ(v.line_b, "[fuzz-exec] note result: read => 42");
}

TEST(OracleDifferential, DigestSeesWhatNoCallReturns) {
  // Nothing reads the array back: only the digest after "make" can tell.
  std::vector<uint8_t> m = wat(R"((module
    (type $a (array (mut i32)))
    (global $g (mut (ref null $a)) (ref.null $a))
    (func (export "make") (global.set $g (array.new $a (i32.const 41) (i32.const 3))))))");
  OurRunOptions planted;
  planted.heap = [](const TypeStore& t) { return std::make_unique<OffByOneHeap>(t); };
  std::vector<ExecutionLog> logs = {run(m, "ref"), run(m, "slab", planted)};
  Verdict v = judge(logs);
  ASSERT_EQ(v.kind, Verdict::Kind::Finding) << unifiedDiff(logs[0], logs[1]);
  EXPECT_EQ(v.signature.kind, FindingKind::DiffHeapDigest);
  EXPECT_EQ(v.signature.site, "export make, log line 2");
}

TEST(OracleDifferential, AFailingVerifierIsAHeapVerifyFinding) {
  std::vector<uint8_t> m = wat(kArrayModule);
  OurRunOptions planted;
  planted.heap = [](const TypeStore& t) {
    auto h = std::make_unique<test::ForwardingHeap>(t);
    HeapViolation v;
    v.kind = HeapViolationKind::Verify;
    v.phase = HeapPhase::Verify;
    v.invariant = "live + free == capacity";
    h->failVerify(v);
    return h;
  };
  std::vector<ExecutionLog> logs = {run(m, "ref"), run(m, "slab", planted)};
  EXPECT_EQ(logs[1].status, LogStatus::Violation);
  Verdict v = judge(logs);
  ASSERT_EQ(v.kind, Verdict::Kind::Finding);
  EXPECT_EQ(v.signature.kindText(), "heap-verify:live + free == capacity");
  EXPECT_EQ(v.signature.phase, "verify");
  EXPECT_EQ(v.signature.site, "after the call of export make");
  EXPECT_EQ(v.engine_a, "slab");
}

TEST(OracleDifferential, SeedBugWithBrokenStackMapsHasTheRightSignature) {
  std::vector<uint8_t> m = readRegress("seed-loop-carried-ref.wasm");
  OurRunOptions broken;
  broken.compile.liveness_ignores_back_edges = true;
  for (const char* config : {"slab-zeal", "slab-small"}) {
    std::vector<ExecutionLog> logs = {run(m, "ref", broken), run(m, config, broken)};
    Verdict v = judge(logs);
    ASSERT_EQ(v.kind, Verdict::Kind::Finding) << config;
    EXPECT_TRUE(v.signature.kind == FindingKind::SlabIdStaleGeneration ||
                v.signature.kind == FindingKind::SlabIdDifferentSlab)
        << config << ": " << v.report();
    EXPECT_EQ(v.signature.phase, "mutator") << v.report();
    EXPECT_NE(v.signature.site.find("$run"), std::string::npos) << v.report();
    EXPECT_EQ(v.engine_a, config);
  }
  // The working compiler: every configuration agrees, digest lines included.
  auto engines = makeEngines("ref,slab,slab-zeal,slab-random:3,slab-alloc:2,slab-conservative,slab-small");
  ASSERT_TRUE(engines.ok()) << engines.error();
  auto input = decodeInput(m);
  ASSERT_TRUE(input.ok());
  DiffOutcome out = runDifferential(engines.value(), input.value());
  EXPECT_EQ(out.verdict.kind, Verdict::Kind::Agree) << out.verdict.report();
  size_t digests = 0;
  for (const std::string& l : out.logs[0].lines) digests += l.starts_with(kDigestLineOpening);
  EXPECT_EQ(digests, out.logs[0].exports_called);
}

// --- engines and determinism ------------------------------------------------------

TEST(OracleEngine, ListsAndErrors) {
  EXPECT_TRUE(makeEngines("ref,slab-zeal").ok());
  auto ext = makeEngines("ref,v8");
  ASSERT_FALSE(ext.ok());
  EXPECT_NE(ext.error().find("external engine"), std::string::npos) << ext.error();
  EXPECT_NE(makeEngines("ref").error().find("two engines"), std::string::npos);
  EXPECT_NE(makeEngines("ref,nope").error().find("unknown engine configuration"), std::string::npos);
  EXPECT_NE(makeEngines("ref,ref").error().find("twice"), std::string::npos);
  EXPECT_NE(makeEngines("ref,,slab").error().find("empty"), std::string::npos);
  // An external factory plugs in without changes here.
  ExternalEngineFactory factory = [](std::string_view name) -> Result<std::unique_ptr<Engine>, std::string> {
    OurRunOptions o;
    o.config = parseEngineConfig("ref").value();
    o.config.name = std::string(name);
    return std::unique_ptr<Engine>(std::make_unique<OurEngine>(o));
  };
  auto plugged = makeEngines("ref,binaryen", {}, factory);
  ASSERT_TRUE(plugged.ok());
  EXPECT_EQ(plugged.value()[1]->name(), "binaryen");
}

TEST(OracleEngine, DefaultComparisonIsDeterministicAndValid) {
  std::set<std::string> seen;
  for (uint32_t choice = 0; choice < 4096; choice += 7) {
    std::vector<std::string> names = defaultComparison(choice * 2654435761u);
    EXPECT_EQ(names, defaultComparison(choice * 2654435761u));
    ASSERT_GE(names.size(), 2u);
    EXPECT_EQ(names[0], "ref");
    for (const std::string& n : names) {
      EXPECT_TRUE(parseEngineConfig(n).ok()) << n;
      seen.insert(n.substr(0, n.find(':')));
    }
  }
  // Every slab configuration is reachable.
  for (const EngineConfigName& n : engineConfigNames())
    EXPECT_TRUE(seen.count(std::string(n.name))) << n.name;
}

// One compilation serves every configuration of a comparison: the second
// run takes the first's code, and the logs are those of separate
// compilations. Different compile options never share.
TEST(OracleRun, SharedCodeIsReusedAndChangesNothing) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    auto module = std::make_shared<const Module>(gcgen::generateModule(seedInput(seed, 1000)));
    ModuleInput input{{}, module};
    SharedCode shared;
    std::vector<std::string> separate, together;
    for (const char* name : {"ref", "slab-zeal", "slab-small"}) {
      OurRunOptions o;
      o.config = parseEngineConfig(name).value();
      ExecutionLog alone = runOurs(input, o);
      o.shared_code = &shared;
      ExecutionLog with = runOurs(input, o);
      EXPECT_EQ(alone.lines, with.lines) << seed << " " << name;
      EXPECT_EQ(alone.status, with.status) << seed << " " << name;
    }
    ASSERT_NE(shared.code, nullptr) << seed;
    const CompiledModule* first = shared.code.get();
    OurRunOptions o;
    o.config = parseEngineConfig("slab").value();
    o.shared_code = &shared;
    (void)runOurs(input, o);
    EXPECT_EQ(shared.code.get(), first) << "the cache keeps its first compilation";
    EXPECT_GE(shared.code.use_count(), 1);
    // Broken maps are other code: not taken from the cache, and the cache
    // keeps the working code.
    o.compile.liveness_ignores_back_edges = true;
    (void)runOurs(input, o);
    EXPECT_EQ(shared.code.get(), first);
    EXPECT_FALSE(shared.options.liveness_ignores_back_edges);
    // Another module never takes this one's validation or code, even where
    // its canonical type ids happen to be the same.
    auto other = std::make_shared<const Module>(gcgen::generateModule(seedInput(seed + 100, 1000)));
    OurRunOptions p;
    p.config = parseEngineConfig("slab-zeal").value();
    ExecutionLog alone = runOurs(ModuleInput{{}, other}, p);
    p.shared_code = &shared;
    ExecutionLog with = runOurs(ModuleInput{{}, other}, p);
    EXPECT_EQ(alone.lines, with.lines) << seed;
    EXPECT_EQ(shared.code.get(), first);
  }
}

// Proof that a run takes the cached code instead of compiling: a cache
// filled with broken maps and relabelled as working code makes a working
// run miss the seed bug's root.
TEST(OracleRun, SharedCodeIsWhatRuns) {
  auto input = decodeInput(readRegress("seed-loop-carried-ref.wasm"));
  ASSERT_TRUE(input.ok());
  OurRunOptions o;
  o.config = parseEngineConfig("slab-zeal").value();
  EXPECT_EQ(runOurs(input.value(), o).status, LogStatus::Ran);
  SharedCode shared;
  OurRunOptions broken = o;
  broken.compile.liveness_ignores_back_edges = true;
  broken.shared_code = &shared;
  EXPECT_EQ(runOurs(input.value(), broken).status, LogStatus::Violation);
  ASSERT_NE(shared.code, nullptr);
  shared.options = CompileOptions{};  // the lie
  o.shared_code = &shared;
  EXPECT_EQ(runOurs(input.value(), o).status, LogStatus::Violation);
}

// A loop that calls the `gc` import at every turn over a heap of a thousand
// objects: every collection costs fuel for its work (HeapStats::gc_work),
// so the slab configurations run out of fuel after far fewer turns than the
// reference heap (which never collects) and do not run for minutes, as
// such inputs did before collections were charged.
TEST(OracleRun, CollectionsCostFuel) {
  auto wasm = assembleWat(R"((module
    (type $node (struct (field (ref null $node))))
    (import "fuzzing-support" "log-i32" (func $log (param i32)))
    (import "fuzzing-support" "gc" (func $gc))
    (global $list (mut (ref null $node)) (ref.null $node))
    (func (export "spin") (local $i i32)
      (loop $build
        (global.set $list (struct.new $node (global.get $list)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $build (i32.lt_u (local.get $i) (i32.const 1000))))
      (local.set $i (i32.const 0))
      (loop $spin
        (call $log (local.get $i))
        (call $gc)
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $spin)))))");
  ASSERT_TRUE(wasm.ok()) << wasm.error().toString();
  auto input = decodeInput(wasm.value());
  ASSERT_TRUE(input.ok());
  auto turns = [&](const char* config) {
    OurRunOptions o;
    o.config = parseEngineConfig(config).value();
    o.limits.fuel = 200'000;
    ExecutionLog log = runOurs(input.value(), o);
    EXPECT_EQ(log.status, LogStatus::Inconclusive) << config;
    size_t n = 0;
    for (const std::string& l : log.lines) n += l.starts_with("[LoggingExternalInterface");
    return n;
  };
  size_t ref = turns("ref"), slab = turns("slab");
  EXPECT_GT(ref, 10'000u);
  EXPECT_LT(slab * 5, ref) << "ref " << ref << " turns, slab " << slab;
  EXPECT_GT(slab, 0u);
}

TEST(OracleEngine, SameInputSameLog) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    auto module = std::make_shared<const Module>(gcgen::generateModule(seedInput(seed, 2000)));
    OurRunOptions o;
    o.config = parseEngineConfig("slab-random:9").value();
    ExecutionLog a = runOurs(ModuleInput{{}, module}, o);
    ExecutionLog b = runOurs(ModuleInput{{}, module}, o);
    EXPECT_EQ(a.lines, b.lines) << seed;
    EXPECT_EQ(a.status, b.status) << seed;
  }
}

}  // namespace
}  // namespace slabfuzz
