#include "runtime/instr.h"

namespace slabfuzz {

namespace {
constexpr OpcodeInfo kInfos[] = {
#define WASM_OP(Name, Prefix, Code, Imm, Sig_, Text) \
  {Prefix, Code, ImmKind::Imm, Sig::Sig_, Text},
#include "runtime/opcodes.def"
};
static_assert(sizeof(kInfos) / sizeof(kInfos[0]) == kOpcodeCount);
}  // namespace

const OpcodeInfo& opcodeInfo(Opcode op) { return kInfos[static_cast<size_t>(op)]; }

}  // namespace slabfuzz
