/* dwconv-f16-avx512.c — depthwise convolution with FP16 weights, 16
 * channels per zmm: halves widened by vcvtph2ps, vfmadd
 * (dwconv-f16-driver.h). */
#include <immintrin.h>

typedef __m512 V;
#define F 16
#define V_ZERO() _mm512_setzero_ps ()
#define V_SET1(f) _mm512_set1_ps (f)
#define V_LOAD(p) _mm512_loadu_ps (p)
#define V_LOAD_H(p) _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) (p)))
#define V_STORE(p, v) _mm512_storeu_ps ((p), (v))
#define V_FMA(a, x, w) _mm512_fmadd_ps ((x), (w), (a))
/* As in dwconv-f16-avx2.c: the operand order gives kk_clamp_f32_1. */
#define V_CLAMP(v, lo, hi) _mm512_max_ps ((lo), _mm512_min_ps ((hi), (v)))
#define FUNC kk_dwconv_f16_nhwc_avx512

#include "dwconv-f16-driver.h"
