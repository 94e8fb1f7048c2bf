/* pool.c — puts the best pooling kernels for an ISA into a table. */
#include "pool.h"

void
kk_pool_fill (kk_kernels *table, kk_isa isa)
{
  table->maxpool_f32_nhwc = kk_maxpool_f32_nhwc_scalar;
  table->avgpool_global_f32_nhwc = kk_avgpool_global_f32_nhwc_scalar;

#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    table->maxpool_f32_nhwc = kk_maxpool_f32_nhwc_sse42;
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    {
      table->maxpool_f32_nhwc = kk_maxpool_f32_nhwc_avx2;
      table->avgpool_global_f32_nhwc = kk_avgpool_global_f32_nhwc_avx2;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      table->maxpool_f32_nhwc = kk_maxpool_f32_nhwc_avx512;
      table->avgpool_global_f32_nhwc = kk_avgpool_global_f32_nhwc_avx512;
    }
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->maxpool_f32_nhwc = kk_maxpool_f32_nhwc_neon;
#endif
}
