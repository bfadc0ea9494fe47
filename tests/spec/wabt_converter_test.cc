// Unit tests of the one-shot program runner (subprocess.h), the disk cache
// (disk_cache.h) and the wabt converter (wabt_converter.h). The runner and
// the converter's plumbing are tested against shell scripts; the real
// wat2wasm is tested when it is installed.
#include "tests/support/temp_dir.h"
#include "tests/spec/wabt_converter.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/spec/disk_cache.h"
#include "process/subprocess.h"

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;
using Status = ProgramRun::Status;

using test::tempDir;

// An executable shell script at dir/name.
std::string script(const std::string& dir, const std::string& name, const std::string& body) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  chmod(path.c_str(), 0755);
  return path;
}

// --- runProgram --------------------------------------------------------------

TEST(RunProgram, CapturesBothStreamsAndTheExitCode) {
  ProgramRun run = runProgram({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(run.status, Status::Exited);
  EXPECT_EQ(run.code, 3);
  EXPECT_FALSE(run.succeeded());
  EXPECT_NE(run.output.find("out\n"), std::string::npos);
  EXPECT_NE(run.output.find("err\n"), std::string::npos);
  EXPECT_EQ(run.describe(), "exit code 3");
  EXPECT_TRUE(runProgram({"true"}).succeeded());  // found through $PATH
}

TEST(RunProgram, StdinIsEmpty) {
  // A child that reads its input must not wait on ours.
  ProgramRun run = runProgram({"/bin/sh", "-c", "cat; echo done"}, {2000, 1024});
  EXPECT_TRUE(run.succeeded()) << run.describe();
  EXPECT_EQ(run.output, "done\n");
}

TEST(RunProgram, KillsAChildAtTheDeadline) {
  // A child that would sleep for an hour comes back TimedOut: had it not
  // been killed, it would have exited 0, and only after the hour.
  ProgramRun run = runProgram({"/bin/sh", "-c", "exec sleep 3600"}, {200, 1024});
  EXPECT_EQ(run.status, Status::TimedOut);
  // One that closed its output but lingers is killed too.
  run = runProgram({"/bin/sh", "-c", "exec >&- 2>&-; exec sleep 3600"}, {200, 1024});
  EXPECT_EQ(run.status, Status::TimedOut);
}

TEST(RunProgram, ReportsSignals) {
  ProgramRun run = runProgram({"/bin/sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(run.status, Status::Signaled);
  EXPECT_EQ(run.code, SIGSEGV);
  EXPECT_NE(run.describe().find("signal 11"), std::string::npos) << run.describe();
}

TEST(RunProgram, CapsOutputWithoutStallingTheChild) {
  // A megabyte is far more than a pipe holds: the child finishes only if
  // we keep reading past the cap.
  ProgramRun run = runProgram({"/bin/sh", "-c", "head -c 1000000 /dev/zero; exit 0"}, {10000, 100});
  EXPECT_TRUE(run.succeeded()) << run.describe();
  EXPECT_EQ(run.output.size(), 100u);
}

TEST(RunProgram, MissingProgram) {
  EXPECT_EQ(runProgram({"/nonexistent/bin/tool"}).status, Status::Missing);
  EXPECT_EQ(runProgram({"slabfuzz-no-such-program"}).status, Status::Missing);
  EXPECT_EQ(runProgram({}).status, Status::SpawnFailed);
  EXPECT_EQ(findProgram("slabfuzz-no-such-program"), "");
  EXPECT_EQ(findProgram("/nonexistent/bin/tool"), "");
  EXPECT_NE(findProgram("sh"), "");
}

// --- DiskCache ---------------------------------------------------------------

TEST(DiskCache, StoresEntriesAndConversions) {
  std::string dir = tempDir("disk-cache") + "/nested/cache";  // created on demand
  DiskCache cache(dir);
  ASSERT_TRUE(cache.enabled());
  EXPECT_FALSE(cache.read("key", ".v8").has_value());
  cache.write("key", ".v8", std::string("valid\n\0x", 8));
  EXPECT_EQ(cache.read("key", ".v8"), std::string("valid\n\0x", 8));
  EXPECT_FALSE(cache.read("key", ".other").has_value());
  EXPECT_FALSE(cache.read("kez", ".v8").has_value());

  EXPECT_FALSE(cache.readConversion("text").has_value());
  cache.writeConversion("text", {true, {0, 'a', 's', 'm'}, {}});
  cache.writeConversion("bad text", {false, {}, "1:2: error: no"});
  auto good = cache.readConversion("text");
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(good->ok);
  EXPECT_EQ(good->wasm, (std::vector<uint8_t>{0, 'a', 's', 'm'}));
  auto bad = cache.readConversion("bad text");
  ASSERT_TRUE(bad.has_value());
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->error, "1:2: error: no");

  // A second cache over the same directory (as the Node worker's and wabt's
  // are) sees the entries, and its temporaries never collide with ours.
  DiskCache other(dir);
  other.write("key2", ".v8", "invalid\n");
  cache.write("key3", ".v8", "valid\n");
  EXPECT_EQ(cache.read("key2", ".v8"), "invalid\n");
  EXPECT_EQ(other.read("key3", ".v8"), "valid\n");
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_NE(entry.path().filename().string().rfind(".tmp-", 0), 0u) << entry.path();
  }
  fs::remove_all(fs::path(dir).parent_path().parent_path());
}

TEST(DiskCache, DisabledCacheStoresNothing) {
  DiskCache cache("");
  EXPECT_FALSE(cache.enabled());
  cache.write("key", ".v8", "valid\n");
  EXPECT_FALSE(cache.read("key", ".v8").has_value());
  cache.writeConversion("text", {true, {1}, {}});
  EXPECT_FALSE(cache.readConversion("text").has_value());
}

// --- WabtConverter -------------------------------------------------------------

TEST(WabtConverter, MissingOrBrokenProgramIsAnError) {
  auto missing = WabtConverter::start({"slabfuzz-no-such-wat2wasm", "", 1000});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("slabfuzz-no-such-wat2wasm"), std::string::npos);

  std::string dir = tempDir("wabt-broken");
  auto broken = WabtConverter::start({script(dir, "wat2wasm", "exit 1"), "", 1000});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().find("--version"), std::string::npos) << broken.error();
  fs::remove_all(dir);
}

