// The `spectest` host module that the official spec test suite imports
// (the reference interpreter's spectest.ml): print functions, four
// immutable globals, a table and a memory.
// Owns: those instances in a Store and the lookup that finds them. Does not
// own: the wast script language (tests/spec/) or linking (instantiate.h).
// Contract: print_* write one line per call to the LogSink ("42 : i32", as
// the reference interpreter prints); the globals, table (10, max 20,
// funcref) and memory (1 page, max 2) are created once per SpecTest, shared
// by every module that imports them from that Store.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/host/fuzzing_support.h"
#include "runtime/instantiate.h"
#include "runtime/store.h"

namespace slabfuzz {

class SpecTest {
 public:
  SpecTest(Store& store, LogSink sink);
  SpecTest(const SpecTest&) = delete;
  SpecTest& operator=(const SpecTest&) = delete;

  // Imports of module "spectest"; anything else is not found.
  std::optional<ExternVal> resolve(std::string_view module, std::string_view name) const;
  ImportResolver resolver() const {
    return [this](std::string_view m, std::string_view n) { return resolve(m, n); };
  }

 private:
  std::map<std::string, ExternVal, std::less<>> exports_;
};

}  // namespace slabfuzz
