/* dwconv-f16-neon.c — depthwise convolution with FP16 weights, 4 channels
 * per q register: halves widened by FCVTL, FMLA (dwconv-f16-driver.h). The
 * clamp is compare + bit-select, as in dwconv-neon.c: FMIN/FMAX's NaN rules
 * are not the reference's. */
#include <arm_neon.h>

typedef float32x4_t V;
#define F 4
#define V_ZERO() vdupq_n_f32 (0.0f)
#define V_SET1(f) vdupq_n_f32 (f)
#define V_LOAD(p) vld1q_f32 (p)
#define V_LOAD_H(p) vcvt_f32_f16 (vreinterpret_f16_u16 (vld1_u16 (p)))
#define V_STORE(p, v) vst1q_f32 ((p), (v))
#define V_FMA(a, x, w) vfmaq_f32 ((a), (x), (w))

static inline float32x4_t
neon_clamp (float32x4_t v, float32x4_t lo, float32x4_t hi)
{
  v = vbslq_f32 (vcltq_f32 (hi, v), hi, v);
  return vbslq_f32 (vcgtq_f32 (lo, v), lo, v);
}
#define V_CLAMP(v, lo, hi) neon_clamp ((v), (lo), (hi))
#define FUNC kk_dwconv_f16_nhwc_neon

#include "dwconv-f16-driver.h"
