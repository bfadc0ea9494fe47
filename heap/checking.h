// The internal-check level of this build (CONVENTIONS.md rule 10): 0 cheap
// checks only, 1 internal checks, 2 expensive checks. Owns: turning the
// build's SLABFUZZ_CHECKING definition into one constexpr. Does not own: the
// checks themselves.
// Contract: CMakeLists.txt defines SLABFUZZ_CHECKING from a cache string
// documented as 0/1/2, but a boolean spelling (-DSLABFUZZ_CHECKING=ON) is
// easy to pass and would read as 0 in `#if` (an unknown identifier); so the
// spellings ON/OFF/TRUE/FALSE/YES/NO are mapped too (ON = 1). An absent
// definition means 0.
#pragma once

#define SLABFUZZ_CHECKING_LEVEL_0 0
#define SLABFUZZ_CHECKING_LEVEL_1 1
#define SLABFUZZ_CHECKING_LEVEL_2 2
#define SLABFUZZ_CHECKING_LEVEL_3 3
#define SLABFUZZ_CHECKING_LEVEL_ON 1
#define SLABFUZZ_CHECKING_LEVEL_OFF 0
#define SLABFUZZ_CHECKING_LEVEL_TRUE 1
#define SLABFUZZ_CHECKING_LEVEL_FALSE 0
#define SLABFUZZ_CHECKING_LEVEL_YES 1
#define SLABFUZZ_CHECKING_LEVEL_NO 0
#define SLABFUZZ_CHECKING_CAT_(a, b) a##b
#define SLABFUZZ_CHECKING_CAT(a, b) SLABFUZZ_CHECKING_CAT_(a, b)

namespace slabfuzz {

#ifdef SLABFUZZ_CHECKING
inline constexpr int kCheckingLevel =
    SLABFUZZ_CHECKING_CAT(SLABFUZZ_CHECKING_LEVEL_, SLABFUZZ_CHECKING);
#else
inline constexpr int kCheckingLevel = 0;
#endif

}  // namespace slabfuzz
