/* dwconv-f16.c — weight packing and the table filler for the depthwise
 * convolution with FP16 weights (see dwconv-f16.h). */
#include "dwconv-f16.h"

/* ONNX [C][1][kh][kw] halves to [kh][kw][C], as kk_dwconv_f32_pack_weights
 * does for floats: the halves are moved, not rounded again. */
void
kk_dwconv_f16_pack_weights (const uint16_t *onnx_weights, size_t channels, size_t kernel_h,
                            size_t kernel_w, uint16_t *packed)
{
  const size_t taps = kernel_h * kernel_w;

  for (size_t c = 0; c < channels; c++)
    for (size_t t = 0; t < taps; t++)
      packed[t * channels + c] = onnx_weights[c * taps + t];
}

void
kk_dwconv_f16_fill (kk_kernels *table, kk_isa isa)
{
  /* SSE4.2 has no FMA: it keeps the reference, as gemm_f16 does. */
  table->dwconv_f16_nhwc = kk_dwconv_f16_nhwc_scalar;

#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    table->dwconv_f16_nhwc = kk_dwconv_f16_nhwc_avx2;
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    table->dwconv_f16_nhwc = kk_dwconv_f16_nhwc_avx512;
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->dwconv_f16_nhwc = kk_dwconv_f16_nhwc_neon;
#endif
}
