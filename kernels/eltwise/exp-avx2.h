/* exp-avx2.h — the polynomial exp and the sigmoid built on it, 8 lanes, for
 * the AVX2 files that need them (eltwise-avx2.c; gemm-avx2.c applies the
 * epilogue's activation with them). Internal: include only from a file
 * compiled with the AVX2 + FMA flags.
 *
 * exp-avx512.h is the same operations in the same order on 16 lanes, so
 * AVX2 and AVX-512 give the same bits lane for lane (test-eltwise checks
 * it); change both together.
 */
#pragma once

#include <immintrin.h>

/* exp (r) for the reduced argument r in [-ln2 / 2, ln2 / 2]: the degree-6
 * polynomial of the Cephes library's expf (1 + r + r^2 p5 (r)). */
static inline __attribute__ ((always_inline)) __m256
kk_exp_poly_ps_avx2 (__m256 r)
{
  __m256 p = _mm256_set1_ps (1.9875691500e-4f);
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.3981999507e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (8.3334519073e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (4.1665795894e-2f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.6666665459e-1f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (5.0000001201e-1f));
  p = _mm256_fmadd_ps (p, _mm256_mul_ps (r, r), _mm256_add_ps (r, _mm256_set1_ps (1.0f)));
  return p;
}

/* exp (v) for v in [-87, 87] (callers clamp): 2^n * p (r) with n the
 * nearest integer to v / ln 2 and r = v - n ln 2 split in two constants, p
 * the degree-6 Taylor-fitted polynomial of the Cephes library's expf;
 * within 2 ulp of expf. */
static inline __attribute__ ((always_inline)) __m256
kk_exp_ps_avx2 (__m256 v)
{
  const __m256 n = _mm256_round_ps (_mm256_mul_ps (v, _mm256_set1_ps (1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps (n, _mm256_set1_ps (0.693359375f), v);
  r = _mm256_fnmadd_ps (n, _mm256_set1_ps (-2.12194440e-4f), r);
  const __m256 p = kk_exp_poly_ps_avx2 (r);
  const __m256i e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (n), _mm256_set1_epi32 (127)), 23);
  return _mm256_mul_ps (p, _mm256_castsi256_ps (e));
}

/* 1 / (1 + exp (-x)); exp's argument clamped to [-87, 87], where sigmoid is
 * already 1 or below 2e-38; NaN stays NaN.
 *
 * exp (-x) is kk_exp_ps_avx2 (t) at t = -clamp (x) written with the
 * negation folded into its first two steps (t * log2 e = x * -log2 e and
 * -(n ln2hi) + t = -(n ln2hi) - x are the same roundings of the same
 * exact values), which saves the subtraction; the results are the same
 * bits as calling it on t. */
static inline __attribute__ ((always_inline)) __m256
kk_sigmoid_ps_avx2 (__m256 x)
{
  const __m256 xc = _mm256_min_ps (_mm256_max_ps (x, _mm256_set1_ps (-87.0f)), _mm256_set1_ps (87.0f));
  const __m256 n = _mm256_round_ps (_mm256_mul_ps (xc, _mm256_set1_ps (-1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmsub_ps (n, _mm256_set1_ps (0.693359375f), xc);
  r = _mm256_fnmadd_ps (n, _mm256_set1_ps (-2.12194440e-4f), r);
  const __m256 p = kk_exp_poly_ps_avx2 (r);
  const __m256i e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (n), _mm256_set1_epi32 (127)), 23);
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256 s = _mm256_div_ps (one, _mm256_add_ps (one, _mm256_mul_ps (p, _mm256_castsi256_ps (e))));
  /* The clamp turned a NaN into a bound: give the NaN back. */
  return _mm256_blendv_ps (s, x, _mm256_cmp_ps (x, x, _CMP_UNORD_Q));
}

/* SiLU, x * sigmoid (x). */
static inline __attribute__ ((always_inline)) __m256
kk_silu_ps_avx2 (__m256 x)
{
  return _mm256_mul_ps (x, kk_sigmoid_ps_avx2 (x));
}
