/* normalize.c — puts the best normalize versions for an ISA into a table. */
#include "normalize.h"

void
kk_normalize_fill (kk_kernels *table, kk_isa isa)
{
  table->mean_var_f32 = kk_mean_var_f32__scalar;
  table->normalize_f32 = kk_normalize_f32__scalar;
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    {
      table->mean_var_f32 = kk_mean_var_f32__sse42;
      table->normalize_f32 = kk_normalize_f32__sse42;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    {
      table->mean_var_f32 = kk_mean_var_f32__avx2;
      table->normalize_f32 = kk_normalize_f32__avx2;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      table->mean_var_f32 = kk_mean_var_f32__avx512;
      table->normalize_f32 = kk_normalize_f32__avx512;
    }
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    {
      table->mean_var_f32 = kk_mean_var_f32__neon;
      table->normalize_f32 = kk_normalize_f32__neon;
    }
#endif
}
