/* eltwise-sse42.c — 4 floats per step. MINPS/MAXPS with the bound first give
 * the reference's NaN behaviour (see eltwise.h) for free. */
#include "eltwise.h"

#include <immintrin.h>

static inline __m128
clamp_ps (__m128 v, __m128 lo, __m128 hi)
{
  return _mm_max_ps (lo, _mm_min_ps (hi, v));
}

void
kk_add_clamp_f32_sse42 (const float *a, const float *b, float *y, size_t n, float lo, float hi)
{
  const __m128 vlo = _mm_set1_ps (lo), vhi = _mm_set1_ps (hi);
  size_t i = 0;

  /* Two vectors per step: each load pair is independent, so this keeps both
   * load ports busy without needing the compiler to unroll. */
  for (; i + 8 <= n; i += 8)
    {
      __m128 s0 = _mm_add_ps (_mm_loadu_ps (a + i), _mm_loadu_ps (b + i));
      __m128 s1 = _mm_add_ps (_mm_loadu_ps (a + i + 4), _mm_loadu_ps (b + i + 4));
      _mm_storeu_ps (y + i, clamp_ps (s0, vlo, vhi));
      _mm_storeu_ps (y + i + 4, clamp_ps (s1, vlo, vhi));
    }
  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps (y + i, clamp_ps (_mm_add_ps (_mm_loadu_ps (a + i), _mm_loadu_ps (b + i)), vlo, vhi));
  /* SSE has no masked loads; the scalar tail computes the same thing. */
  for (; i < n; i++)
    y[i] = kk_clamp_f32_1 (a[i] + b[i], lo, hi);
}

void
kk_clamp_f32_sse42 (const float *x, float *y, size_t n, float lo, float hi)
{
  const __m128 vlo = _mm_set1_ps (lo), vhi = _mm_set1_ps (hi);
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m128 v0 = _mm_loadu_ps (x + i), v1 = _mm_loadu_ps (x + i + 4);
      _mm_storeu_ps (y + i, clamp_ps (v0, vlo, vhi));
      _mm_storeu_ps (y + i + 4, clamp_ps (v1, vlo, vhi));
    }
  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps (y + i, clamp_ps (_mm_loadu_ps (x + i), vlo, vhi));
  for (; i < n; i++)
    y[i] = kk_clamp_f32_1 (x[i], lo, hi);
}
