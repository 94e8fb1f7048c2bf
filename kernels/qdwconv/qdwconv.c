/* qdwconv.c — the qdwconv family's table entry and weight packing. */
#include "qdwconv.h"

void
kk_dwconv_s8_pack_weights (const int8_t *onnx_weights, size_t channels, size_t kernel_h,
                           size_t kernel_w, int8_t *packed)
{
  for (size_t c = 0; c < channels; c++)
    for (size_t ky = 0; ky < kernel_h; ky++)
      for (size_t kx = 0; kx < kernel_w; kx++)
        packed[(ky * kernel_w + kx) * channels + c] = onnx_weights[(c * kernel_h + ky) * kernel_w + kx];
}

void
kk_qdwconv_fill (kk_kernels *table, kk_isa isa)
{
  table->qdwconv_u8_nhwc = kk_qdwconv_u8_nhwc_scalar;
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    table->qdwconv_u8_nhwc = kk_cpu_use_avx512_vnni () ? kk_qdwconv_u8_nhwc_avx512vnni
                                                       : kk_qdwconv_u8_nhwc_avx512;
  else if (kk_isa_includes (isa, KK_ISA_AVX2))
    table->qdwconv_u8_nhwc = kk_qdwconv_u8_nhwc_avx2;
  else if (kk_isa_includes (isa, KK_ISA_SSE42))
    table->qdwconv_u8_nhwc = kk_qdwconv_u8_nhwc_sse42;
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->qdwconv_u8_nhwc = kk_qdwconv_u8_nhwc_neon;
#endif
  (void) isa;
}
