/* gemm-f16-avx2.c — the gemm with FP16 weights on AVX2: F16C widens B a
 * tile at a time (vcvtph2ps), then 8-float vectors in the FP32 version's
 * tile shapes (12 x 8, 6 x 16, 4 x 24; 12 accumulators, FMA), matching the
 * reference to the bit. The driver and the reasoning are in
 * gemm-f16-driver.h. */
#include "gemm.h"

#include <immintrin.h>

#define VL 8
typedef __m256 kk_vec;
#define VZERO() _mm256_setzero_ps ()
#define VLOAD(p) _mm256_loadu_ps (p)
#define VSTORE(p, v) _mm256_storeu_ps ((p), (v))
#define VBCAST(p) _mm256_broadcast_ss (p)
#define VADD(a, b) _mm256_add_ps ((a), (b))
#define VFMA(acc, a, b) _mm256_fmadd_ps ((a), (b), (acc))
#define VSET1(x) _mm256_set1_ps (x)
/* maxps / minps return their second operand unless the first is strictly
 * larger / smaller: lo > x ? lo : x is the reference's x < lo ? lo : x. */
#define VCLAMP_LO(lo, x) _mm256_max_ps ((lo), (x))
#define VCLAMP_HI(hi, x) _mm256_min_ps ((hi), (x))
#define TILE_ROWS_1 12
#define TILE_ROWS_2 6
#define TILE_ROWS_3 4
#define STRIP_ROWS 12
#define F16_ISA avx2

static inline void
widen (const uint16_t *src, float *dst, size_t n)
{
  for (size_t i = 0; i < n; i += VL)
    _mm256_storeu_ps (dst + i, _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + i))));
}

#include "gemm-f16-driver.h"
