// Golden-file tests: module bytes in, expected verdict out.
// Owns: the .golden format and its runner (one test per file under
// SLABFUZZ_GOLDEN_DIR, recursively). Does not own: the goldens themselves
// (tests/golden/decode/ and tests/golden/validate/, written per stage).
//
// Format of a .golden file:
//   # free comment lines start with '#'
//   # expect: valid
//     or
//   # expect: <malformed|invalid|unsupported> <0xOFFSET>: <Error::message>
//   00 61 73 6d 01 00 00 00   # module bytes as hex pairs; '#' comments to end of line
//
// The runner decodes, then validates, and compares the first error (or
// "valid") with the expect line. SLABFUZZ_UPDATE_GOLDENS=1 rewrites the
// expect line instead of failing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/decode.h"
#include "runtime/validate.h"

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExpectPrefix = "# expect:";

fs::path goldenRoot() {
  return fs::path(SLABFUZZ_GOLDEN_DIR);
}

std::vector<fs::path> findGoldens(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".golden") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

struct Golden {
  std::vector<std::string> lines;  // the file, for rewriting
  std::optional<size_t> expect_line;
  std::string expect;  // text after "# expect:", trimmed
  std::vector<uint8_t> bytes;
  std::string parse_error;  // empty when the file parsed
};

bool parseHexByte(const std::string& token, uint8_t& out) {
  if (token.size() != 2 || !std::isxdigit(static_cast<unsigned char>(token[0])) ||
      !std::isxdigit(static_cast<unsigned char>(token[1]))) {
    return false;
  }
  out = static_cast<uint8_t>(std::stoul(token, nullptr, 16));
  return true;
}

Golden readGolden(const fs::path& path) {
  Golden g;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) g.lines.push_back(line);
  for (size_t i = 0; i < g.lines.size(); ++i) {
    const std::string t = trim(g.lines[i]);
    if (t.rfind(kExpectPrefix, 0) == 0) {
      if (!g.expect_line) {
        g.expect_line = i;
        g.expect = trim(std::string_view(t).substr(kExpectPrefix.size()));
      }
      continue;
    }
    if (!t.empty() && t[0] == '#') continue;
    std::istringstream tokens(t.substr(0, t.find('#')));
    std::string token;
    while (tokens >> token) {
      uint8_t b;
      if (!parseHexByte(token, b)) {
        g.parse_error = fmt::format("line {}: '{}' is not a hex byte", i + 1, token);
        return g;
      }
      g.bytes.push_back(b);
    }
  }
  if (!g.expect_line) g.parse_error = "no '# expect:' line";
  return g;
}

std::string describe(const Error& e) {
  return fmt::format("{} {:#x}: {}", categoryName(e.category()), e.offset, e.message);
}

// "valid", or the first error of decoding then validating.
std::string verdict(const std::vector<uint8_t>& bytes) {
  Result<Module> module = decodeModule(bytes);
  if (!module.ok()) return describe(module.error());
  Status status = validateModule(module.value());
  if (!status.ok()) return describe(status.error());
  return "valid";
}

bool updateRequested() {
  const char* v = std::getenv("SLABFUZZ_UPDATE_GOLDENS");
  return v != nullptr && std::string_view(v) == "1";
}

void rewriteExpect(const fs::path& path, Golden& g, const std::string& actual) {
  const std::string line = fmt::format("{} {}", kExpectPrefix, actual);
  if (g.expect_line) {
    g.lines[*g.expect_line] = line;
  } else {
    // After the leading comment block.
    size_t at = 0;
    while (at < g.lines.size() && trim(g.lines[at]).rfind('#', 0) == 0) ++at;
    g.lines.insert(g.lines.begin() + static_cast<std::ptrdiff_t>(at), line);
  }
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& l : g.lines) out << l << '\n';
}

class GoldenTest : public testing::TestWithParam<fs::path> {};

TEST_P(GoldenTest, Verdict) {
  const fs::path& path = GetParam();
  Golden g = readGolden(path);
  const bool update = updateRequested();
  if (!g.parse_error.empty() && !(update && g.parse_error == "no '# expect:' line")) {
    FAIL() << path << ": " << g.parse_error;
  }
  const std::string actual = verdict(g.bytes);
  if (actual == g.expect) return;
  if (update) {
    rewriteExpect(path, g, actual);
    std::cout << "updated " << path.string() << ": " << actual << "\n";
    return;
  }
  FAIL() << path.string() << "\n  expected: " << g.expect << "\n  actual:   " << actual
         << "\n(SLABFUZZ_UPDATE_GOLDENS=1 rewrites the expect line)";
}

std::string testName(const testing::TestParamInfo<fs::path>& info) {
  std::string name = fs::relative(info.param, goldenRoot()).replace_extension().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, testing::ValuesIn(findGoldens(goldenRoot())),
                         testName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenTest);

// A golden directory without goldens is a failure, so that a wrong path or
// an emptied directory cannot pass silently.
TEST(GoldenFiles, NoDirectoryIsEmpty) {
  ASSERT_TRUE(fs::is_directory(goldenRoot())) << "missing golden directory " << goldenRoot();
  EXPECT_FALSE(findGoldens(goldenRoot()).empty()) << "no .golden files under " << goldenRoot();
  for (const auto& entry : fs::recursive_directory_iterator(goldenRoot())) {
    if (entry.is_directory()) {
      EXPECT_FALSE(findGoldens(entry.path()).empty())
          << "golden directory without .golden files: " << entry.path();
    }
  }
}

}  // namespace
}  // namespace slabfuzz
