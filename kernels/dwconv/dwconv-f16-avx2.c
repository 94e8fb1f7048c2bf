/* dwconv-f16-avx2.c — depthwise convolution with FP16 weights, 8 channels
 * per ymm: halves widened by vcvtph2ps (F16C), vfmadd (dwconv-f16-driver.h). */
#include <immintrin.h>

typedef __m256 V;
#define F 8
#define V_ZERO() _mm256_setzero_ps ()
#define V_SET1(f) _mm256_set1_ps (f)
#define V_LOAD(p) _mm256_loadu_ps (p)
#define V_LOAD_H(p) _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (p)))
#define V_STORE(p, v) _mm256_storeu_ps ((p), (v))
#define V_FMA(a, x, w) _mm256_fmadd_ps ((x), (w), (a))
/* minps/maxps return their second operand when either is NaN or both are
 * zeros: exactly kk_clamp_f32_1. */
#define V_CLAMP(v, lo, hi) _mm256_max_ps ((lo), _mm256_min_ps ((hi), (v)))
#define FUNC kk_dwconv_f16_nhwc_avx2

#include "dwconv-f16-driver.h"
