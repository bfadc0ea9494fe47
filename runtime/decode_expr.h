// Instruction sequences for the decoder (spec 5.4): function bodies and
// constant expressions. Internal to runtime/: decode.cc is the only caller.
// Owns: opcode lookup (expanded from opcodes.def), every immediate layout
// (ImmKind, instr.h), block structure (Block/Loop/If get the indices of
// their End and Else), recognising out-of-scope opcodes as unsupported.
// Does not own: typing (validate.h). Contract: on success the sequence is
// balanced and ends at the End that closes it; on failure the reader holds
// the error.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/binary_reader.h"
#include "runtime/module.h"

namespace slabfuzz {

class ExprDecoder {
 public:
  explicit ExprDecoder(BinaryReader& reader) : r_(reader) {}

  // Reads a function body's instructions. The reader's window is the body
  // (after its locals); the final End must be its last byte and is stored as
  // the last Instr. memory.init, data.drop, array.new_data and
  // array.init_data need the data count section (spec 5.5.16), hence
  // `has_data_count`.
  bool decodeBody(bool has_data_count, std::vector<Instr>& body, std::vector<uint32_t>& extra);

  // Reads a constant expression up to and including its End, which is not
  // stored (ConstExpr holds the instructions only).
  bool decodeConstExpr(ConstExpr& out);

 private:
  enum class Mode : uint8_t { Body, ConstExpr };
  bool decode(Mode mode, std::vector<Instr>& out, std::vector<uint32_t>& extra);
  bool trackStructure(Mode mode, std::vector<Instr>& out, uint32_t index, bool& done);
  bool readOtherOpcode(uint8_t byte, uint16_t entry, Instr& ins);
  bool readImmediates(Instr& ins, std::vector<uint32_t>& extra);
  bool readBlockType(Instr& ins);
  bool readMemArg(Instr& ins);
  bool readMemoryIndex(uint32_t& out);
  bool readBrTable(Instr& ins, std::vector<uint32_t>& extra);
  bool readSelectTypes(Instr& ins);
  bool readBrOnCast(Instr& ins);

  BinaryReader& r_;
  bool has_data_count_ = false;
  std::vector<uint32_t> open_blocks_;    // indices of open Block/Loop/If (reused)
  std::vector<uint32_t> scratch_extra_;  // br_table targets of constant expressions
};

}  // namespace slabfuzz
