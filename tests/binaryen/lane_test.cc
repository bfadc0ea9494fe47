// Tests of the Binaryen lane (generators/binaryen): the worker pool against
// the pinned node and Binaryen (each such test is skipped, saying why, when
// they are absent), and the pure parts (pipelines, log normalisation).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "generators/binaryen/lane.h"
#include "generators/binaryen/metamorphic.h"
#include "generators/binaryen/pipeline.h"
#include "oracle/config.h"
#include "runtime/decode.h"
#include "runtime/validate.h"
#include "tests/support/pinned_engines.h"
#include "tests/support/temp_dir.h"
#include "tools/gen_input.h"

namespace slabfuzz::binaryen {
namespace {

#define REQUIRE_ENGINES() SLABFUZZ_REQUIRE_PINNED_ENGINES(LaneOptions::defaultNode())

std::unique_ptr<BinaryenLane> startLane(int workers = 1, std::string route = "reuse") {
  LaneOptions o;
  o.workers = workers;
  o.route = std::move(route);
  auto lane = BinaryenLane::start(o);
  EXPECT_TRUE(lane.ok()) << (lane.ok() ? "" : lane.error().message);
  return lane.ok() ? std::move(lane).value() : nullptr;
}

std::vector<std::vector<uint8_t>> seedInputs(uint64_t first, size_t n, size_t size = 4000) {
  std::vector<std::vector<uint8_t>> v;
  for (size_t i = 0; i < n; ++i) v.push_back(seedInput(first + i, size));
  return v;
}

std::string ourVerdict(const std::vector<uint8_t>& bytes) {
  auto m = decodeModule(bytes);
  if (!m.ok()) return "malformed: " + m.error().toString();
  if (Status s = validateModule(m.value()); !s.ok()) return "invalid: " + s.error().toString();
  return {};
}

TEST(BinaryenPipeline, DeterministicAndFromTheTable) {
  std::set<std::string> rows;
  for (const PassRow& r : pipelinePasses()) rows.insert(std::string(r.flag));
  for (uint64_t s = 0; s < 2000; ++s) {
    std::vector<uint8_t> bytes = seedInput(s, 16);
    Pipeline a = drawPipeline(bytes), b = drawPipeline(bytes);
    EXPECT_EQ(a.args(), b.args());
    ASSERT_GE(a.passes.size(), 1u);
    ASSERT_LE(a.passes.size(), kDefaultMaxPasses);
    for (const std::string& p : a.passes) {
      EXPECT_TRUE(rows.count(p)) << p;
      for (const char* banned : {"-iit", "--ignore-implicit-traps", "-tnh", "--traps-never-happen",
                                 "--fast-math", "-ffm", "-O4"})
        EXPECT_NE(p, banned);
    }
  }
  // Bytes that run out give the simplest pipeline.
  Pipeline empty = drawPipeline({});
  EXPECT_EQ(empty.toString(), std::string(pipelinePasses()[0].flag));
}

TEST(BinaryenPipeline, ClosedWorldWhenAPassNeedsIt) {
  for (uint64_t s = 0; s < 500; ++s) {
    Pipeline p = drawPipeline(seedInput(s, 16));
    for (const std::string& pass : p.passes)
      for (const PassRow& r : pipelinePasses())
        if (r.flag == pass && r.needs_closed_world) EXPECT_TRUE(p.closed_world) << p.toString();
    EXPECT_EQ(p.args().front() == "--closed-world", p.closed_world);
  }
}

TEST(BinaryenMetamorphic, NormalisesNansAndTrapMessages) {
  std::vector<std::string> log{"[LoggingExternalInterface logging -nan:0xfffffffffb11c]",
                               "[trap null reference]", "[fuzz-exec] note result: f => nan:0x400000",
                               "[LoggingExternalInterface logging 1 2]"};
  std::vector<std::string> want{"[LoggingExternalInterface logging nan]", "[trap]",
                                "[fuzz-exec] note result: f => nan",
                                "[LoggingExternalInterface logging 1 2]"};
  EXPECT_EQ(normaliseLog(log), want);
}

TEST(BinaryenLane, MissingNodeIsAClearError) {
  LaneOptions o;
  o.node = "/nonexistent/bin/node";
  auto lane = BinaryenLane::start(o);
  ASSERT_FALSE(lane.ok());
  EXPECT_EQ(lane.error().kind, LaneError::Kind::NodeMissing);
  EXPECT_NE(lane.error().message.find("/nonexistent/bin/node"), std::string::npos);
  EXPECT_NE(lane.error().message.find("scripts/setup"), std::string::npos);
}

TEST(BinaryenLane, MissingScriptIsAClearError) {
  REQUIRE_ENGINES();
  LaneOptions o;
  o.script = "/nonexistent/binaryen_worker.mjs";
  auto lane = BinaryenLane::start(o);
  ASSERT_FALSE(lane.ok());
  EXPECT_EQ(lane.error().kind, LaneError::Kind::ScriptMissing);
  EXPECT_NE(lane.error().message.find("/nonexistent/binaryen_worker.mjs"), std::string::npos);
}

TEST(BinaryenLane, SameBytesSameModuleOnEveryRoute) {
  REQUIRE_ENGINES();
  auto lane = startLane();
  ASSERT_TRUE(lane);
  EXPECT_EQ(lane->hello().value("binaryen", ""), "132.0.0");
  auto inputs = seedInputs(100, 6);
  LaneBatch first = lane->translateToFuzz(inputs);
  LaneBatch second = lane->translateToFuzz(inputs);
  auto fresh_lane = startLane(1, "fresh");
  ASSERT_TRUE(fresh_lane);
  LaneBatch fresh = fresh_lane->translateToFuzz(inputs);
  std::set<std::vector<uint8_t>> distinct;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(first.results[i].ok()) << first.results[i].error().message;
    ASSERT_TRUE(second.results[i].ok());
    ASSERT_TRUE(fresh.results[i].ok());
    EXPECT_EQ(first.results[i].value(), second.results[i].value()) << "seed " << 100 + i;
    EXPECT_EQ(first.results[i].value(), fresh.results[i].value()) << "seed " << 100 + i;
    distinct.insert(first.results[i].value());
  }
  EXPECT_EQ(distinct.size(), inputs.size()) << "different inputs should give different modules";
  EXPECT_TRUE(first.restarts.empty() && second.restarts.empty());
}

TEST(BinaryenLane, FiftyModulesAllValidHere) {
  REQUIRE_ENGINES();
  auto lane = startLane(2);
  ASSERT_TRUE(lane);
  auto inputs = seedInputs(0, 50);
  LaneBatch batch = lane->translateToFuzz(inputs);
  ASSERT_EQ(batch.results.size(), 50u);
  for (size_t i = 0; i < batch.results.size(); ++i) {
    ASSERT_TRUE(batch.results[i].ok()) << "seed " << i << ": " << batch.results[i].error().message;
    EXPECT_EQ(ourVerdict(batch.results[i].value()), "") << "seed " << i;
  }
}

TEST(BinaryenLane, EveryPassOfTheTableRuns) {
  REQUIRE_ENGINES();
  auto lane = startLane();
  ASSERT_TRUE(lane);
  std::vector<TtfJob> ttf{{seedInput(7, 4000), true}};
  LaneBatch a = lane->translateToFuzz(std::span<const TtfJob>(ttf));
  ASSERT_TRUE(a.results[0].ok());
  std::vector<OptimizeJob> jobs;
  for (const PassRow& r : pipelinePasses()) {
    Pipeline p;
    p.closed_world = r.needs_closed_world;
    p.passes = {std::string(r.flag)};
    jobs.push_back({a.results[0].value(), p});
  }
  LaneBatch b = lane->optimize(jobs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(b.results[i].ok()) << jobs[i].pipeline.toString() << ": "
                                   << b.results[i].error().message;
    EXPECT_EQ(ourVerdict(b.results[i].value()), "") << jobs[i].pipeline.toString();
  }
}

TEST(BinaryenLane, RefusalsAreValuesAndTheWorkerCarriesOn) {
  REQUIRE_ENGINES();
  auto lane = startLane();
  ASSERT_TRUE(lane);
  Pipeline p;
  p.passes = {"-O1"};
  std::vector<OptimizeJob> jobs{{{0x00, 0x61, 0x73, 0x6d, 0xff}, p}};
  Pipeline unknown;
  unknown.passes = {"--no-such-pass"};
  jobs.push_back({{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}, unknown});
  jobs.push_back({{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}, p});
  LaneBatch b = lane->optimize(jobs);
  ASSERT_FALSE(b.results[0].ok());
  EXPECT_EQ(b.results[0].error().kind, LaneError::Kind::Refused);
  EXPECT_NE(b.results[0].error().message.find("optimisation failed"), std::string::npos)
      << b.results[0].error().message;
  ASSERT_FALSE(b.results[1].ok());
  EXPECT_NE(b.results[1].error().message.find("unknown pass"), std::string::npos);
  EXPECT_TRUE(b.results[2].ok()) << b.results[2].error().message;
  EXPECT_TRUE(b.restarts.empty());
}

TEST(BinaryenLane, KilledWorkerIsRestartedAndReported) {
  REQUIRE_ENGINES();
  auto lane = startLane(2);
  ASSERT_TRUE(lane);
  auto inputs = seedInputs(300, 4);
  LaneBatch before = lane->translateToFuzz(inputs);
  pid_t victim = lane->workerPid(1);
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  LaneBatch after = lane->translateToFuzz(inputs);
  ASSERT_EQ(after.restarts.size(), 1u);
  EXPECT_EQ(after.restarts[0].worker, 1);
  EXPECT_NE(after.restarts[0].reason, "");
  EXPECT_EQ(lane->restartCount(), 1u);
  EXPECT_NE(lane->workerPid(1), victim);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(after.results[i].ok()) << after.results[i].error().message;
    EXPECT_EQ(after.results[i].value(), before.results[i].value());
  }
}

