/* eltwise-avx2.c — 8 floats per vector, four vectors per step, masked tail.
 * VMINPS/VMAXPS with the bound first match the reference exactly (see
 * eltwise.h). */
#include "eltwise.h"

#include <immintrin.h>

static inline __m256
clamp_ps (__m256 v, __m256 lo, __m256 hi)
{
  return _mm256_max_ps (lo, _mm256_min_ps (hi, v));
}

/* Lane mask for the first r (1..7) lanes: a sliding window over this table. */
static const int32_t tail_table[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

static inline __m256i
tail_mask (size_t r)
{
  return _mm256_loadu_si256 ((const __m256i *) (tail_table + 8 - r));
}

void
kk_add_clamp_f32_avx2 (const float *a, const float *b, float *y, size_t n, float lo, float hi)
{
  const __m256 vlo = _mm256_set1_ps (lo), vhi = _mm256_set1_ps (hi);
  size_t i = 0;

  /* Four independent vectors per step: the loop is load/store bound, and this
   * keeps enough loads in flight to cover L2 latency on large tensors. */
  for (; i + 32 <= n; i += 32)
    {
      __m256 s0 = _mm256_add_ps (_mm256_loadu_ps (a + i), _mm256_loadu_ps (b + i));
      __m256 s1 = _mm256_add_ps (_mm256_loadu_ps (a + i + 8), _mm256_loadu_ps (b + i + 8));
      __m256 s2 = _mm256_add_ps (_mm256_loadu_ps (a + i + 16), _mm256_loadu_ps (b + i + 16));
      __m256 s3 = _mm256_add_ps (_mm256_loadu_ps (a + i + 24), _mm256_loadu_ps (b + i + 24));
      _mm256_storeu_ps (y + i, clamp_ps (s0, vlo, vhi));
      _mm256_storeu_ps (y + i + 8, clamp_ps (s1, vlo, vhi));
      _mm256_storeu_ps (y + i + 16, clamp_ps (s2, vlo, vhi));
      _mm256_storeu_ps (y + i + 24, clamp_ps (s3, vlo, vhi));
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, clamp_ps (_mm256_add_ps (_mm256_loadu_ps (a + i), _mm256_loadu_ps (b + i)),
                                       vlo, vhi));
  if (i < n)
    {
      /* Masked-off lanes are neither read (no fault past the end) nor written. */
      const __m256i m = tail_mask (n - i);
      __m256 s = _mm256_add_ps (_mm256_maskload_ps (a + i, m), _mm256_maskload_ps (b + i, m));
      _mm256_maskstore_ps (y + i, m, clamp_ps (s, vlo, vhi));
    }
}

void
kk_clamp_f32_avx2 (const float *x, float *y, size_t n, float lo, float hi)
{
  const __m256 vlo = _mm256_set1_ps (lo), vhi = _mm256_set1_ps (hi);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256 v0 = _mm256_loadu_ps (x + i), v1 = _mm256_loadu_ps (x + i + 8);
      __m256 v2 = _mm256_loadu_ps (x + i + 16), v3 = _mm256_loadu_ps (x + i + 24);
      _mm256_storeu_ps (y + i, clamp_ps (v0, vlo, vhi));
      _mm256_storeu_ps (y + i + 8, clamp_ps (v1, vlo, vhi));
      _mm256_storeu_ps (y + i + 16, clamp_ps (v2, vlo, vhi));
      _mm256_storeu_ps (y + i + 24, clamp_ps (v3, vlo, vhi));
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, clamp_ps (_mm256_loadu_ps (x + i), vlo, vhi));
  if (i < n)
    {
      const __m256i m = tail_mask (n - i);
      _mm256_maskstore_ps (y + i, m, clamp_ps (_mm256_maskload_ps (x + i, m), vlo, vhi));
    }
}
