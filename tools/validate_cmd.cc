// `slabfuzz validate FILE...`: decode and validate each module.
// One line per problem: `FILE: <category>: <message> (at offset 0x.., context)`.
// Exit 0 if every file is a valid module, 1 if any is malformed, invalid or
// uses an unsupported feature, 2 on usage errors or unreadable files.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "runtime/decode.h"
#include "runtime/validate.h"
#include "tools/commands.h"
#include "tools/read_file.h"

namespace slabfuzz::cli {
namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  bool json = false;
  bool quiet = false;
};

// The verdict for one file, as data (printed as text or JSON).
struct Verdict {
  std::string file;
  std::string status;  // valid | malformed | invalid | unsupported | io-error
  std::optional<Error> error;
  std::string io_message;
};

Verdict checkFile(const std::string& path) {
  Verdict v{path, "valid", std::nullopt, {}};
  auto read = readModuleFile(path, kMaxModuleSize);
  if (auto* fe = std::get_if<FileError>(&read)) {
    v.status = "io-error";
    v.io_message = fe->message;
    return v;
  }
  if (auto* text_error = std::get_if<Error>(&read)) {
    v.error = *text_error;
    v.status = std::string(categoryName(v.error->category()));
    return v;
  }
  const auto& bytes = std::get<std::vector<uint8_t>>(read);
  auto module = decodeModule(bytes);
  if (!module.ok()) {
    v.error = module.error();
  } else if (Status s = validateModule(module.value()); !s.ok()) {
    v.error = s.error();
  }
  if (v.error) v.status = std::string(categoryName(v.error->category()));
  return v;
}

nlohmann::json toJson(const Verdict& v) {
  nlohmann::json j = {{"file", v.file}, {"status", v.status}};
  if (v.error) {
    j["code"] = std::string(slugOf(v.error->code));
    j["offset"] = v.error->offset;
    j["message"] = v.error->message;
    if (!v.error->context.empty()) j["context"] = v.error->context;
  }
  if (!v.io_message.empty()) j["message"] = v.io_message;
  return j;
}

int run(const ValidateOptions& opts) {
  bool any_rejected = false, any_io = false;
  nlohmann::json all = nlohmann::json::array();
  for (const auto& file : opts.files) {
    Verdict v = checkFile(file);
    any_io |= v.status == "io-error";
    any_rejected |= v.status != "valid" && v.status != "io-error";
    if (opts.json) {
      all.push_back(toJson(v));
    } else if (v.status == "io-error") {
      fmt::print(stderr, "{}: error: {}\n", file, v.io_message);
    } else if (v.error) {
      fmt::print("{}: {}: {}\n", file, v.status, v.error->toString());
    } else if (!opts.quiet) {
      fmt::print("{}: valid\n", file);
    }
  }
  if (opts.json) fmt::print("{}\n", all.dump(2));
  if (any_io) return kExitUsage;
  return any_rejected ? kExitRejected : kExitOk;
}

}  // namespace

void addValidateCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Decode and validate WebAssembly modules.\n"
      "Exit status: 0 all valid; 1 some module malformed, invalid or using an\n"
      "unsupported feature; 2 usage error or a file that could not be read.");
  cmd->add_option("files", opts->files, "module files (.wasm, or .wat text)")->required();
  cmd->add_flag("--json", opts->json, "print one JSON array of verdicts");
  cmd->add_flag("-q,--quiet", opts->quiet, "print only problems");
  cmd->callback([opts, exit_code] { *exit_code = run(*opts); });
}

}  // namespace slabfuzz::cli
