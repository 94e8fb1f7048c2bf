/* convert.c — puts the best convert versions for an ISA into a table. */
#include "convert.h"

#define KK_CONVERT_SET(table, isa)                         \
  do                                                       \
    {                                                      \
      (table)->f32_to_f16 = kk_f32_to_f16__##isa;          \
      (table)->f16_to_f32 = kk_f16_to_f32__##isa;          \
      (table)->quantize_f32_s8 = kk_quantize_f32_s8__##isa; \
      (table)->quantize_f32_u8 = kk_quantize_f32_u8__##isa; \
      (table)->dequantize_s8_f32 = kk_dequantize_s8_f32__##isa; \
      (table)->dequantize_u8_f32 = kk_dequantize_u8_f32__##isa; \
    }                                                      \
  while (0)

void
kk_convert_fill (kk_kernels *table, kk_isa isa)
{
  KK_CONVERT_SET (table, scalar);
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    KK_CONVERT_SET (table, sse42);
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    KK_CONVERT_SET (table, avx2);
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    KK_CONVERT_SET (table, avx512);
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    KK_CONVERT_SET (table, neon);
#endif
}
