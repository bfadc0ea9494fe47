// Decode + validate throughput over a directory of modules, in bytes/s.
// Usage: decode_bench --modules DIR [google-benchmark flags]
// bench/decode-throughput runs it beside V8's WebAssembly.validate on the same
// bytes and prints the ratio; run that script rather than this binary alone.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runtime/decode.h"
#include "runtime/validate.h"

namespace {

std::vector<std::vector<uint8_t>> g_modules;
size_t g_total_bytes = 0;

void BM_DecodeValidate(benchmark::State& state) {
  size_t rejected = 0;
  for (auto _ : state) {
    for (const auto& bytes : g_modules) {
      auto m = slabfuzz::decodeModule(bytes);
      if (!m.ok() || !slabfuzz::validateModule(m.value()).ok()) ++rejected;
      benchmark::DoNotOptimize(m);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_total_bytes));
  state.counters["modules"] = static_cast<double>(g_modules.size());
  state.counters["rejected"] = static_cast<double>(rejected / std::max<size_t>(1, state.iterations()));
}

void BM_DecodeOnly(benchmark::State& state) {
  for (auto _ : state) {
    for (const auto& bytes : g_modules) {
      auto m = slabfuzz::decodeModule(bytes);
      benchmark::DoNotOptimize(m);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_total_bytes));
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--modules") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: %s --modules DIR [benchmark flags]\n", argv[0]);
    return 2;
  }
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".wasm") paths.push_back(e.path());
  if (ec || paths.empty()) {
    std::fprintf(stderr, "decode_bench: no .wasm files in %s\n", dir.c_str());
    return 2;
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    g_modules.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    g_total_bytes += g_modules.back().size();
  }
  benchmark::RegisterBenchmark("decode+validate", BM_DecodeValidate)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("decode", BM_DecodeOnly)->Unit(benchmark::kMillisecond);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
