// Decoded instructions: the opcode enumeration, immediate layouts and `Instr`.
// Owns: `Opcode` and `ImmKind` (expanded from opcodes.def), per-opcode facts
// (prefix, code, immediate kind, signature, text), and the layout of
// immediates in `Instr`. Does not own: reading bytes (decode.h) or typing
// (validate.h). Contract: every stage after the decoder reads instructions
// only through `Instr`, never through raw bytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/valtype.h"

namespace slabfuzz {

enum class Opcode : uint16_t {
#define WASM_OP(Name, Prefix, Code, Imm, Sig, Text) Name,
#include "runtime/opcodes.def"
  Count_
};
inline constexpr size_t kOpcodeCount = static_cast<size_t>(Opcode::Count_);

// Where each immediate kind lands in Instr::a, b, c, d.
enum class ImmKind : uint8_t {
  None,
  BlockType,     // a = BlockTypeKind, b = ValType bits or type index,
                 // c = index of the matching End in the body,
                 // d = index of Else (If only; == c when there is no else)
  Label,         // a = relative depth
  BrTable,       // a = first target in Function::extra, b = target count, c = default depth
  Func,          // a = function index
  CallIndirect,  // a = type index, b = table index
  Type,          // a = type index
  Local,         // a = local index
  Global,        // a = global index
  Table,         // a = table index
  Data,          // a = data segment index
  Elem,          // a = element segment index
  MemArg1,       // a = alignment exponent, b/c = offset (low/high 32 bits), d = memory
  MemArg2,       //   (MemArgN: natural alignment is N bytes)
  MemArg4,
  MemArg8,
  MemIdx,        // a = memory index
  I32,           // a = value
  I64,           // a/b = low/high 32 bits
  F32,           // a = bit pattern
  F64,           // a/b = low/high 32 bits of the bit pattern
  SelectT,       // a = number of types in the immediate, b = first ValType bits
  HeapType,      // a = HeapType bits
  TypeField,     // a = type index, b = field index
  TypeCount,     // a = type index, b = operand count (array.new_fixed)
  TypeData,      // a = type index, b = data segment index
  TypeElem,      // a = type index, b = element segment index
  TypeType,      // a = destination type index, b = source type index
  BrOnCast,      // a = depth, b = source HeapType bits, c = target HeapType bits,
                 // d = flags (bit 0: source nullable, bit 1: target nullable)
  MemInit,       // a = data segment index, b = memory index
  MemCopy,       // a = destination memory, b = source memory
  TableInit,     // a = element segment index, b = table index
  TableCopy,     // a = destination table, b = source table
};

enum class Sig : uint8_t {
#define WASM_SIG(Name, Params, Results) Name,
#include "runtime/sigs.def"
  Special
};

enum class BlockTypeKind : uint32_t { Empty = 0, Value = 1, TypeIndex = 2 };

struct OpcodeInfo {
  uint8_t prefix;  // 0, 0xFB or 0xFC
  uint32_t code;
  ImmKind imm;
  Sig sig;
  std::string_view text;
};

const OpcodeInfo& opcodeInfo(Opcode op);
inline std::string_view opcodeName(Opcode op) { return opcodeInfo(op).text; }

// One decoded instruction: 24 bytes, immediates in a..d as described above.
struct Instr {
  Opcode op = Opcode::Nop;
  uint32_t offset = 0;  // byte offset of the opcode in the module
  uint32_t a = 0, b = 0, c = 0, d = 0;

  uint64_t u64() const { return (static_cast<uint64_t>(b) << 32) | a; }
  uint64_t memOffset() const { return (static_cast<uint64_t>(c) << 32) | b; }
  ValType valType(uint32_t bits) const { return ValType::fromBits(bits); }
};
static_assert(sizeof(Instr) == 24, "Instr should stay compact");

}  // namespace slabfuzz