// A worker that answers hello and dies on anything else: the request that
// kills it is reported as such (after one retry), and the worker is replaced.
TEST(BinaryenLane, RequestThatKillsTheWorkerIsAnError) {
  REQUIRE_ENGINES();
  std::string dir = test::tempDir("binaryen-dying");
  std::string script = dir + "/dying_worker.mjs";
  std::ofstream(script) << R"(import { createInterface } from 'node:readline';
for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line);
  if (req.op !== 'hello') process.exit(3);
  process.stdout.write(JSON.stringify({ id: req.id, ok: true, binaryen: 'fake' }) + '\n');
}
)";
  LaneOptions o;
  o.script = script;
  auto lane = BinaryenLane::start(o);
  ASSERT_TRUE(lane.ok()) << lane.error().message;
  LaneBatch b = lane.value()->translateToFuzz(seedInputs(0, 2, 10));
  for (const LaneResult& r : b.results) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, LaneError::Kind::WorkerDied);
    EXPECT_NE(r.error().message.find("twice"), std::string::npos) << r.error().message;
  }
  EXPECT_GE(b.restarts.size(), 2u);
}

// A worker that answers hello and then never answers again: each request
// times out (twice: once in the batch, once alone), the worker is replaced
// every time, and the caller gets Timeout values, not a hang.
TEST(BinaryenLane, HangingWorkerTimesOutAndIsReplaced) {
  REQUIRE_ENGINES();
  std::string dir = test::tempDir("binaryen-hanging");
  std::string script = dir + "/hanging_worker.mjs";
  std::ofstream(script) << R"(import { createInterface } from 'node:readline';
for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line);
  if (req.op === 'hello') process.stdout.write(JSON.stringify({ id: req.id, ok: true }) + '\n');
}
)";
  LaneOptions o;
  o.script = script;
  o.timeout_ms = 300;
  auto lane = BinaryenLane::start(o);
  ASSERT_TRUE(lane.ok()) << lane.error().message;
  LaneBatch b = lane.value()->translateToFuzz(seedInputs(0, 1, 10));
  ASSERT_FALSE(b.results[0].ok());
  EXPECT_EQ(b.results[0].error().kind, LaneError::Kind::Timeout);
  EXPECT_NE(b.results[0].error().message.find("300 ms"), std::string::npos)
      << b.results[0].error().message;
  EXPECT_EQ(b.restarts.size(), 2u);
  EXPECT_EQ(lane.value()->restartCount(), 2u);
}

