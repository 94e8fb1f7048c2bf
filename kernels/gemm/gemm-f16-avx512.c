/* gemm-f16-avx512.c — the gemm with FP16 weights on AVX-512F: 16-float
 * vectors, B widened by vcvtph2ps on zmm, the FP32 version's tile heights
 * (12 x 16, 12 x 32, 8 x 48) with FMA, matching the reference to the bit
 * (gemm-f16-driver.h). */
#include "gemm.h"

#include <immintrin.h>

#define VL 16
typedef __m512 kk_vec;
#define VZERO() _mm512_setzero_ps ()
#define VLOAD(p) _mm512_loadu_ps (p)
#define VSTORE(p, v) _mm512_storeu_ps ((p), (v))
#define VBCAST(p) _mm512_set1_ps (*(p))
#define VADD(a, b) _mm512_add_ps ((a), (b))
#define VFMA(acc, a, b) _mm512_fmadd_ps ((a), (b), (acc))
#define VSET1(x) _mm512_set1_ps (x)
/* Opmasked: lanes past n are neither read nor written. */
#define VLOAD_PART(p, n) _mm512_maskz_loadu_ps ((__mmask16) ((1u << (n)) - 1u), (p))
#define VSTORE_PART(p, v, n) _mm512_mask_storeu_ps ((p), (__mmask16) ((1u << (n)) - 1u), (v))
/* vmaxps / vminps keep the second operand unless the first is strictly
 * larger / smaller, as the SSE forms do (see gemm-f16-avx2.c). */
#define VCLAMP_LO(lo, x) _mm512_max_ps ((lo), (x))
#define VCLAMP_HI(hi, x) _mm512_min_ps ((hi), (x))
#define TILE_ROWS_1 12
#define TILE_ROWS_2 12
#define TILE_ROWS_3 8
#define STRIP_ROWS 24
#define F16_ISA avx512

static inline void
widen (const uint16_t *src, float *dst, size_t n)
{
  for (size_t i = 0; i < n; i += VL)
    _mm512_storeu_ps (dst + i, _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) (src + i))));
}

#include "gemm-f16-driver.h"
