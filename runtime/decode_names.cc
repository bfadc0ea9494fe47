#include "runtime/decode_names.h"

#include <limits>
#include <map>

#include "runtime/binary_format.h"
#include "runtime/binary_reader.h"

namespace slabfuzz {

namespace {

using namespace binary;  // name subsection ids

constexpr uint32_t kAnyCount = std::numeric_limits<uint32_t>::max();

// namemap ::= vec(idx name)
bool readNameMap(BinaryReader& r, std::map<uint32_t, std::string>& out) {
  uint32_t count;
  if (!r.readCount(count, kAnyCount, "names")) return false;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t index;
    std::string name;
    if (!r.readU32(index) || !r.readName(name)) return false;
    out.emplace(index, std::move(name));
  }
  return true;
}

// indirectnamemap ::= vec(idx namemap)
bool readIndirectNameMap(BinaryReader& r,
                         std::map<uint32_t, std::map<uint32_t, std::string>>& out) {
  uint32_t count;
  if (!r.readCount(count, kAnyCount, "name maps")) return false;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t index;
    if (!r.readU32(index) || !readNameMap(r, out[index])) return false;
  }
  return true;
}

bool readSubsection(BinaryReader& r, uint8_t id, Names& names) {
  switch (id) {
    case kModuleNames: {
      std::string name;
      if (!r.readName(name)) return false;
      names.module = std::move(name);
      return true;
    }
    case kFunctionNames: return readNameMap(r, names.functions);
    case kLocalNames: return readIndirectNameMap(r, names.locals);
    case kLabelNames: return readIndirectNameMap(r, names.labels);
    case kTypeNames: return readNameMap(r, names.types);
    case kTableNames: return readNameMap(r, names.tables);
    case kMemoryNames: return readNameMap(r, names.memories);
    case kGlobalNames: return readNameMap(r, names.globals);
    case kElemNames: return readNameMap(r, names.elems);
    case kDataNames: return readNameMap(r, names.datas);
    case kFieldNames: return readIndirectNameMap(r, names.fields);
    default:  // tags and future subsections: skipped
      r.skipTo(r.end());
      return true;
  }
}

}  // namespace

bool parseNameSection(std::span<const uint8_t> payload, Names& out) {
  BinaryReader r(payload);
  Names names;
  int last_id = -1;
  while (!r.atEnd()) {
    uint8_t id;
    uint32_t size;
    if (!r.readU8(id) || !r.readU32(size)) return false;
    // Subsections appear at most once, in increasing order of id.
    if (static_cast<int>(id) <= last_id || size > r.remaining()) return false;
    last_id = id;
    const uint8_t* outer_end = r.narrow(size);
    if (!readSubsection(r, id, names) || !r.atEnd()) return false;
    r.restore(outer_end);
  }
  out = std::move(names);
  return true;
}

std::optional<std::string> findFunctionName(std::span<const uint8_t> module, size_t from,
                                            uint32_t index) {
  if (from > module.size()) return std::nullopt;
  BinaryReader r(module.subspan(from));
  while (!r.atEnd()) {
    uint8_t id;
    uint32_t size;
    if (!r.readU8(id) || !r.readU32(size) || size > r.remaining()) return std::nullopt;
    const uint8_t* section_end = r.pos() + size;
    if (id == 0) {
      const uint8_t* outer_end = r.narrow(size);
      std::string name;
      if (r.readName(name) && name == "name") {
        Names names;
        if (!parseNameSection({r.pos(), static_cast<size_t>(r.end() - r.pos())}, names)) {
          return std::nullopt;
        }
        auto it = names.functions.find(index);
        if (it == names.functions.end()) return std::nullopt;
        return it->second;
      }
      r.restore(outer_end);
    }
    r.skipTo(section_end);
  }
  return std::nullopt;
}

}  // namespace slabfuzz
