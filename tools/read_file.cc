#include "tools/read_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>

#include "text/wat.h"

namespace slabfuzz {

std::variant<std::vector<uint8_t>, FileError> readFileCapped(const std::string& path,
                                                             uint64_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return FileError{"no such file"};
  if (fs::is_directory(status)) return FileError{"is a directory"};
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return FileError{fmt::format("cannot open: {}", std::strerror(errno))};
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  for (;;) {
    size_t n = std::fread(chunk, 1, sizeof chunk, f.get());
    if (n == 0) break;
    if (bytes.size() + n > max_bytes)
      return FileError{fmt::format("larger than the {} byte limit", max_bytes)};
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  if (std::ferror(f.get())) return FileError{fmt::format("read error: {}", std::strerror(errno))};
  return bytes;
}

std::variant<std::vector<uint8_t>, FileError, Error> readModuleFile(const std::string& path,
                                                                    uint64_t max_bytes) {
  auto read = readFileCapped(path, max_bytes);
  if (auto* fe = std::get_if<FileError>(&read)) return *fe;
  auto& bytes = std::get<std::vector<uint8_t>>(read);
  if (!looksLikeWat(bytes)) return std::move(bytes);
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto assembled = assembleWat(text);
  if (!assembled.ok()) return assembled.error();
  return std::move(assembled.value());
}

}  // namespace slabfuzz
