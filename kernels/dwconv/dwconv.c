/* dwconv.c — weight packing and the table filler for depthwise convolution. */
#include "dwconv.h"

/* ONNX stores depthwise weights [C][1][kh][kw]; the kernels want one vector
 * of channels per tap, [kh][kw][C], so every tap is a contiguous load that
 * lines up with the NHWC input. */
void
kk_dwconv_f32_pack_weights (const float *onnx_weights, size_t channels,
                            size_t kernel_h, size_t kernel_w, float *packed)
{
  const size_t taps = kernel_h * kernel_w;

  for (size_t c = 0; c < channels; c++)
    for (size_t t = 0; t < taps; t++)
      packed[t * channels + c] = onnx_weights[c * taps + t];
}

void
kk_dwconv_fill (kk_kernels *table, kk_isa isa)
{
  table->dwconv_f32_nhwc = kk_dwconv_f32_nhwc_scalar;
  table->dwconv_f32_nhwc_exact = kk_dwconv_f32_nhwc_scalar;

#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    {
      /* Without FMA, SSE4.2's version is the reference's arithmetic. */
      table->dwconv_f32_nhwc = kk_dwconv_f32_nhwc_sse42;
      table->dwconv_f32_nhwc_exact = kk_dwconv_f32_nhwc_sse42;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    {
      table->dwconv_f32_nhwc = kk_dwconv_f32_nhwc_avx2;
      table->dwconv_f32_nhwc_exact = kk_dwconv_f32_nhwc_exact_avx2;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      table->dwconv_f32_nhwc = kk_dwconv_f32_nhwc_avx512;
      table->dwconv_f32_nhwc_exact = kk_dwconv_f32_nhwc_exact_avx512;
    }
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    {
      table->dwconv_f32_nhwc = kk_dwconv_f32_nhwc_neon;
      table->dwconv_f32_nhwc_exact = kk_dwconv_f32_nhwc_exact_neon;
    }
#endif
}
