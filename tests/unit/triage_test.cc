// Triage's grouping (oracle/triage.h): buckets, counts, the smallest
// reproducer, first seen, order independence, and the lines quoted from a
// verdict.
#include "oracle/triage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "heap/heap_id.h"
#include "oracle/finding.h"

namespace slabfuzz {
namespace {

TriageFinding finding(std::string bundle, std::string bucket, uint64_t bytes, std::string when) {
  TriageFinding f;
  f.bundle = std::move(bundle);
  f.bucket = std::move(bucket);
  f.signature = f.bucket + " (example)";
  f.module_bytes = bytes;
  f.found_at = std::move(when);
  return f;
}

const TriageGroup* groupOf(const std::vector<TriageGroup>& gs, const std::string& bucket) {
  for (const TriageGroup& g : gs)
    if (g.bucket == bucket) return &g;
  return nullptr;
}

TEST(Triage, BucketsFromSignaturesIgnoreTheSitePosition) {
  // Two sites of one instruction in different functions: one bucket.
  Signature a, b, c;
  a.kind = b.kind = c.kind = FindingKind::SlabIdStaleGeneration;
  a.site = "func $f (3), IR 17 struct.get";
  b.site = "func $g (9), IR 4 struct.get";
  c.site = "func $g (9), IR 5 array.len";
  EXPECT_EQ(a.bucket(), b.bucket());
  EXPECT_NE(a.bucket(), c.bucket());
  std::vector<TriageFinding> fs = {finding("x", a.bucket(), 10, ""),
                                   finding("y", b.bucket(), 20, ""),
                                   finding("z", c.bucket(), 30, "")};
  auto gs = groupFindings(fs);
  ASSERT_EQ(gs.size(), 2u);
  EXPECT_EQ(gs[0].bucket, a.bucket());
  EXPECT_EQ(gs[0].members.size(), 2u);
}

TEST(Triage, CountsAddUpAndTheLargestGroupComesFirst) {
  std::vector<TriageFinding> fs = {finding("b1", "B", 50, "2025-01-02T00:00:00Z"),
                                   finding("a1", "A", 40, "2025-01-03T00:00:00Z"),
                                   finding("b2", "B", 30, "2025-01-01T00:00:00Z"),
                                   finding("c1", "C", 10, ""),
                                   finding("b3", "B", 30, "2025-01-05T00:00:00Z"),
                                   finding("a2", "A", 90, "")};
  auto gs = groupFindings(fs);
  ASSERT_EQ(gs.size(), 3u);
  size_t total = 0;
  for (const TriageGroup& g : gs) total += g.members.size();
  EXPECT_EQ(total, fs.size());
  EXPECT_EQ(gs[0].bucket, "B");
  EXPECT_EQ(gs[1].bucket, "A");  // ties by bucket name
  EXPECT_EQ(gs[2].bucket, "C");
  // Smallest: 30 bytes twice, the tie goes to the first name.
  EXPECT_EQ(fs[gs[0].smallest].bundle, "b2");
  EXPECT_EQ(gs[0].first_seen, "2025-01-01T00:00:00Z");
  // An unknown time never wins over a known one.
  EXPECT_EQ(groupOf(gs, "A")->first_seen, "2025-01-03T00:00:00Z");
  EXPECT_EQ(groupOf(gs, "C")->first_seen, "");
  // Members are in bundle-name order.
  std::vector<std::string> names;
  for (size_t i : gs[0].members) names.push_back(fs[i].bundle);
  EXPECT_EQ(names, (std::vector<std::string>{"b1", "b2", "b3"}));
}

TEST(Triage, TheOrderOfTheInputDoesNotMatter) {
  std::vector<TriageFinding> fs = {finding("p", "X", 7, "t2"), finding("q", "Y", 7, "t1"),
                                   finding("r", "X", 7, "t3"), finding("s", "Y", 3, "t4")};
  auto render = [](std::vector<TriageFinding> v) {
    TriageInputs in;
    in.findings = std::move(v);
    auto gs = groupFindings(in.findings);
    return triageMarkdown(in, gs);
  };
  std::string first = render(fs);
  std::reverse(fs.begin(), fs.end());
  EXPECT_EQ(render(fs), first);
  std::rotate(fs.begin(), fs.begin() + 1, fs.end());
  EXPECT_EQ(render(fs), first);
}

TEST(Triage, DifferingLinesComeFromTheDiff) {
  std::string verdict =
      "finding: diff:result at export run, log line 3 [mutator]\n"
      "  export run returned different values\n"
      "--- ref\n"
      "+++ slab-zeal\n"
      "@@ -1,3 +1,3 @@\n"
      " [fuzz-exec] export run\n"
      "-[fuzz-exec] note result: run => 1\n"
      "+[fuzz-exec] note result: run => 2\n";
  auto lines = differingLines(verdict);
  EXPECT_EQ(lines, (std::vector<std::string>{"-[fuzz-exec] note result: run => 1",
                                             "+[fuzz-exec] note result: run => 2"}));
  // A violation has no diff: the verdict's own lines.
  auto v = differingLines(
      "finding: slab-id:free-slot at func $f (0), IR 2 struct.get [mutator]\n"
      "  slab-zeal: id from a freed slot\n");
  EXPECT_EQ(v, (std::vector<std::string>{"  slab-zeal: id from a freed slot"}));
  // Capped, saying how many were left out.
  std::string many = "finding: x\n--- a\n+++ b\n";
  for (int i = 0; i < 30; ++i) many += "-line\n";
  auto capped = differingLines(many, 5);
  ASSERT_EQ(capped.size(), 6u);
  EXPECT_EQ(capped.back(), "... 25 more line(s) in verdict.txt");
}

TEST(Triage, TheSlabIdIsDecodedFromItsBits) {
  HeapViolation hv;
  hv.kind = HeapViolationKind::DifferentSlab;
  hv.id.raw = slabid::pack(5, 12, 3, 77, 9);
  hv.now_holds = "slab 12 is identity 4 now";
  SlabIdNote n = slabIdNoteOf(hv, "slab-zeal");
  EXPECT_EQ(n.id.heap_tag, 5u);
  EXPECT_EQ(n.id.slab, 12u);
  EXPECT_EQ(n.id.slab_identity, 3u);
  EXPECT_EQ(n.id.slot, 77u);
  EXPECT_EQ(n.id.generation, 9u);
  EXPECT_NE(describeId(n.id).find("slab 12 (identity 3), slot 77, generation 9"),
            std::string::npos);

  TriageInputs in;
  TriageFinding f = finding("bundle", "slab-id:different-slab at struct.get [mutator]", 99, "");
  f.slab_id = n;
  in.findings.push_back(f);
  in.not_reproduced.push_back({"crash-1", "did not reproduce: agree"});
  auto gs = groupFindings(in.findings);
  std::string md = triageMarkdown(in, gs);
  EXPECT_NE(md.find("the slot holds now: slab 12 is identity 4 now"), std::string::npos);
  EXPECT_NE(md.find("## Did not reproduce (1)"), std::string::npos);
  EXPECT_NE(md.find("| 1 | `slab-id:different-slab at struct.get [mutator]` | 1 |"),
            std::string::npos);
}

}  // namespace
}  // namespace slabfuzz
