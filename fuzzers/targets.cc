// The differential targets' input layout; see targets.h.
#include "fuzzers/targets.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "generators/gcgen/gcgen.h"
#include "heap/faults.h"

namespace slabfuzz {

std::string_view diffTargetName(DiffTarget t) {
  return t == DiffTarget::GcgenDiff ? "gcgen_diff" : "wasm_diff";
}

std::optional<DiffTarget> diffTargetByName(std::string_view name) {
  if (name == "gcgen_diff") return DiffTarget::GcgenDiff;
  if (name == "wasm_diff") return DiffTarget::WasmDiff;
  return std::nullopt;
}

TargetRun gcgenDiffRun(std::span<const uint8_t> data) {
  TargetRun r;
  const size_t head = std::min<size_t>(data.size(), 4);
  for (size_t i = 0; i < head; ++i) r.choice |= uint32_t{data[i]} << (8 * i);
  r.input.module = std::make_shared<const Module>(gcgen::generateModule(data.subspan(head)));
  // gcgen's modules are valid by contract (gen:invalid-module otherwise).
  r.options.rejection_is_finding = true;
  r.options.raw_input = data;
  return r;
}

std::optional<TargetRun> wasmDiffRun(std::span<const uint8_t> data) {
  auto input = decodeInput(data);
  if (!input.ok()) return std::nullopt;
  TargetRun r;
  r.input = std::move(input).value();
  r.choice = choiceFromBytes(data.data(), data.size());
  r.options.raw_input = data;
  return r;
}

std::optional<TargetRun> targetRun(DiffTarget t, std::span<const uint8_t> data) {
  if (t == DiffTarget::GcgenDiff) return gcgenDiffRun(data);
  return wasmDiffRun(data);
}

void selectTargetFaultOrDie() {
  if (auto err = selectFaultFromEnvironment()) {
    std::fprintf(stderr, "slabfuzz: %s\n", err->c_str());
    std::exit(2);
  }
  if (const char* bucket = std::getenv("SLABFUZZ_KEEP_BUCKET")) setKeepBucket(bucket);
  if (const char* dir = std::getenv("SLABFUZZ_RECORD_DIR")) setRecordDir(dir);
}

}  // namespace slabfuzz
