// Base64 (RFC 4648, standard alphabet, '=' padding), the encoding the Node
// worker uses for binary modules inside JSON. Owns only the codec.
// Contract: decode rejects anything that is not canonical padded base64.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slabfuzz {

std::string base64Encode(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> base64Decode(std::string_view text);

}  // namespace slabfuzz
