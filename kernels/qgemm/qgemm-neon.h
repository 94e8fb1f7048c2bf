/* qgemm-neon.h — what both NEON qgemm versions (plain and dotprod) share
 * besides qgemm-driver.h: partial vectors go through a small copy, so their
 * tail is a column count; and the requantisation: smull to 64 bits and
 * srshl by -shift, which is floor ((p + 2^(shift - 1)) / 2^shift), the
 * reference's rounding, then the zero point and the clamp. Included by
 * each; compiled with its flags. */
#pragma once

typedef size_t qgemm_tail;     /* the columns of a partial vector */

static inline qgemm_tail
qgemm_tail_make (size_t cols)
{
  return cols;
}

typedef struct {
  int64x2_t neg_shift;
  int32x4_t zp, lo, hi;
} qgemm_rq_consts;

static inline void
qgemm_rq_setup (qgemm_rq_consts *k, const kk_requant *rq)
{
  k->neg_shift = vdupq_n_s64 (-(int64_t) rq->shift);
  k->zp = vdupq_n_s32 (rq->zero_point);
  k->lo = vdupq_n_s32 (rq->lo);
  k->hi = vdupq_n_s32 (rq->hi);
}

/* Requantises 4 lanes to 4 clamped values still in s32. */
static inline int32x4_t
requant4 (int32x4_t acc, int32x4_t m, const qgemm_rq_consts *k)
{
  int64x2_t p0 = vrshlq_s64 (vmull_s32 (vget_low_s32 (acc), vget_low_s32 (m)), k->neg_shift);
  int64x2_t p1 = vrshlq_s64 (vmull_high_s32 (acc, m), k->neg_shift);
  int32x4_t x = vcombine_s32 (vmovn_s64 (p0), vmovn_s64 (p1));
  return vminq_s32 (vmaxq_s32 (vaddq_s32 (x, k->zp), k->lo), k->hi);
}
