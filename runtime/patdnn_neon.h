/* NEON intrinsics for generated code: native on aarch64, SIMDe elsewhere (x86 hosts).
 * Build x86 with -march=x86-64-v3 so SIMDe fuses vfmaq_f32 like real NEON (bit-identical). */
#ifndef PATDNN_NEON_H
#define PATDNN_NEON_H

#if defined(__ARM_NEON)
#include <arm_neon.h>
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
#endif

#endif /* PATDNN_NEON_H */
