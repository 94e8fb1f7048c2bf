/* colour.c — puts the best gray conversion for an ISA into a table. */
#include "colour.h"

void
kk_colour_fill (kk_kernels *table, kk_isa isa)
{
  table->gray_from_rgb8 = kk_gray_from_rgb8__scalar;
  table->gray_from_rgba8 = kk_gray_from_rgba8__scalar;
  table->gray_from_bgra8 = kk_gray_from_bgra8__scalar;

#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    {
      table->gray_from_rgb8 = kk_gray_from_rgb8__sse42;
      table->gray_from_rgba8 = kk_gray_from_rgba8__sse42;
      table->gray_from_bgra8 = kk_gray_from_bgra8__sse42;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    {
      table->gray_from_rgb8 = kk_gray_from_rgb8__avx2;
      table->gray_from_rgba8 = kk_gray_from_rgba8__avx2;
      table->gray_from_bgra8 = kk_gray_from_bgra8__avx2;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      table->gray_from_rgb8 = kk_gray_from_rgb8__avx512;
      table->gray_from_rgba8 = kk_gray_from_rgba8__avx512;
      table->gray_from_bgra8 = kk_gray_from_bgra8__avx512;
    }
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    {
      table->gray_from_rgb8 = kk_gray_from_rgb8__neon;
      table->gray_from_rgba8 = kk_gray_from_rgba8__neon;
      table->gray_from_bgra8 = kk_gray_from_bgra8__neon;
    }
#endif
}