// A worker that dies and cannot be started again (its node is gone): the rest
// of its share comes back as StartFailed values saying why, every attempt is
// a reported restart, and the next batch tries again ("found not running").
TEST(BinaryenLane, WorkerThatCannotBeRestartedIsAnError) {
  REQUIRE_ENGINES();
  std::string node = test::tempDir("binaryen-no-restart") + "/node";
  std::filesystem::create_symlink(LaneOptions::defaultNode(), node);
  LaneOptions o;
  o.node = node;
  auto lane = BinaryenLane::start(o);
  ASSERT_TRUE(lane.ok()) << lane.error().message;
  std::filesystem::remove(node);
  pid_t victim = lane.value()->workerPid(0);
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  LaneBatch b = lane.value()->translateToFuzz(seedInputs(0, 3, 100));
  ASSERT_EQ(b.results.size(), 3u);
  for (const LaneResult& r : b.results) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, LaneError::Kind::StartFailed);
    EXPECT_NE(r.error().message.find("cannot start the Binaryen worker"), std::string::npos)
        << r.error().message;
  }
  EXPECT_EQ(b.restarts.size(), 1u);
  EXPECT_EQ(lane.value()->workerPid(0), -1);
  LaneBatch again = lane.value()->translateToFuzz(seedInputs(0, 1, 100));
  ASSERT_FALSE(again.results[0].ok());
  EXPECT_EQ(again.results[0].error().kind, LaneError::Kind::StartFailed);
  ASSERT_EQ(again.restarts.size(), 1u);
  EXPECT_EQ(again.restarts[0].reason, "found not running at the start of a batch");
  EXPECT_EQ(lane.value()->restartCount(), 2u);
}

