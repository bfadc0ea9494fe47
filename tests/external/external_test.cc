// The external engines' worker pools (oracle/external.h): logs of small
// modules on V8 and Binaryen, a killed worker restarted and reported (or,
// when it cannot be started again, the batch failed), a module that never
// ends timed out and its worker (V8: its run thread) replaced, and clear
// errors for a missing node or script. The logs of the
// hand-written fixtures against `slabfuzz run` are tests/external/xrun_test.sh.
#include "oracle/external.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "oracle/compare.h"
#include "oracle/external_engine.h"
#include "oracle/run.h"
#include "text/wat.h"
#include "tests/support/pinned_engines.h"
#include "tests/support/temp_dir.h"

namespace slabfuzz {
namespace {

#define REQUIRE_ENGINES() SLABFUZZ_REQUIRE_PINNED_ENGINES(ExternalOptions::defaultNode())

std::vector<uint8_t> wat(std::string_view text) {
  auto bytes = assembleWat(text);
  EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().toString());
  return bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>{};
}

const char* kLogs = R"((module
  (import "fuzzing-support" "log-i32" (func $li (param i32)))
  (import "fuzzing-support" "log-i64" (func $ll (param i64)))
  (import "fuzzing-support" "log-f64" (func $ld (param f64)))
  (import "fuzzing-support" "call-export-catch" (func $cec (param i32) (result i32)))
  (func (export "a") (call $li (i32.const 42)) (call $ll (i64.const -2)) (call $ld (f64.const 0.5)))
  (func (export "b") (result i32) (call $cec (i32.const 7)))
  (func (export "c") (unreachable))
))";

const std::vector<std::string> kLogsExpected = {
    "[fuzz-exec] export a",
    "[LoggingExternalInterface logging 42]",
    "[LoggingExternalInterface logging -2 -1]",
    "[LoggingExternalInterface logging 0.5]",
    "[fuzz-exec] export b",
    "[fuzz-exec] note result: b => 1",
    "[fuzz-exec] export c",
};

const char* kLoop = R"((module (func (export "spin") (loop (br 0)))))";

std::unique_ptr<ExternalEngine> start(std::string_view name, ExternalOptions o = {}) {
  auto e = makeExternalEngine(name, std::move(o));
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? std::move(e).value() : nullptr;
}

void expectLogs(const EngineRun& run) {
  ASSERT_EQ(run.status, EngineRun::Status::Completed) << run.reason;
  ASSERT_EQ(run.lines.size(), kLogsExpected.size() + 1);
  for (size_t i = 0; i < kLogsExpected.size(); ++i) EXPECT_EQ(run.lines[i], kLogsExpected[i]);
  // Trap wording is each engine's own; comparisons reduce it to "[trap]".
  EXPECT_EQ(run.lines.back().rfind("[trap ", 0), 0u) << run.lines.back();
}

class Engines : public testing::TestWithParam<const char*> {};

TEST_P(Engines, LogsOfASmallModule) {
  REQUIRE_ENGINES();
  auto engine = start(GetParam());
  ASSERT_TRUE(engine);
  std::vector<std::vector<uint8_t>> modules(3, wat(kLogs));
  auto batch = engine->run(modules);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch.value().runs.size(), 3u);
  for (const EngineRun& r : batch.value().runs) expectLogs(r);
  EXPECT_TRUE(batch.value().restarts.empty());
}

TEST_P(Engines, TwoWorkersAnswerInOrder) {
  REQUIRE_ENGINES();
  ExternalOptions o;
  o.workers = 2;
  auto engine = start(GetParam(), o);
  ASSERT_TRUE(engine);
  std::vector<std::vector<uint8_t>> modules(5, wat(kLogs));
  auto batch = engine->run(modules);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  for (const EngineRun& r : batch.value().runs) expectLogs(r);
}

TEST_P(Engines, RefusedModuleIsAnEngineError) {
  REQUIRE_ENGINES();
  auto engine = start(GetParam());
  ASSERT_TRUE(engine);
  std::vector<std::vector<uint8_t>> modules = {
      {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x99}, wat(kLogs)};
  auto batch = engine->run(modules);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(batch.value().runs[0].status, EngineRun::Status::EngineError);
  EXPECT_FALSE(batch.value().runs[0].reason.empty());
  expectLogs(batch.value().runs[1]);
}

