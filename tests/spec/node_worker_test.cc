// Unit tests of the worker client (node_worker.h), its cache
// (cached_worker.h) and base64. The plumbing is tested against ordinary
// programs (`cat` echoes each request back, which is a valid response);
// the real worker is tested when the pinned node is installed.
#include "tests/support/temp_dir.h"
#include "process/node_worker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "process/base64.h"
#include "tests/spec/cached_worker.h"

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

using test::tempDir;

TEST(Base64, RoundTrips) {
  EXPECT_EQ(base64Encode(bytes("")), "");
  EXPECT_EQ(base64Encode(bytes("f")), "Zg==");
  EXPECT_EQ(base64Encode(bytes("fo")), "Zm8=");
  EXPECT_EQ(base64Encode(bytes("foo")), "Zm9v");
  EXPECT_EQ(base64Encode(bytes("foobar")), "Zm9vYmFy");
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  for (size_t n = 0; n <= all.size(); ++n) {
    std::span<const uint8_t> prefix(all.data(), n);
    auto decoded = base64Decode(base64Encode(prefix));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, std::vector<uint8_t>(prefix.begin(), prefix.end()));
  }
}

TEST(Base64, RejectsNonCanonicalText) {
  EXPECT_FALSE(base64Decode("Zg=").has_value());   // length
  EXPECT_FALSE(base64Decode("Zh==").has_value());  // bits under the padding
  EXPECT_FALSE(base64Decode("Z===").has_value());
  EXPECT_FALSE(base64Decode("Zg==Zg==").has_value());  // padding mid-text
  EXPECT_FALSE(base64Decode("Zm9*").has_value());
}

WorkerOptions withArgv(std::vector<std::string> argv) {
  WorkerOptions options;
  options.argv = std::move(argv);
  return options;
}

TEST(NodeWorker, PipelinesManyRequestsWithoutDeadlock) {
  // Several megabytes each way: far more than a pipe buffer, so writing all
  // requests before reading any answer would deadlock.
  auto worker = NodeWorker::start(withArgv({"/bin/cat"}));
  ASSERT_TRUE(worker.ok()) << worker.error().message;
  std::vector<json> requests;
  for (int i = 0; i < 20000; ++i) {
    requests.push_back({{"op", "echo"}, {"n", i}, {"pad", std::string(200, 'x')}});
  }
  auto responses = worker.value()->callMany(requests);
  ASSERT_TRUE(responses.ok()) << responses.error().message;
  ASSERT_EQ(responses->size(), requests.size());
  for (int i = 0; i < 20000; ++i) EXPECT_EQ(responses.value()[i]["n"], i);
  // The worker stays usable.
  auto one = worker.value()->call({{"op", "again"}});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one.value()["op"], "again");
}

TEST(NodeWorker, MissingProgram) {
  auto worker = NodeWorker::start(withArgv({"/nonexistent/bin/node", "worker.mjs"}));
  ASSERT_FALSE(worker.ok());
  EXPECT_EQ(worker.error().kind, WorkerError::Kind::ProgramMissing);
  EXPECT_NE(worker.error().message.find("/nonexistent/bin/node"), std::string::npos);
  auto bare = NodeWorker::start(withArgv({"slabfuzz-no-such-program"}));
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().kind, WorkerError::Kind::ProgramMissing);
}

TEST(NodeWorker, ExitMidRunIsAnErrorWithStatusAndStderr) {
  std::string dir = tempDir("exit");
  WorkerOptions options =
      withArgv({"/bin/sh", "-c", "read line; echo 'worker says goodbye' >&2; exit 3"});
  options.stderr_path = dir + "/stderr";
  auto worker = NodeWorker::start(options);
  ASSERT_TRUE(worker.ok()) << worker.error().message;
  auto response = worker.value()->call({{"op", "x"}});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, WorkerError::Kind::Exited);
  EXPECT_NE(response.error().message.find("exit code 3"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find("worker says goodbye"), std::string::npos);
  // Later calls fail at once instead of hanging.
  EXPECT_FALSE(worker.value()->alive());
  EXPECT_FALSE(worker.value()->call({{"op", "x"}}).ok());
  fs::remove_all(dir);
}

