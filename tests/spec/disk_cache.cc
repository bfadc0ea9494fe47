#include "tests/spec/disk_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;

// FNV-1a with the 128-bit parameters: stable across runs, platforms and
// compilers (unlike std::hash), and wide enough that ten thousand entries
// never collide in practice.
std::string hash128(std::string_view data) {
  using u128 = unsigned __int128;
  const u128 prime = (u128{0x0000000001000000} << 64) | 0x000000000000013B;
  u128 h = (u128{0x6c62272e07bb0142} << 64) | 0x62b821756295c58d;
  for (unsigned char c : data) {
    h ^= c;
    h *= prime;
  }
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h >> 64),
                static_cast<unsigned long long>(h));
  return hex;
}

// Numbers temporaries across every DiskCache of the process: two caches
// over the same directory (the Node worker's and wabt's) must not share one.
std::atomic<uint64_t> temp_counter{0};

}  // namespace

DiskCache::DiskCache(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) return;
  std::error_code ec;
  fs::create_directories(dir_, ec);  // failure: every read misses, every write is dropped
}

std::string DiskCache::path(std::string_view key, std::string_view extension) const {
  return dir_ + "/" + hash128(key) + std::string(extension);
}

std::optional<std::string> DiskCache::read(std::string_view key, std::string_view extension) const {
  if (!enabled()) return std::nullopt;
  std::ifstream in(path(key, extension), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return buffer.str();
}

void DiskCache::write(std::string_view key, std::string_view extension, std::string_view contents) {
  if (!enabled()) return;
  std::string temp =
      dir_ + "/.tmp-" + std::to_string(getpid()) + "-" + std::to_string(temp_counter++);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!out.good()) {
      out.close();
      std::remove(temp.c_str());
      return;
    }
  }
  std::error_code ec;
  fs::rename(temp, path(key, extension), ec);
  if (ec) std::remove(temp.c_str());
}

std::optional<Conversion> DiskCache::readConversion(std::string_view key) const {
  if (auto wasm = read(key, ".wasm")) {
    return Conversion{true, std::vector<uint8_t>(wasm->begin(), wasm->end()), {}};
  }
  if (auto error = read(key, ".err")) return Conversion{false, {}, std::move(*error)};
  return std::nullopt;
}

void DiskCache::writeConversion(std::string_view key, const Conversion& conversion) {
  if (conversion.ok) {
    write(key, ".wasm",
          std::string_view(reinterpret_cast<const char*>(conversion.wasm.data()),
                           conversion.wasm.size()));
  } else {
    write(key, ".err", conversion.error);
  }
}

}  // namespace slabfuzz