TEST_P(Engines, KilledWorkerIsRestartedAndReported) {
  REQUIRE_ENGINES();
  auto engine = start(GetParam());
  ASSERT_TRUE(engine);
  pid_t victim = engine->workerPid(0);
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  std::vector<std::vector<uint8_t>> modules(2, wat(kLogs));
  auto batch = engine->run(modules);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_FALSE(batch.value().restarts.empty());
  EXPECT_EQ(batch.value().restarts[0].worker, 0);
  EXPECT_FALSE(batch.value().restarts[0].reason.empty());
  EXPECT_NE(engine->workerPid(0), victim);
  EXPECT_GE(engine->restartCount(), 1u);
  for (const EngineRun& r : batch.value().runs) expectLogs(r);
}

TEST_P(Engines, InfiniteLoopTimesOutAndTheWorkerIsReplaced) {
  REQUIRE_ENGINES();
  ExternalOptions o;
  o.timeout_ms = 1500;
  auto engine = start(GetParam(), o);
  ASSERT_TRUE(engine);
  std::vector<std::vector<uint8_t>> modules = {wat(kLoop), wat(kLogs)};
  auto batch = engine->run(modules);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(batch.value().runs[0].status, EngineRun::Status::Inconclusive);
  EXPECT_NE(batch.value().runs[0].reason.find("1500"), std::string::npos)
      << batch.value().runs[0].reason;
  expectLogs(batch.value().runs[1]);
  ASSERT_FALSE(batch.value().restarts.empty());
  // The engine carries on.
  auto again = engine->run(std::vector<std::vector<uint8_t>>{wat(kLogs)});
  ASSERT_TRUE(again.ok());
  expectLogs(again.value().runs[0]);
}

// A worker that dies and cannot be started again (its node is gone) fails the
// batch with an error naming the worker; the attempt still counts.
TEST_P(Engines, WorkerThatCannotBeRestartedFailsTheBatch) {
  REQUIRE_ENGINES();
  std::string node = test::tempDir(std::string("external-no-restart-") + GetParam()) + "/node";
  std::filesystem::create_symlink(ExternalOptions::defaultNode(), node);
  ExternalOptions o;
  o.node = node;
  auto engine = start(GetParam(), o);
  ASSERT_TRUE(engine);
  std::filesystem::remove(node);
  pid_t victim = engine->workerPid(0);
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  auto batch = engine->run(std::vector<std::vector<uint8_t>>(2, wat(kLogs)));
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().kind, ExternalError::Kind::WorkerDead);
  EXPECT_NE(batch.error().message.find("worker 0 died and could not be restarted"),
            std::string::npos)
      << batch.error().message;
  EXPECT_EQ(engine->restartCount(), 1u);
  EXPECT_EQ(engine->workerPid(0), -1);
}

TEST_P(Engines, MissingNodeIsAClearError) {
  ExternalOptions o;
  o.node = "/nonexistent/slabfuzz/node";
  auto e = makeExternalEngine(GetParam(), o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ExternalError::Kind::NodeMissing);
  EXPECT_NE(e.error().message.find("/nonexistent/slabfuzz/node"), std::string::npos);
  EXPECT_NE(e.error().message.find("scripts/setup"), std::string::npos);
}