TEST(NodeWorker, WritingToADeadWorkerIsAnErrorNotASignal) {
  auto worker = NodeWorker::start(withArgv({"/bin/sh", "-c", "exec 0<&-; exit 0"}));
  ASSERT_TRUE(worker.ok());
  std::vector<json> requests(5000, json{{"op", "x"}, {"pad", std::string(100, 'y')}});
  auto responses = worker.value()->callMany(requests);  // would die of SIGPIPE otherwise
  ASSERT_FALSE(responses.ok());
  EXPECT_EQ(responses.error().kind, WorkerError::Kind::Exited);
  // Our own disposition is untouched: still the default.
  struct sigaction current {};
  sigaction(SIGPIPE, nullptr, &current);
  EXPECT_EQ(current.sa_handler, SIG_DFL);
}

TEST(NodeWorker, GarbageIsAProtocolError) {
  auto worker =
      NodeWorker::start(withArgv({"/bin/sh", "-c", "read line; echo '{oops'; exec sleep 30"}));
  ASSERT_TRUE(worker.ok());
  auto response = worker.value()->call({{"op", "x"}});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, WorkerError::Kind::Protocol);
  EXPECT_NE(response.error().message.find("{oops"), std::string::npos);
}

TEST(NodeWorker, SilenceIsATimeout) {
  WorkerOptions options = withArgv({"/bin/sh", "-c", "exec sleep 30"});
  options.timeout_ms = 200;
  auto worker = NodeWorker::start(options);
  ASSERT_TRUE(worker.ok());
  auto response = worker.value()->call({{"op", "x"}});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, WorkerError::Kind::Timeout);
}

// --- The real worker, when the pinned node is installed ---------------------

bool haveNode() {
  return access(SLABFUZZ_NODE_PATH, X_OK) == 0;
}

TEST(SpecWorker, AnswersEveryRequestAndSurvivesBadOnes) {
  if (!haveNode()) GTEST_SKIP() << "pinned node not installed at " SLABFUZZ_NODE_PATH;
  auto worker = NodeWorker::start(withArgv({SLABFUZZ_NODE_PATH, SLABFUZZ_SPEC_WORKER}));
  ASSERT_TRUE(worker.ok()) << worker.error().message;
  auto responses = worker.value()->callMany({
      {{"op", "no-such-op"}},
      {{"op", "wat2wasm"}},                             // no text
      {{"op", "wat2wasm"}, {"text", "(module (func"}},  // parse error
      {{"op", "validate"}, {"wasm", 17}},
      {{"op", "hello"}},
  });
  ASSERT_TRUE(responses.ok()) << responses.error().message;
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(responses.value()[i]["ok"].get<bool>()) << responses.value()[i].dump();
    EXPECT_TRUE(responses.value()[i]["error"].is_string());
  }
  EXPECT_TRUE(responses.value()[4]["ok"].get<bool>());
  EXPECT_EQ(responses.value()[4]["binaryen"], "132.0.0");
}

