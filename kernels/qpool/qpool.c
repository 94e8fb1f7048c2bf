/* qpool.c — the qpool family's table entry. */
#include "qpool.h"

void
kk_qpool_fill (kk_kernels *table, kk_isa isa)
{
  table->maxpool_u8_nhwc = kk_maxpool_u8_nhwc_scalar;
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    table->maxpool_u8_nhwc = kk_maxpool_u8_nhwc_avx512;
  else if (kk_isa_includes (isa, KK_ISA_AVX2))
    table->maxpool_u8_nhwc = kk_maxpool_u8_nhwc_avx2;
  else if (kk_isa_includes (isa, KK_ISA_SSE42))
    table->maxpool_u8_nhwc = kk_maxpool_u8_nhwc_sse42;
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->maxpool_u8_nhwc = kk_maxpool_u8_nhwc_neon;
#endif
  (void) isa;
}