// Optimisation as a metamorphic source, on a few seeds (the CLI test runs
// more): every pair agrees or is inconclusive.
TEST(BinaryenMetamorphic, OptimisedVariantsAgree) {
  REQUIRE_ENGINES();
  auto lane = startLane();
  ASSERT_TRUE(lane);
  std::vector<TtfJob> ttf;
  std::vector<Pipeline> pipelines;
  for (uint64_t s = 0; s < 8; ++s) {
    pipelines.push_back(drawPipeline(seedInput(s ^ 0x5a5a, 16)));
    ttf.push_back({seedInput(s, 4000), pipelines.back().closed_world});
  }
  LaneBatch a = lane->translateToFuzz(std::span<const TtfJob>(ttf));
  std::vector<OptimizeJob> jobs;
  for (size_t i = 0; i < ttf.size(); ++i) {
    ASSERT_TRUE(a.results[i].ok());
    jobs.push_back({a.results[i].value(), pipelines[i]});
  }
  LaneBatch b = lane->optimize(jobs);
  auto config = parseEngineConfig("slab-zeal");
  ASSERT_TRUE(config.ok());
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(b.results[i].ok()) << b.results[i].error().message;
    MetamorphicVerdict v = compareVariants(jobs[i].module, b.results[i].value(), config.value());
    EXPECT_TRUE(v.kind == MetamorphicVerdict::Kind::Agree ||
                v.kind == MetamorphicVerdict::Kind::Inconclusive)
        << "seed " << i << " " << pipelines[i].toString() << ": " << verdictName(v.kind) << " "
        << v.detail;
    EXPECT_FALSE(v.a.log.empty());
  }
}

}  // namespace
}  // namespace slabfuzz::binaryen
