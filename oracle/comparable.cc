// The comparable set; see comparable.h.
#include "oracle/comparable.h"

#include <fmt/format.h>

#include <algorithm>

#include "oracle/engine.h"
#include "runtime/host/fuzzing_support.h"

namespace slabfuzz {
namespace {

bool sameValTypes(std::span<const ValType> a, std::span<const ValType> b) {
  return std::ranges::equal(a, b);
}

std::optional<std::string> funcImportOutOfAbi(const Module& m, const Import& imp) {
  if (imp.module != "fuzzing-support")
    return fmt::format("imports function {}.{}, which is not of the fuzzing-support ABI",
                       imp.module, imp.name);
  auto abi = fuzzingSupportAbi();
  auto row = std::ranges::find(abi, std::string_view(imp.name), &FuzzingSupportImport::name);
  if (row == abi.end())
    return fmt::format("imports fuzzing-support.{}, which the ABI does not have", imp.name);
  if (imp.func_type >= m.types.size()) return fmt::format("imports {} with no type", imp.name);
  const SubType& t = m.types[imp.func_type];
  const bool alone = t.rec_group < m.rec_groups.size() && m.rec_groups[t.rec_group].count == 1;
  if (t.composite.kind != CompositeKind::Func || !t.final || !t.supertypes.empty() || !alone ||
      !sameValTypes(t.composite.func.params, row->type.params) ||
      !sameValTypes(t.composite.func.results, row->type.results))
    return fmt::format("imports fuzzing-support.{} with a type other than the ABI's", imp.name);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> notComparableWith(std::string_view engine, const Module& module) {
  if (!isExternalEngineName(engine)) return std::nullopt;
  const ValType externref = ValType::ref(HeapType::abstract(HeapType::Extern), true);
  const ValType ref_extern = ValType::ref(HeapType::abstract(HeapType::Extern), false);
  for (const Import& imp : module.imports) {
    switch (imp.kind) {
      case ExternKind::Func:
        if (auto why = funcImportOutOfAbi(module, imp)) return why;
        break;
      case ExternKind::Global:
        if (imp.module == "fuzzing-support" || imp.global.mut ||
            (imp.global.type != externref && imp.global.type != ref_extern))
          return fmt::format("imports global {}.{}, which only an immutable externref import "
                             "from another module can be",
                             imp.module, imp.name);
        break;
      default:
        return fmt::format("imports {}.{}, which is not a function or a global", imp.module,
                           imp.name);
    }
  }
  return std::nullopt;
}

}  // namespace slabfuzz
