#include "tests/spec/wabt_converter.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "process/subprocess.h"

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

bool writeFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return out.good();
}

std::optional<std::vector<uint8_t>> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::nullopt;
  std::string s = buffer.str();
  return std::vector<uint8_t>(s.begin(), s.end());
}

// wat2wasm names the input file in every message ("/tmp/.../in.wat:3:7:
// error: ..."); the scratch path means nothing to a reader and would differ
// between runs, so it is cut, leaving Binaryen's "line:column: error:" form.
std::string withoutPath(std::string output, const std::string& path) {
  const std::string prefix = path + ":";
  for (size_t at; (at = output.find(prefix)) != std::string::npos;) output.erase(at, prefix.size());
  return output;
}

}  // namespace

const std::vector<std::string>& WabtConverter::flags() {
  static const std::vector<std::string> kFlags = {"--enable-all", "--no-check"};
  return kFlags;
}

Result<std::unique_ptr<WabtConverter>, std::string> WabtConverter::start(WabtOptions options) {
  std::string program = findProgram(options.program);
  if (program.empty()) {
    return std::string(options.program.find('/') == std::string::npos
                           ? "no " + options.program + " on $PATH"
                           : "no executable at " + options.program);
  }
  ProgramRun run = runProgram({program, "--version"}, {options.timeout_ms, 4096});
  std::string version = trim(run.output);
  if (!run.succeeded() || version.empty() || version.find('\n') != std::string::npos) {
    return program + " --version did not answer with a version (" + run.describe() + ": " +
           trim(run.output).substr(0, 200) + ")";
  }

  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/slabfuzz-wabt-XXXXXX";
  if (!mkdtemp(pattern.data())) {
    return "cannot create a scratch directory like " + pattern + " (" + std::strerror(errno) + ")";
  }
  return std::unique_ptr<WabtConverter>(
      new WabtConverter(std::move(program), std::move(version), pattern, std::move(options)));
}

WabtConverter::WabtConverter(std::string program, std::string version, std::string scratch_dir,
                             WabtOptions options)
    : program_(std::move(program)),
      version_(std::move(version)),
      scratch_dir_(std::move(scratch_dir)),
      cache_(std::move(options.cache_dir)),
      timeout_ms_(options.timeout_ms) {}

WabtConverter::~WabtConverter() {
  std::error_code ec;
  fs::remove_all(scratch_dir_, ec);
}

Conversion WabtConverter::convert(std::string_view text) {
  std::string key = "wat2wasm (wabt)\n" + version_;
  for (const std::string& flag : flags()) key += " " + flag;
  key += "\n";
  key += text;
  if (auto cached = cache_.readConversion(key)) {
    ++stats_.cache_hits;
    return std::move(*cached);
  }

  const std::string input = scratch_dir_ + "/in.wat";
  const std::string output = scratch_dir_ + "/out.wasm";
  Conversion conversion;
  if (!writeFile(input, text)) {
    conversion.error = "cannot write the text to " + input;
    return conversion;
  }
  std::error_code ec;
  fs::remove(output, ec);  // so that a stale output can never pass for this one's

  std::vector<std::string> argv = {program_};
  argv.insert(argv.end(), flags().begin(), flags().end());
  argv.insert(argv.end(), {input, "-o", output});
  ++stats_.runs;
  ProgramRun run = runProgram(argv, {timeout_ms_, 64 * 1024});

  if (run.status != ProgramRun::Status::Exited) {
    conversion.error = "wat2wasm " + run.describe();
    if (run.status == ProgramRun::Status::TimedOut) {
      conversion.error += " (" + std::to_string(timeout_ms_) + " ms)";
    }
    // A crash usually says why first ("Assertion `is_index()' failed.").
    std::string said = trim(run.output.substr(0, run.output.find('\n')));
    if (!said.empty()) conversion.error += ": " + said;
    return conversion;  // not cached: it may not happen again
  }
  if (run.code != 0) {
    std::string message = trim(withoutPath(run.output, input));
    conversion.error = message.empty() ? "wat2wasm " + run.describe() : message;
  } else if (auto wasm = readFile(output)) {
    conversion.ok = true;
    conversion.wasm = std::move(*wasm);
  } else {
    conversion.error = "wat2wasm exited 0 but wrote no " + output;
    return conversion;  // not wat2wasm's answer about the text
  }
  cache_.writeConversion(key, conversion);
  return conversion;
}

}  // namespace slabfuzz