TEST(SpecWorker, ConvertsValidatesAndCaches) {
  if (!haveNode()) GTEST_SKIP() << "pinned node not installed at " SLABFUZZ_NODE_PATH;
  std::string dir = tempDir("cache");
  CachedWorkerOptions options{SLABFUZZ_NODE_PATH, SLABFUZZ_SPEC_WORKER, dir, {}};
  std::vector<std::string> texts = {
      "(module (func (export \"f\") (result i32) (i32.const 1)))",
      "(module (func (result i32) (i64.const 1)))",                 // invalid, but converts
      "(module (func",                                              // does not parse
      "(module (func (export \"f\") (result i32) (i32.const 1)))",  // a repeat
      "(module (data \"\xff\"))",                                   // not UTF-8: never sent
  };
  {
    auto worker = CachedWorker::start(options);
    ASSERT_TRUE(worker.ok()) << worker.error().message;
    EXPECT_EQ(worker.value()->binaryenVersion(), "132.0.0");
    auto results = worker.value()->wat2wasm(texts);
    ASSERT_TRUE(results.ok()) << results.error().message;
    const auto& r = results.value();
    ASSERT_EQ(r.size(), texts.size());
    EXPECT_TRUE(r[0].ok);
    EXPECT_EQ(std::string(r[0].wasm.begin(), r[0].wasm.begin() + 4), std::string("\0asm", 4));
    EXPECT_TRUE(r[1].ok);
    EXPECT_FALSE(r[2].ok);
    EXPECT_FALSE(r[2].error.empty());
    EXPECT_EQ(r[3].wasm, r[0].wasm);
    EXPECT_FALSE(r[4].ok);
    EXPECT_NE(r[4].error.find("UTF-8"), std::string::npos);
    EXPECT_EQ(worker.value()->stats().worker_requests, 3u);  // the repeat is sent once

    auto valid = worker.value()->validate(r[0].wasm);
    ASSERT_TRUE(valid.ok());
    EXPECT_TRUE(valid->valid);
    auto invalid = worker.value()->validate(r[1].wasm);
    ASSERT_TRUE(invalid.ok());
    EXPECT_FALSE(invalid->valid);
    EXPECT_FALSE(invalid->message.empty());
  }
  {
    // A second worker finds everything in the cache.
    auto worker = CachedWorker::start(options);
    ASSERT_TRUE(worker.ok()) << worker.error().message;
    auto results = worker.value()->wat2wasm(texts);
    ASSERT_TRUE(results.ok());
    EXPECT_EQ(worker.value()->stats().worker_requests, 0u);
    EXPECT_EQ(results.value()[2].error.empty(), false);
    auto invalid = worker.value()->validate(results.value()[1].wasm);
    ASSERT_TRUE(invalid.ok());
    EXPECT_FALSE(invalid->valid);
    EXPECT_EQ(worker.value()->stats().worker_requests, 0u);
  }
  fs::remove_all(dir);
}

TEST(SpecWorker, NonAsciiTextSurvivesTheTrip) {
  // U+2028 is a line break to some JSON-lines readers, and Binaryen.js's
  // parseText truncates code units past U+00FF unless given UTF-8 bytes.
  if (!haveNode()) GTEST_SKIP() << "pinned node not installed at " SLABFUZZ_NODE_PATH;
  CachedWorkerOptions options{SLABFUZZ_NODE_PATH, SLABFUZZ_SPEC_WORKER, "", {}};
  auto worker = CachedWorker::start(options);
  ASSERT_TRUE(worker.ok()) << worker.error().message;
  auto results = worker.value()->wat2wasm({"(module (func (export \"\xC3\xA9\xE2\x80\xA8\")))"});
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_TRUE(results.value()[0].ok) << results.value()[0].error;
  const auto& wasm = results.value()[0].wasm;
  std::string name = "\x05\xC3\xA9\xE2\x80\xA8";  // length-prefixed UTF-8
  EXPECT_NE(std::string(wasm.begin(), wasm.end()).find(name), std::string::npos);
}

TEST(SpecWorker, BrokenScriptIsAnErrorNotASkip) {
  if (!haveNode()) GTEST_SKIP() << "pinned node not installed at " SLABFUZZ_NODE_PATH;
  std::string dir = tempDir("broken");
  CachedWorkerOptions options{SLABFUZZ_NODE_PATH, dir + "/no-such-worker.mjs", dir, {}};
  auto worker = CachedWorker::start(options);
  ASSERT_FALSE(worker.ok());
  EXPECT_EQ(worker.error().kind, WorkerError::Kind::Exited);
  EXPECT_NE(worker.error().message.find("no-such-worker"), std::string::npos)
      << worker.error().message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace slabfuzz
