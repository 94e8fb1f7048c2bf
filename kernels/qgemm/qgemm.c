/* qgemm.c — the qgemm family's table entries and the packer shared by
 * every version (layout in qgemm.h). Compiled with the scalar flags:
 * packing runs once per plan. */
#include "qgemm.h"

#include <stdlib.h>
#include <string.h>

size_t
kk_qgemm_blocked_packed_size (size_t k, size_t n, size_t vl, size_t g)
{
  size_t npad = kk_qgemm_round_up (n, vl);
  return npad * sizeof (int32_t) + kk_qgemm_round_up (k, g) * npad;
}

void
kk_qgemm_blocked_pack (const int8_t *w, size_t k, size_t n, bool w_is_nk,
                       const int32_t *bias, uint8_t a_zero_point, int32_t a_offset,
                       void *packed, size_t vl, size_t g)
{
  const size_t npad = kk_qgemm_round_up (n, vl), kpad = kk_qgemm_round_up (k, g);
  const size_t nv = npad / vl;
  int32_t *bias_eff = packed;
  int8_t *panels = (int8_t *) packed + npad * sizeof (int32_t);

  for (size_t j = 0; j < npad; j++)
    {
      int64_t sum = 0;
      if (j >= n)
        {
          bias_eff[j] = 0;
          continue;
        }
      for (size_t kk = 0; kk < k; kk++)
        sum += w_is_nk ? w[j * k + kk] : w[kk * n + j];
      /* Inside s32 for k and bias within the documented bounds. */
      bias_eff[j] = (int32_t) ((bias != NULL ? bias[j] : 0) - ((int64_t) a_zero_point - a_offset) * sum);
    }

  for (size_t v = 0; v < nv;)
    {
      size_t bv = kk_gemm_block_vectors (nv - v);
      size_t c0 = v * vl, width = bv * vl;
      int8_t *dst = panels + c0 * kpad;

      for (size_t grp = 0; grp < kpad / g; grp++)
        for (size_t x = 0; x < width; x++)
          for (size_t j = 0; j < g; j++)
            {
              size_t kk = grp * g + j, col = c0 + x;
              int8_t value = 0;
              if (kk < k && col < n)
                value = w_is_nk ? w[col * k + kk] : w[kk * n + col];
              dst[grp * width * g + x * g + j] = value;
            }
      v += bv;
    }
}

/* AVX-512 has two int8 versions: VNNI's vpdpbusd where the CPU has it, the
 * 16-bit pmaddwd one otherwise (kk_cpu_use_avx512_vnni). */
#define SET_QGEMM(t, isa)                                      \
  do                                                           \
    {                                                          \
      (t)->qgemm_u8s8_packed_size = qgemm_u8s8_packed_size_##isa; \
      (t)->qgemm_u8s8_pack = qgemm_u8s8_pack_##isa;            \
      (t)->qgemm_u8s8_requant = qgemm_u8s8_requant_##isa;      \
      (t)->qgemm_u8s8_s32 = qgemm_u8s8_s32_##isa;              \
      (t)->qgemm_u8s4_packed_size = qgemm_u8s4_packed_size_##isa; \
      (t)->qgemm_u8s4_pack = qgemm_u8s4_pack_##isa;            \
      (t)->qgemm_u8s4_requant = qgemm_u8s4_requant_##isa;      \
      (t)->qgemm_u8s4_s32 = qgemm_u8s4_s32_##isa;              \
      (t)->qgemm_version = #isa;                               \
    }                                                          \
  while (0)

void
kk_qgemm_fill (kk_kernels *table, kk_isa isa)
{
  /* The eight entries always come from one version: a packed W is only
   * meaningful to the kernel that shares its layout. */
  SET_QGEMM (table, scalar);

#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      if (kk_cpu_use_avx512_vnni ())
        SET_QGEMM (table, avx512vnni);
      else
        SET_QGEMM (table, avx512bw);
    }
  else if (kk_isa_includes (isa, KK_ISA_AVX2))
    SET_QGEMM (table, avx2);
  else if (kk_isa_includes (isa, KK_ISA_SSE42))
    SET_QGEMM (table, sse42);
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    {
      if (kk_cpu_features_get ()->asimd_dotprod)
        SET_QGEMM (table, neondot);
      else
        SET_QGEMM (table, neon);
    }
#endif
  (void) isa;
}
