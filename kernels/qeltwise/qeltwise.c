/* qeltwise.c — the qeltwise family's table entries. */
#include "qeltwise.h"

void
kk_qeltwise_fill (kk_kernels *table, kk_isa isa)
{
  table->qadd_u8 = kk_qadd_u8_scalar;
  table->qrescale_u8 = kk_qrescale_u8_scalar;
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      table->qadd_u8 = kk_qadd_u8_avx512;
      table->qrescale_u8 = kk_qrescale_u8_avx512;
    }
  else if (kk_isa_includes (isa, KK_ISA_AVX2))
    {
      table->qadd_u8 = kk_qadd_u8_avx2;
      table->qrescale_u8 = kk_qrescale_u8_avx2;
    }
  else if (kk_isa_includes (isa, KK_ISA_SSE42))
    {
      table->qadd_u8 = kk_qadd_u8_sse42;
      table->qrescale_u8 = kk_qrescale_u8_sse42;
    }
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    {
      table->qadd_u8 = kk_qadd_u8_neon;
      table->qrescale_u8 = kk_qrescale_u8_neon;
    }
#endif
  (void) isa;
}
