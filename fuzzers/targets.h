// What the differential fuzz targets make of their input bytes: the module,
// the comparison choice and the oracle options. Shared by the targets
// (gcgen_diff.cc, wasm_diff.cc) and by everything that replays their inputs
// without stopping on a finding (triage, reduction, the detection loop), so
// that a crash input means the same run everywhere.
// Owns: the byte layout of each target's input. Does not own: judging
// (oracle/fuzz_check.h) or generating (generators/gcgen).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "oracle/fuzz_check.h"

namespace slabfuzz {

enum class DiffTarget : uint8_t { GcgenDiff, WasmDiff };

// "gcgen_diff", "wasm_diff".
std::string_view diffTargetName(DiffTarget t);
std::optional<DiffTarget> diffTargetByName(std::string_view name);

// Holds spans into the bytes it was made from: they must outlive it.
struct TargetRun {
  ModuleInput input;
  uint32_t choice = 0;
  FuzzCheckOptions options;
};

// gcgen_diff: four bytes pick the comparison (and slab-random's seed), the
// rest is gcgen's. Short inputs read as zeros: still a valid choice. Every
// input gives a run.
TargetRun gcgenDiffRun(std::span<const uint8_t> data);

// wasm_diff: the bytes are the module, the comparison is chosen by their
// hash. Bytes that do not decode give no run.
std::optional<TargetRun> wasmDiffRun(std::span<const uint8_t> data);

// Either, by target.
std::optional<TargetRun> targetRun(DiffTarget t, std::span<const uint8_t> data);

// Selects the fault named by SLABFUZZ_FAULT (heap/faults.h) for a fuzz
// target's process, and the oracle's modes SLABFUZZ_KEEP_BUCKET and
// SLABFUZZ_RECORD_DIR (oracle/fuzz_check.h); an unknown name or a build without the zoo is fatal
// here (the fuzzer's configuration is wrong, not its input). Also reads
// SLABFUZZ_KEEP_BUCKET, the one bucket to abort on (fuzz_check.h
// setKeepBucket; `slabfuzz reduce` sets it for -minimize_crash).
void selectTargetFaultOrDie();

}  // namespace slabfuzz
