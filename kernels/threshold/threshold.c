/* threshold.c — puts the best threshold kernel for an ISA into a table. */
#include "threshold.h"

void
kk_threshold_fill (kk_kernels *table, kk_isa isa)
{
  table->threshold_u8 = kk_threshold_u8__scalar;

#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    table->threshold_u8 = kk_threshold_u8__sse42;
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    table->threshold_u8 = kk_threshold_u8__avx2;
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    table->threshold_u8 = kk_threshold_u8__avx512;
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->threshold_u8 = kk_threshold_u8__neon;
#endif
}
