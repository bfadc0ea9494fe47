// AFL++ instances of a campaign; see afl.h.
#include "tools/campaign/afl.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace slabfuzz::cli::campaign {
namespace {

namespace fs = std::filesystem;

uint64_t fnv64File(const fs::path& p, bool* ok) {
  std::ifstream in(p, std::ios::binary);
  uint64_t h = 1469598103934665603ull;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) h = (h ^ static_cast<uint8_t>(buf[i])) * 1099511628211ull;
    if (!in) break;
  }
  *ok = !in.bad();
  return h;
}

// AFL's own files in crashes/, hangs/ and queue/ are named "id:NNNNNN,...";
// README.txt and .state/ are not inputs.
bool isAflInput(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_regular_file(ec) && e.path().filename().string().starts_with("id:");
}

std::vector<fs::path> instanceDirs(const fs::path& sync) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(sync, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

size_t copyByHash(const std::vector<fs::path>& sources, const fs::path& dest, const std::string& prefix,
                  std::set<uint64_t>& have) {
  size_t copied = 0;
  std::error_code ec;
  fs::create_directories(dest, ec);
  for (const fs::path& src : sources) {
    bool ok = false;
    uint64_t h = fnv64File(src, &ok);
    if (!ok || have.count(h)) continue;
    have.insert(h);
    fs::path to = dest / fmt::format("{}{:016x}", prefix, h);
    // Through a dot-name and a rename, so that a scan never lists half a
    // file; an existing name is kept.
    fs::path tmp = dest / fmt::format(".{}{:016x}.tmp", prefix, h);
    if (fs::exists(to, ec)) continue;
    if (!fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec)) continue;
    if (fs::exists(to, ec)) {
      fs::remove(tmp, ec);
      continue;
    }
    fs::rename(tmp, to, ec);
    if (!ec) ++copied;
  }
  return copied;
}

}  // namespace

std::vector<std::string> aflArgv(const AflCommand& c) {
  std::vector<std::string> argv = {"afl-fuzz", "-i", c.in.string(), "-o", c.sync.string(),
                                   c.instance == "main" ? "-M" : "-S", c.instance,
                                   "-V", std::to_string(c.seconds),
                                   "-t", std::to_string(c.timeout_s * 1000)};
  if (!c.dict.empty()) {
    argv.push_back("-x");
    argv.push_back(c.dict);
  }
  if (c.seed) {
    argv.push_back("-s");
    argv.push_back(std::to_string(c.seed));
  }
  argv.push_back("--");
  argv.push_back(c.binary);
  return argv;
}

std::vector<std::pair<std::string, std::string>> aflEnvironment() {
  return {{"AFL_NO_UI", "1"},
          {"AFL_SKIP_CPUFREQ", "1"},
          {"AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1"},
          {"AFL_AUTORESUME", "1"},
          {"AFL_NO_AFFINITY", "1"},
          {"AFL_FORKSRV_INIT_TMOUT", "120000"}};
}

AflStats readAflSync(const fs::path& sync) {
  AflStats sum;
  for (const fs::path& dir : instanceDirs(sync)) {
    std::ifstream in(dir / "fuzzer_stats");
    std::ostringstream s;
    s << in.rdbuf();
    AflStats st = parseAflStats(s.str());
    if (!st.valid) continue;
    sum.valid = true;
    sum.execs += st.execs;
    sum.execs_per_sec += st.execs_per_sec;
    sum.crashes += st.crashes;
    sum.hangs += st.hangs;
    sum.corpus = std::max(sum.corpus, st.corpus);
    sum.edges = std::max(sum.edges, st.edges);
    if (sum.target_mode.empty()) sum.target_mode = st.target_mode;
    sum.stability = sum.stability == 0 ? st.stability : std::min(sum.stability, st.stability);
  }
  return sum;
}

size_t collectAflFiles(const fs::path& sync, const char* sub, const fs::path& dest, const char* prefix) {
  const std::string pre = fmt::format("{}-afl-", prefix);
  std::set<uint64_t> have;
  std::error_code ec;
  for (fs::directory_iterator it(dest, ec), end; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (n.starts_with(pre)) have.insert(std::strtoull(n.c_str() + pre.size(), nullptr, 16));
  }
  std::vector<fs::path> sources;
  for (const fs::path& dir : instanceDirs(sync))
    for (fs::directory_iterator it(dir / sub, ec), end; !ec && it != end; it.increment(ec))
      if (isAflInput(*it)) sources.push_back(it->path());
  std::sort(sources.begin(), sources.end());
  return copyByHash(sources, dest, pre, have);
}

size_t syncAflQueue(const fs::path& sync, const fs::path& corpus) {
  std::set<uint64_t> have;
  std::error_code ec;
  for (fs::directory_iterator it(corpus, ec), end; !ec && it != end; it.increment(ec)) {
    bool ok = false;
    if (it->is_regular_file(ec)) have.insert(fnv64File(it->path(), &ok));
  }
  std::vector<fs::path> sources;
  for (const fs::path& dir : instanceDirs(sync))
    for (fs::directory_iterator it(dir / "queue", ec), end; !ec && it != end; it.increment(ec))
      if (isAflInput(*it)) sources.push_back(it->path());
  std::sort(sources.begin(), sources.end());
  return copyByHash(sources, corpus, "afl-", have);
}

}  // namespace slabfuzz::cli::campaign
