#include "tools/atomic_write.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace slabfuzz::cli {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> writeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return fmt::format("cannot create {}: {}", path, std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(path.c_str());
    return fmt::format("cannot write {}", path);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> writeAtomically(const std::string& path,
                                           const std::vector<uint8_t>& bytes, bool force) {
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp =
      (dir / fmt::format(".{}.tmp.{}", target.filename().string(), getpid())).string();
  if (auto err = writeFile(tmp, bytes)) return err;
  if (force) {
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::string why = std::strerror(errno);
      std::remove(tmp.c_str());
      return fmt::format("cannot rename to {}: {}", path, why);
    }
    return std::nullopt;
  }
  // link(2) publishes the file only if nothing is there.
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  std::remove(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) return fmt::format("{} exists (use --force to replace it)", path);
    return fmt::format("cannot create {}: {}", path, std::strerror(err));
  }
  return std::nullopt;
}

std::optional<std::string> writeDirectoryAtomically(const std::string& parent,
                                                    const std::string& name,
                                                    const std::vector<NamedFile>& files,
                                                    std::string* created) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return fmt::format("cannot create {}: {}", parent, ec.message());
  fs::path tmp = fs::path(parent) / fmt::format(".{}.tmp.{}", name, getpid());
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec) {
    return fmt::format("cannot create {}: {}", tmp.string(), ec.message());
  }
  for (const auto& [file, bytes] : files) {
    if (auto err = writeFile((tmp / file).string(), bytes)) {
      fs::remove_all(tmp, ec);
      return err;
    }
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    fs::path target =
        fs::path(parent) / (attempt == 0 ? name : fmt::format("{}.{}", name, attempt));
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
      if (created) *created = target.string();
      return std::nullopt;
    }
    if (errno != EEXIST) {
      std::string why = std::strerror(errno);
      fs::remove_all(tmp, ec);
      return fmt::format("cannot create {}: {}", target.string(), why);
    }
  }
  fs::remove_all(tmp, ec);
  return fmt::format("cannot create {}/{}: 1000 names taken", parent, name);
}

}  // namespace slabfuzz::cli
