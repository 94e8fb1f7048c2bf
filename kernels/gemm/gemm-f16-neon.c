/* gemm-f16-neon.c — the gemm with FP16 weights on NEON: B widened by FCVTL
 * (vcvt_f32_f16) a tile at a time, 4-float vectors, FMLA (fused, as the
 * reference's fmaf), matching the reference to the bit
 * (gemm-f16-driver.h). */
#include "gemm.h"

#include <arm_neon.h>

#define VL 4
typedef float32x4_t kk_vec;
#define VZERO() vdupq_n_f32 (0.0f)
#define VLOAD(p) vld1q_f32 (p)
#define VSTORE(p, v) vst1q_f32 ((p), (v))
#define VBCAST(p) vld1q_dup_f32 (p)
#define VADD(a, b) vaddq_f32 ((a), (b))
#define VFMA(acc, a, b) vfmaq_f32 ((acc), (a), (b))
#define VSET1(x) vdupq_n_f32 (x)
/* Compare and select, not FMAX/FMIN: a NaN stays NaN and -0 stays -0
 * against a 0 bound, as in the reference. */
#define VCLAMP_LO(lo, x) vbslq_f32 (vcltq_f32 ((x), (lo)), (lo), (x))
#define VCLAMP_HI(hi, x) vbslq_f32 (vcgtq_f32 ((x), (hi)), (hi), (x))
#define TILE_ROWS_1 8
#define TILE_ROWS_2 6
#define TILE_ROWS_3 4
#define STRIP_ROWS 24
#define F16_ISA neon

static inline void
widen (const uint16_t *src, float *dst, size_t n)
{
  for (size_t i = 0; i < n; i += VL)
    vst1q_f32 (dst + i, vcvt_f32_f16 (vreinterpret_f16_u16 (vld1_u16 (src + i))));
}

#include "gemm-f16-driver.h"
