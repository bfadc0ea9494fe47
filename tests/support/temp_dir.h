// Test-only: a fresh, empty scratch directory per test name and process,
// under GoogleTest's temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace slabfuzz::test {

inline std::string tempDir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path dir =
      fs::path(testing::TempDir()) / ("slabfuzz-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace slabfuzz::test