TEST_P(Engines, MissingScriptIsAClearError) {
  REQUIRE_ENGINES();
  ExternalOptions o;
  o.script = "/nonexistent/worker.mjs";
  auto e = makeExternalEngine(GetParam(), o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ExternalError::Kind::ScriptMissing);
  EXPECT_NE(e.error().message.find("/nonexistent/worker.mjs"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(External, Engines, testing::Values("v8", "binaryen"));

TEST(ExternalEngine, UnknownEngineNamesBoth) {
  auto e = makeExternalEngine("spidermonkey", {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("v8 or binaryen"), std::string::npos);
}

TEST(ExternalEngine, V8GcImportModes) {
  REQUIRE_ENGINES();
  auto engine = start("v8");
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->hello().value("gc", ""), "minor");
  for (auto [mode, answer] : {std::pair{"full", "full"}, std::pair{"none", "no-op"}}) {
    ExternalOptions o;
    o.v8_gc = mode;
    auto other = start("v8", o);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->hello().value("gc", ""), answer);
  }
  auto batch = engine->run(std::vector<std::vector<uint8_t>>{wat(R"((module
    (type $s (struct (field i32)))
    (import "fuzzing-support" "gc" (func $gc))
    (import "fuzzing-support" "log-anyref" (func $la (param anyref)))
    (func (export "g") (local $r anyref)
      (local.set $r (struct.new $s (i32.const 1)))
      (call $gc)
      (call $la (local.get $r)))))")});
  ASSERT_TRUE(batch.ok());
  const EngineRun& r = batch.value().runs[0];
  ASSERT_EQ(r.status, EngineRun::Status::Completed) << r.reason;
  EXPECT_EQ(r.lines, (std::vector<std::string>{"[fuzz-exec] export g",
                                               "[LoggingExternalInterface logging object(null)]"}));
}

TEST(ExternalEngine, V8StackOverflowIsInconclusive) {
  REQUIRE_ENGINES();
  auto engine = start("v8");
  ASSERT_TRUE(engine);
  auto batch = engine->run(
      std::vector<std::vector<uint8_t>>{wat(R"((module (func $f (export "f") (call $f))))")});
  ASSERT_TRUE(batch.ok());
  const EngineRun& r = batch.value().runs[0];
  EXPECT_EQ(r.status, EngineRun::Status::Inconclusive);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1].rfind("[host limit", 0), 0u) << r.lines[1];
}

// Binaryen is given modules without their custom sections: its reader
// refuses a malformed name section, which the spec says to ignore, and the
// fuzzers' mutations make many. What the module does is unchanged.
TEST(ExternalEngine, BinaryenGetsNoCustomSections) {
  std::vector<uint8_t> bytes = wat(kLogs);
  ASSERT_FALSE(bytes.empty());
  // A malformed "name" section: a subsection whose size runs past the end.
  std::vector<uint8_t> named = bytes;
  const std::vector<uint8_t> custom = {0x00, 0x08, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x7F, 0x00};
  named.insert(named.end(), custom.begin(), custom.end());
  auto input = decodeInput(named);
  ASSERT_TRUE(input.ok()) << input.error();
  auto plain = decodeInput(bytes);
  ASSERT_TRUE(plain.ok()) << plain.error();
  // The assembler's own name section goes too: both come out alike, smaller.
  const std::vector<uint8_t> stripped = externalInputBytes("binaryen", plain.value());
  EXPECT_LT(stripped.size(), bytes.size());
  EXPECT_EQ(externalInputBytes("binaryen", input.value()), stripped);
  EXPECT_TRUE(decodeInput(stripped).ok());
  EXPECT_EQ(externalInputBytes("v8", input.value()), named);
  // Bytes whose sections do not parse are given as they are.
  std::vector<uint8_t> broken = bytes;
  broken.push_back(0x00);
  broken.push_back(0xFF);
  auto raw = ModuleInput{broken, nullptr};
  EXPECT_EQ(externalInputBytes("binaryen", raw), broken);
  REQUIRE_ENGINES();
  auto engine = makeExternalOracleEngine("binaryen", {});
  ASSERT_TRUE(engine.ok()) << engine.error();
  ExecutionLog log = engine.value()->run(input.value());
  EXPECT_EQ(log.status, ExecutionLog::Status::Ran) << log.message;
}

// What an engine's refusal says decides whether it is comparable: a crash
// of Binaryen's own run is an abort (a difference from an engine that ran
// the module), whatever words the log it printed before holds; a limit in
// what it threw stays a limit.
TEST(ExternalEngine, RefusalsAreClassifiedByWhatTheEngineSaid) {
  EXPECT_EQ(externalRejection("wasm-opt aborted: [object Object]; it printed: [fuzz-exec] export "
                              "import_limit\n[LoggingExternalInterface logging 1]"),
            Rejection::Aborted);
  EXPECT_EQ(externalRejection("wasm-opt aborted: out of memory; it printed: x"),
            Rejection::Limit);
  EXPECT_EQ(externalRejection("[parse exception: invalid type (at 0:12)]"), Rejection::Module);
  EXPECT_EQ(externalRejection("LinkError: WebAssembly.Instance(): Import #0 \"m\" \"f\": function "
                              "import requires a callable"),
            Rejection::Unlinkable);
  EXPECT_EQ(externalRejection("the V8 worker died (signal 9)"), Rejection::Harness);
  ExecutionLog ours;
  ours.engine = "ref";
  ours.ours = true;
  ours.lines = {"[fuzz-exec] export f"};
  ExecutionLog binaryen;
  binaryen.engine = "binaryen";
  binaryen.status = ExecutionLog::Status::Rejected;
  binaryen.rejection = Rejection::Aborted;
  Verdict v = compareLogs(ours, binaryen);
  ASSERT_EQ(v.kind, Verdict::Kind::Finding);
  EXPECT_EQ(v.signature.bucket(), "diff:status:binaryen-aborts [mutator]");
}

}  // namespace
}  // namespace slabfuzz