TEST(WabtConverter, CachesAnswersButNotTimeouts) {
  // A stand-in wat2wasm: refuses texts containing "bad", hangs on "slow",
  // and otherwise writes the text itself as the "binary".
  std::string dir = tempDir("wabt-fake");
  std::string fake = script(dir, "wat2wasm", R"(
[ "$1" = --version ] && { echo 9.9.9; exit 0; }
for a; do case $a in -o) out=next;; *) [ "$out" = next ] && out=$a;; esac; done
in=$3
grep -q slow "$in" && exec sleep 30
grep -q bad "$in" && { echo "$in:1:2: error: bad text" >&2; exit 1; }
cp "$in" "$out")");
  WabtOptions options{fake, dir + "/cache", 300};
  {
    auto wabt = WabtConverter::start(options);
    ASSERT_TRUE(wabt.ok()) << wabt.error();
    EXPECT_EQ(wabt.value()->version(), "9.9.9");
    EXPECT_EQ(wabt.value()->program(), fake);

    Conversion good = wabt.value()->convert("(module)");
    ASSERT_TRUE(good.ok) << good.error;
    EXPECT_EQ(std::string(good.wasm.begin(), good.wasm.end()), "(module)");
    Conversion bad = wabt.value()->convert("(module bad)");
    EXPECT_FALSE(bad.ok);
    EXPECT_EQ(bad.error, "1:2: error: bad text");  // the scratch path is cut
    Conversion slow = wabt.value()->convert("(module slow)");
    EXPECT_FALSE(slow.ok);
    EXPECT_NE(slow.error.find("time limit"), std::string::npos) << slow.error;
    EXPECT_EQ(wabt.value()->stats().runs, 3u);
    EXPECT_EQ(wabt.value()->stats().cache_hits, 0u);
  }
  {
    auto wabt = WabtConverter::start(options);
    ASSERT_TRUE(wabt.ok()) << wabt.error();
    EXPECT_TRUE(wabt.value()->convert("(module)").ok);
    EXPECT_EQ(wabt.value()->convert("(module bad)").error, "1:2: error: bad text");
    EXPECT_EQ(wabt.value()->stats().cache_hits, 2u);
    EXPECT_EQ(wabt.value()->stats().runs, 0u);
    EXPECT_FALSE(wabt.value()->convert("(module slow)").ok);  // tried again
    EXPECT_EQ(wabt.value()->stats().runs, 1u);
  }
  // Another version of the tool does not see those answers.
  std::string newer =
      script(dir, "wat2wasm-10", "[ \"$1\" = --version ] && { echo 10.0.0; exit 0; }; exit 1");
  auto wabt = WabtConverter::start({newer, dir + "/cache", 300});
  ASSERT_TRUE(wabt.ok()) << wabt.error();
  EXPECT_FALSE(wabt.value()->convert("(module)").ok);
  EXPECT_EQ(wabt.value()->stats().cache_hits, 0u);
  fs::remove_all(dir);
}

TEST(WabtConverter, RealWat2wasmKeepsTypeErrors) {
  if (findProgram("wat2wasm").empty()) GTEST_SKIP() << "wat2wasm (package wabt) not installed";
  auto wabt = WabtConverter::start({"wat2wasm", "", 10'000});
  ASSERT_TRUE(wabt.ok()) << wabt.error();
  // Ill-typed: Binaryen refuses it ("popping from empty stack"); wabt with
  // --no-check writes it as written.
  Conversion c = wabt.value()->convert("(module (func (result i32) (i32.add (i32.const 1))))");
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(std::string(c.wasm.begin(), c.wasm.begin() + 4), std::string("\0asm", 4));
  const std::vector<uint8_t> body = {0x41, 0x01, 0x6a, 0x0b};  // i32.const 1, i32.add, end
  EXPECT_NE(std::search(c.wasm.begin(), c.wasm.end(), body.begin(), body.end()), c.wasm.end());
  Conversion refused = wabt.value()->convert("(module (func");
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error.rfind("1:", 0), 0u) << refused.error;
  EXPECT_NE(refused.error.find("error:"), std::string::npos) << refused.error;
}

}  // namespace
}  // namespace slabfuzz
