#include "runtime/trap.h"

namespace slabfuzz {

std::string_view trapMessage(TrapKind kind) {
  switch (kind) {
#define WASM_TRAP(Name, Resource, Message) \
  case TrapKind::Name:                     \
    return Message;
#include "runtime/traps.def"
  }
  return "trap";
}

bool isResourceTrap(TrapKind kind) {
  switch (kind) {
#define WASM_TRAP(Name, Resource, Message) \
  case TrapKind::Name:                     \
    return Resource;
#include "runtime/traps.def"
  }
  return false;
}

}  // namespace slabfuzz
