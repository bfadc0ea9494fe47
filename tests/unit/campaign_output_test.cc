// `slabfuzz campaign` reading its children's output (tools/campaign/fuzzer_output.h):
// libFuzzer's progress lines in plain and -fork mode, the oracle's counts,
// findings named from a replay, and --time durations.
#include "tools/campaign/fuzzer_output.h"

#include <gtest/gtest.h>

namespace slabfuzz::cli::campaign {
namespace {

TEST(CampaignOutput, ForkProgressLine) {
  auto p = parseProgressLine(
      "#52310: cov: 1290 ft: 5120 corp: 410 exec/s 871 oom/timeout/crash: 0/1/7 time: 61s job: 12 "
      "dft_time: 0");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->execs, 52310u);
  EXPECT_EQ(p->cov, 1290u);
  EXPECT_EQ(p->ft, 5120u);
  EXPECT_EQ(p->corpus, 410u);
  EXPECT_EQ(p->exec_per_s, 871u);
  ASSERT_TRUE(p->crashes);
  EXPECT_EQ(*p->ooms, 0u);
  EXPECT_EQ(*p->timeouts, 1u);
  EXPECT_EQ(*p->crashes, 7u);
}

TEST(CampaignOutput, PlainProgressLine) {
  auto p = parseProgressLine("#4096\tpulse  cov: 812 ft: 2710 corp: 97/11Kb exec/s: 1365 rss: 301Mb");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->execs, 4096u);
  EXPECT_EQ(p->cov, 812u);
  EXPECT_EQ(p->corpus, 97u);
  EXPECT_EQ(p->exec_per_s, 1365u);
  EXPECT_FALSE(p->crashes);
}

TEST(CampaignOutput, OtherLinesAreNotProgress) {
  EXPECT_FALSE(parseProgressLine("INFO: -fork=2: 27 seed inputs, starting to fuzz"));
  EXPECT_FALSE(parseProgressLine("==123== ERROR: libFuzzer: deadly signal"));
  EXPECT_FALSE(parseProgressLine("#1 INITED exec/s: 0 rss: 30Mb"));  // no cov yet
  EXPECT_FALSE(parseProgressLine(""));
}

TEST(CampaignOutput, OracleCounts) {
  auto c = parseOracleCounts("slabfuzz oracle: 153 run(s): 140 agree, 9 inconclusive, 4 rejected");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->runs, 153u);
  EXPECT_EQ(c->agree, 140u);
  EXPECT_EQ(c->inconclusive, 9u);
  EXPECT_EQ(c->rejected, 4u);
  EXPECT_FALSE(parseOracleCounts("slabfuzz oracle: 3 finding(s) outside bucket 'x' not reported"));
}

TEST(CampaignOutput, FaultCanaryOfAReplay) {
  EXPECT_EQ(faultTriggeredInOutput("finding: diff:trap at export f, log line 3 [mutator]\n"), std::nullopt);
  EXPECT_EQ(faultTriggeredInOutput("slabfuzz fault cast-rejects-subtype: reached 4, triggered 2\n"
                                   "finding: diff:trap at export f, log line 3 [mutator]\n"),
            std::optional<bool>(true));
  // The last line counts (at exit after the report), and 0 is no.
  EXPECT_EQ(faultTriggeredInOutput("slabfuzz fault x: reached 4, triggered 2\n"
                                   "slabfuzz fault x: reached 9, triggered 0\n"),
            std::optional<bool>(false));
  EXPECT_EQ(faultTriggeredInOutput("slabfuzz fault x: reached 4, triggered 2x\n"), std::nullopt);
}

TEST(CampaignOutput, FindingFromReport) {
  auto f = findingInOutput(
      "Running: crash-1\n"
      "finding: slab-id:different-slab at func 24, IR 7 RefCast [mutator]\n"
      "  id 0x1\n"
      "slabfuzz: finding slab-id:different-slab, aborting\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->signature, "slab-id:different-slab at func 24, IR 7 RefCast [mutator]");
  EXPECT_EQ(f->bucket, "slab-id:different-slab at RefCast [mutator]");
}

TEST(CampaignOutput, FindingFromAbortLineOrSanitizer) {
  auto a = findingInOutput("slabfuzz: finding diff:result, aborting\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bucket, "diff:result");
  auto s = findingInOutput("==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->bucket, "sanitizer:heap-use-after-free");
  EXPECT_FALSE(findingInOutput("Executed crash-1 in 3 ms\n"));
}

TEST(CampaignOutput, BucketWithoutInstruction) {
  EXPECT_EQ(bucketOfSignature("diff:result at module [compare]"), "diff:result [compare]");
}

TEST(CampaignOutput, AflStats) {
  // The shape of an AFL++ 4 fuzzer_stats file (keys padded to a column).
  const char* text =
      "start_time        : 1700000000\n"
      "execs_done        : 123456\n"
      "execs_per_sec     : 812.37\n"
      "corpus_count      : 97\n"
      "saved_crashes     : 3\n"
      "saved_hangs       : 1\n"
      "edges_found       : 4242\n"
      "stability         : 99.87%\n"
      "target_mode       : shmem_testcase persistent \n";
  AflStats st = parseAflStats(text);
  EXPECT_TRUE(st.valid);
  EXPECT_EQ(st.execs, 123456u);
  EXPECT_NEAR(st.execs_per_sec, 812.37, 1e-9);
  EXPECT_EQ(st.corpus, 97u);
  EXPECT_EQ(st.crashes, 3u);
  EXPECT_EQ(st.hangs, 1u);
  EXPECT_EQ(st.edges, 4242u);
  EXPECT_NEAR(st.stability, 99.87, 1e-9);
  EXPECT_EQ(st.target_mode, "shmem_testcase persistent");
}

TEST(CampaignOutput, AflStatsOlderNamesAndNonsense) {
  AflStats old = parseAflStats("execs_done : 5\nunique_crashes : 2\nunique_hangs : 4\npaths_total : 9\n");
  EXPECT_TRUE(old.valid);
  EXPECT_EQ(old.crashes, 2u);
  EXPECT_EQ(old.hangs, 4u);
  EXPECT_EQ(old.corpus, 9u);
  EXPECT_FALSE(parseAflStats("").valid);
  EXPECT_FALSE(parseAflStats("#1024 cov: 5 ft: 7\n").valid);
  EXPECT_FALSE(parseAflStats("corpus_count : 3\n").valid);  // being written: no execs_done yet
  // A run too short to time: AFL writes "inf".
  EXPECT_EQ(parseAflStats("execs_done : 1\nexecs_per_sec : inf\n").execs_per_sec, 0.0);
}

TEST(CampaignOutput, Durations) {
  EXPECT_EQ(parseDuration("90s"), 90u);
  EXPECT_EQ(parseDuration("10m"), 600u);
  EXPECT_EQ(parseDuration("1h30m"), 5400u);
  EXPECT_EQ(parseDuration("45"), 45u);
  EXPECT_FALSE(parseDuration("0"));
  EXPECT_FALSE(parseDuration("10x"));
  EXPECT_FALSE(parseDuration("1h30"));
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("-5s"));
}

}  // namespace
}  // namespace slabfuzz::cli::campaign
