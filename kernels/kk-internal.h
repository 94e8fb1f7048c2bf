/* kk-internal.h — shared by the kernel families, not installed.
 *
 * Each family folder (colour/, threshold/, ...) has a header declaring one
 * function per instruction set, named <op>_<types>_<isa>, and a
 * kk_<family>_fill() that puts the best version for an ISA into a table.
 */
#pragma once

#include "kestrel-kernels.h"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#define KK_ARCH_X86 1
#else
#define KK_ARCH_X86 0
#endif

#if defined(__aarch64__)
#define KK_ARCH_ARM64 1
#else
#define KK_ARCH_ARM64 0
#endif

/* Does a table for `isa` may use code written for `level`? The x86 ISAs form
 * a ladder; NEON stands alone beside scalar. */
static inline bool
kk_isa_includes (kk_isa isa, kk_isa level)
{
  if (level == KK_ISA_SCALAR)
    return true;
  if (level == KK_ISA_NEON || isa == KK_ISA_NEON)
    return isa == level;
  return isa >= level;
}

/* Family fill functions, called by dispatch.c for each ISA table. */
void kk_colour_fill (kk_kernels *table, kk_isa isa);
void kk_threshold_fill (kk_kernels *table, kk_isa isa);
void kk_normalize_fill (kk_kernels *table, kk_isa isa);
void kk_resize_fill (kk_kernels *table, kk_isa isa);
void kk_model_input_fill (kk_kernels *table, kk_isa isa);
void kk_convert_fill (kk_kernels *table, kk_isa isa);
void kk_gemm_fill (kk_kernels *table, kk_isa isa);
void kk_dwconv_fill (kk_kernels *table, kk_isa isa);
void kk_pool_fill (kk_kernels *table, kk_isa isa);
void kk_eltwise_fill (kk_kernels *table, kk_isa isa);
