/* exp-avx512.h — exp-avx2.h on 16 lanes: the same operations in the same
 * order, so AVX-512 and AVX2 give the same bits lane for lane (test-eltwise
 * checks it); change both together. Used by eltwise-avx512.c (softmax,
 * sigmoid, SiLU) and gemm-avx512.c (the epilogue's activation, in
 * registers). Internal: include only from a file compiled with the AVX-512
 * flags.
 */
#pragma once

#include <immintrin.h>

/* exp (r) for the reduced argument; see kk_exp_poly_ps_avx2. */
static inline __attribute__ ((always_inline)) __m512
kk_exp_poly_ps_avx512 (__m512 r)
{
  __m512 p = _mm512_set1_ps (1.9875691500e-4f);
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.3981999507e-3f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (8.3334519073e-3f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (4.1665795894e-2f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.6666665459e-1f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (5.0000001201e-1f));
  p = _mm512_fmadd_ps (p, _mm512_mul_ps (r, r), _mm512_add_ps (r, _mm512_set1_ps (1.0f)));
  return p;
}

/* exp (v) for v in [-87, 87] (callers clamp); see kk_exp_ps_avx2. */
static inline __attribute__ ((always_inline)) __m512
kk_exp_ps_avx512 (__m512 v)
{
  const __m512 n = _mm512_roundscale_ps (_mm512_mul_ps (v, _mm512_set1_ps (1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps (n, _mm512_set1_ps (0.693359375f), v);
  r = _mm512_fnmadd_ps (n, _mm512_set1_ps (-2.12194440e-4f), r);
  const __m512 p = kk_exp_poly_ps_avx512 (r);
  const __m512i e = _mm512_slli_epi32 (_mm512_add_epi32 (_mm512_cvtps_epi32 (n), _mm512_set1_epi32 (127)), 23);
  return _mm512_mul_ps (p, _mm512_castsi512_ps (e));
}

/* 1 / (1 + exp (-x)), exp's argument clamped to [-87, 87]; NaN stays NaN.
 * kk_sigmoid_ps_avx2's operations, except that p * 2^n is VSCALEFPS instead
 * of a multiply by 2^n built in the exponent field: both are the correctly
 * rounded p * 2^n (n is an integer in [-126, 126], so 2^n is a normal
 * float), so the same bits in three fewer instructions. */
static inline __attribute__ ((always_inline)) __m512
kk_sigmoid_ps_avx512 (__m512 x)
{
  const __m512 xc = _mm512_min_ps (_mm512_max_ps (x, _mm512_set1_ps (-87.0f)), _mm512_set1_ps (87.0f));
  const __m512 n = _mm512_roundscale_ps (_mm512_mul_ps (xc, _mm512_set1_ps (-1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmsub_ps (n, _mm512_set1_ps (0.693359375f), xc);
  r = _mm512_fnmadd_ps (n, _mm512_set1_ps (-2.12194440e-4f), r);
  const __m512 p = kk_exp_poly_ps_avx512 (r);
  const __m512 one = _mm512_set1_ps (1.0f);
  const __m512 s = _mm512_div_ps (one, _mm512_add_ps (one, _mm512_scalef_ps (p, n)));
  return _mm512_mask_blend_ps (_mm512_cmp_ps_mask (x, x, _CMP_UNORD_Q), s, x);
}

/* SiLU, x * sigmoid (x). */
static inline __attribute__ ((always_inline)) __m512
kk_silu_ps_avx512 (__m512 x)
{
  return _mm512_mul_ps (x, kk_sigmoid_ps_avx512 (x));
}
