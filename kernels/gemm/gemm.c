/* gemm.c — the gemm family's table entries and the blocked B packer shared
 * by the SIMD versions (layout described in gemm.h). Compiled with the
 * scalar flags: packing runs once per plan, not on the hot path. */
#include "gemm.h"

size_t
kk_gemm_blocked_packed_size (size_t k, size_t n, size_t vl)
{
  size_t nv = (n + vl - 1) / vl;
  return k * nv * vl;
}

void
kk_gemm_blocked_pack_b (const float *b, size_t k, size_t n, bool b_is_nk,
                        float *packed, size_t vl)
{
  size_t nv = (n + vl - 1) / vl;

  for (size_t v = 0; v < nv;)
    {
      size_t bv = kk_gemm_block_vectors (nv - v);
      size_t c0 = v * vl, w = bv * vl;
      float *dst = packed + c0 * k;

      for (size_t kk = 0; kk < k; kk++)
        for (size_t x = 0; x < w; x++)
          {
            size_t col = c0 + x;
            float value = 0.0f;
            if (col < n)
              value = b_is_nk ? b[col * k + kk] : b[kk * n + col];
            dst[kk * w + x] = value;
          }
      v += bv;
    }
}

void
kk_gemm_fill (kk_kernels *table, kk_isa isa)
{
  table->gemm_f32_packed_size = gemm_f32_packed_size_scalar;
  table->gemm_f32_pack_b = gemm_f32_pack_b_scalar;
  table->gemm_f32 = gemm_f32_scalar;

#if KK_ARCH_X86
  /* The three entries always come from one ISA: a packed B is only
   * meaningful to the kernel that shares its layout. */
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      table->gemm_f32_packed_size = gemm_f32_packed_size_avx512;
      table->gemm_f32_pack_b = gemm_f32_pack_b_avx512;
      table->gemm_f32 = gemm_f32_avx512;
    }
  else if (kk_isa_includes (isa, KK_ISA_AVX2))
    {
      table->gemm_f32_packed_size = gemm_f32_packed_size_avx2;
      table->gemm_f32_pack_b = gemm_f32_pack_b_avx2;
      table->gemm_f32 = gemm_f32_avx2;
    }
  else if (kk_isa_includes (isa, KK_ISA_SSE42))
    {
      table->gemm_f32_packed_size = gemm_f32_packed_size_sse42;
      table->gemm_f32_pack_b = gemm_f32_pack_b_sse42;
      table->gemm_f32 = gemm_f32_sse42;
    }
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    {
      table->gemm_f32_packed_size = gemm_f32_packed_size_neon;
      table->gemm_f32_pack_b = gemm_f32_pack_b_neon;
      table->gemm_f32 = gemm_f32_neon;
    }
#endif
}
