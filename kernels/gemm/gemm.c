/* gemm.c — the gemm family's table entries and the blocked B packer shared
 * by the SIMD versions (layout described in gemm.h). Compiled with the
 * scalar flags: packing runs once per plan, not on the hot path. */
#include "gemm.h"

#include "convert/convert.h"

size_t
kk_gemm_blocked_packed_size (size_t k, size_t n, size_t vl)
{
  size_t nv = (n + vl - 1) / vl;
  return k * nv * vl;
}

/* The blocked layout's walk, for both element types: floats into dst32,
 * or halves (rounded to nearest, ties to even, as the convert family does)
 * into dst16; the other is NULL. */
static void
blocked_pack (const float *b, size_t k, size_t n, bool b_is_nk, size_t vl, float *dst32,
              uint16_t *dst16)
{
  size_t nv = (n + vl - 1) / vl;

  for (size_t v = 0; v < nv;)
    {
      size_t bv = kk_gemm_block_vectors (nv - v);
      size_t c0 = v * vl, w = bv * vl;

      for (size_t kk = 0; kk < k; kk++)
        for (size_t x = 0; x < w; x++)
          {
            size_t col = c0 + x, at = c0 * k + kk * w + x;
            float value = 0.0f;
            if (col < n)
              value = b_is_nk ? b[col * k + kk] : b[kk * n + col];
            if (dst32 != NULL)
              dst32[at] = value;
            else
              dst16[at] = kk_f32_to_f16_one (value);
          }
      v += bv;
    }
}

void
kk_gemm_blocked_pack_b (const float *b, size_t k, size_t n, bool b_is_nk,
                        float *packed, size_t vl)
{
  blocked_pack (b, k, n, b_is_nk, vl, packed, NULL);
}

void
kk_gemm_blocked_pack_b_f16 (const float *b, size_t k, size_t n, bool b_is_nk,
                            uint16_t *packed, size_t vl)
{
  blocked_pack (b, k, n, b_is_nk, vl, NULL, packed);
}

#define KK_GEMM_F16_SET(table, isa)                        \
  do                                                       \
    {                                                      \
      (table)->gemm_f16_packed_size = gemm_f16_packed_size_##isa; \
      (table)->gemm_f16_pack_b = gemm_f16_pack_b_##isa;    \
      (table)->gemm_f16 = gemm_f16_##isa;                  \
    }                                                      \
  while (0)

void
kk_gemm_fill (kk_kernels *table, kk_isa isa)
{
  KK_GEMM_F16_SET (table, scalar);
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    KK_GEMM_F16_SET (table, avx512);
  else if (kk_isa_includes (isa, KK_ISA_AVX2))
    KK_GEMM_F16_SET (table, avx2);
  /* SSE4.2 has no FMA, so the FP16 contract's fused steps would be libm
   * calls lane by lane: its table keeps the reference. */
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    KK_GEMM_F16_SET (table, neon);
#endif

  table->gemm_f32_packed_size = gemm_f32_packed_size_scalar;
  table->gemm_f32_pack_b = gemm_f32_pack_b_scalar;
  table->gemm_f32 = gemm_f32_scalar;
  /* AVX2, AVX-512 and NEON have their own; SSE4.2 runs the reference
   * itself, which is exact by definition. */
  table->gemm_f32_exact = gemm_f32_scalar;
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    table->gemm_f32_exact = gemm_f32_exact_avx512;
  else if (kk_isa_includes (isa, KK_ISA_AVX2))
    table->gemm_f32_exact = gemm_f32_exact_avx2;
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->gemm_f32_exact = gemm_f32_exact_neon;
#endif

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
