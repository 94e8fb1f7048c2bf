/* kk-requant.h — the INT8 rounding and requantisation rules, one element at
 * a time (internal). The scalar kernels are these loops; every SIMD version
 * uses them for its tails, so the two can never disagree. The arithmetic is
 * described in kestrel-kernels.h ("INT8 inference").
 *
 * Right shifts of negative integers are arithmetic (floor) with GCC and
 * Clang, which is what every formula below relies on.
 */
#pragma once

#include "kk-internal.h"

static inline uint8_t
kk_clamp_u8 (int64_t v, uint8_t lo, uint8_t hi)
{
  if (v < lo)
    return lo;
  if (v > hi)
    return hi;
  return (uint8_t) v;
}

/* zero_point + floor ((acc * multiplier + 2^(shift - 1)) / 2^shift), clamped.
 * The product needs 62 bits; the SIMD versions take its high 32 bits and
 * shift them by shift - 32 (exactly the same value, shift being > 32). */
static inline uint8_t
kk_requant_one (int32_t acc, int32_t multiplier, uint32_t shift, int32_t zero_point,
                uint8_t lo, uint8_t hi)
{
  int64_t p = (int64_t) acc * multiplier;
  int64_t r = (p + ((int64_t) 1 << (shift - 1))) >> shift;
  return kk_clamp_u8 (r + zero_point, lo, hi);
}

/* The requantising add of one element; b_term is (b - zero_point_b) *
 * multiplier_b, 0 for a rescale. Every term fits s32 (see
 * KK_QADD_MAX_MULTIPLIER). */
static inline uint8_t
kk_qadd_one (int32_t a, int32_t b_term, const kk_qadd_params *p)
{
  int32_t t = (a - p->zero_point_a) * p->multiplier_a + b_term + (int32_t) (1u << (p->shift - 1));
  return kk_clamp_u8 ((int64_t) (t >> p->shift) + p->zero_point, p->lo, p->hi);
}
