/* eltwise-avx512.c — the AVX2 loops widened to 16 floats per vector, with an
 * opmask tail. VMINPS/VMAXPS zmm have the same operand-order NaN rule as the
 * narrower forms, so results match the reference exactly (see eltwise.h). */
#include "eltwise.h"

#include <immintrin.h>

static inline __m512
clamp_ps (__m512 v, __m512 lo, __m512 hi)
{
  return _mm512_max_ps (lo, _mm512_min_ps (hi, v));
}

/* The first r lanes, r in 1..15. */
static inline __mmask16
tail_mask (size_t r)
{
  return (__mmask16) ((1u << r) - 1u);
}

void
kk_add_clamp_f32_avx512 (const float *a, const float *b, float *y, size_t n, float lo, float hi)
{
  const __m512 vlo = _mm512_set1_ps (lo), vhi = _mm512_set1_ps (hi);
  size_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      __m512 s0 = _mm512_add_ps (_mm512_loadu_ps (a + i), _mm512_loadu_ps (b + i));
      __m512 s1 = _mm512_add_ps (_mm512_loadu_ps (a + i + 16), _mm512_loadu_ps (b + i + 16));
      __m512 s2 = _mm512_add_ps (_mm512_loadu_ps (a + i + 32), _mm512_loadu_ps (b + i + 32));
      __m512 s3 = _mm512_add_ps (_mm512_loadu_ps (a + i + 48), _mm512_loadu_ps (b + i + 48));
      _mm512_storeu_ps (y + i, clamp_ps (s0, vlo, vhi));
      _mm512_storeu_ps (y + i + 16, clamp_ps (s1, vlo, vhi));
      _mm512_storeu_ps (y + i + 32, clamp_ps (s2, vlo, vhi));
      _mm512_storeu_ps (y + i + 48, clamp_ps (s3, vlo, vhi));
    }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (y + i, clamp_ps (_mm512_add_ps (_mm512_loadu_ps (a + i), _mm512_loadu_ps (b + i)),
                                       vlo, vhi));
  if (i < n)
    {
      /* Masked-off lanes are not read (no fault) and not written. */
      const __mmask16 m = tail_mask (n - i);
      __m512 s = _mm512_add_ps (_mm512_maskz_loadu_ps (m, a + i), _mm512_maskz_loadu_ps (m, b + i));
      _mm512_mask_storeu_ps (y + i, m, clamp_ps (s, vlo, vhi));
    }
}

void
kk_clamp_f32_avx512 (const float *x, float *y, size_t n, float lo, float hi)
{
  const __m512 vlo = _mm512_set1_ps (lo), vhi = _mm512_set1_ps (hi);
  size_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      __m512 v0 = _mm512_loadu_ps (x + i), v1 = _mm512_loadu_ps (x + i + 16);
      __m512 v2 = _mm512_loadu_ps (x + i + 32), v3 = _mm512_loadu_ps (x + i + 48);
      _mm512_storeu_ps (y + i, clamp_ps (v0, vlo, vhi));
      _mm512_storeu_ps (y + i + 16, clamp_ps (v1, vlo, vhi));
      _mm512_storeu_ps (y + i + 32, clamp_ps (v2, vlo, vhi));
      _mm512_storeu_ps (y + i + 48, clamp_ps (v3, vlo, vhi));
    }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (y + i, clamp_ps (_mm512_loadu_ps (x + i), vlo, vhi));
  if (i < n)
    {
      const __mmask16 m = tail_mask (n - i);
      _mm512_mask_storeu_ps (y + i, m, clamp_ps (_mm512_maskz_loadu_ps (m, x + i), vlo, vhi));
    }
}
