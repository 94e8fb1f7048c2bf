/* convert.h — the convert family's per-ISA versions (internal).
 *
 * Half precision: IEEE binary16, round to nearest even, overflow to Inf,
 * subnormal halves produced and read exactly. A NaN stays a NaN and comes out
 * quiet, keeping the top payload bits as F16C does (x86 versions all agree on
 * every bit; the tests only insist on quiet NaN-ness).
 *
 * Quantisation (ONNX QuantizeLinear / DequantizeLinear, per tensor):
 *   q = saturate (round_half_even (x / scale) + zero_point)
 *   x = ((float) q - (float) zero_point) * scale
 * Quantize divides (a reciprocal would round differently), and every version
 * rounds with an explicit round-to-nearest-even, not the FP environment's
 * mode, so all ISAs agree exactly. The SIMD versions saturate by clamping
 * x / scale to [qmin - zero_point, qmax - zero_point] before rounding (the
 * same thing, the bounds being integers) and then narrowing with saturation.
 * That needs bounds that are exact floats, or that round outward, where the
 * saturation catches them: true for |zero_point| <= 2^24. For the absurd
 * zero points beyond (ONNX's lie in the quantised type's range) they call
 * the scalar version. Dequantize subtracts in float: exact for any zero point of the
 * quantised type's range, and the same float operations on every ISA.
 */
#pragma once

#include "kk-internal.h"

#include <math.h>
#include <string.h>

#define KK_CONVERT_DECLARE(isa)                                                                    \
  void kk_f32_to_f16__##isa (const float *src, uint16_t *dst, size_t n);                           \
  void kk_f16_to_f32__##isa (const uint16_t *src, float *dst, size_t n);                           \
  void kk_quantize_f32_s8__##isa (const float *src, int8_t *dst, size_t n, float scale,            \
                                  int32_t zero_point);                                             \
  void kk_quantize_f32_u8__##isa (const float *src, uint8_t *dst, size_t n, float scale,           \
                                  int32_t zero_point);                                             \
  void kk_dequantize_s8_f32__##isa (const int8_t *src, float *dst, size_t n, float scale,          \
                                    int32_t zero_point);                                           \
  void kk_dequantize_u8_f32__##isa (const uint8_t *src, float *dst, size_t n, float scale,         \
                                    int32_t zero_point);

KK_CONVERT_DECLARE (scalar)
KK_CONVERT_DECLARE (sse42)
KK_CONVERT_DECLARE (avx2)
KK_CONVERT_DECLARE (avx512)
KK_CONVERT_DECLARE (neon)

/* Beyond this the clamp bounds of the SIMD quantizers could round inward. */
#define KK_QUANTIZE_MAX_ABS_ZERO_POINT (1 << 24)

static inline bool
kk_quantize_zero_point_ok (int32_t zero_point)
{
  return zero_point >= -KK_QUANTIZE_MAX_ABS_ZERO_POINT && zero_point <= KK_QUANTIZE_MAX_ABS_ZERO_POINT;
}

/* ---- One element each: the scalar reference, and the SIMD versions' tails,
 * so both can never disagree. ---- */

static inline uint16_t
kk_f32_to_f16_one (float f)
{
  uint32_t x;
  memcpy (&x, &f, sizeof x);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;

  if (ax > 0x7f800000u)  /* NaN: quiet it, keep the top payload bits (as F16C does) */
    return (uint16_t) (sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  if (ax >= 0x477ff000u)  /* >= 65520: the tie above 65504 goes to the even side, Inf */
    return (uint16_t) (sign | 0x7c00u);
  if (ax >= 0x38800000u)  /* >= 2^-14: normal half */
    {
      /* Rebias the exponent (127 -> 15) and round the 13 dropped bits to
       * nearest even; a carry out of the mantissa bumps the exponent, which is
       * the right answer (up to 65504 -> 0x7bff, never into Inf here). */
      uint32_t lsb = (ax >> 13) & 1u;
      return (uint16_t) (sign | ((ax - 0x38000000u + 0xfffu + lsb) >> 13));
    }
  if (ax <= 0x33000000u)  /* <= 2^-25: 2^-25 itself is a tie, and 0 is even */
    return (uint16_t) sign;

  /* Subnormal half: the value in units of 2^-24 is m * 2^(e - 126). Rounding
   * up to 0x400 yields the smallest normal half, also right. */
  uint32_t e = ax >> 23;                  /* 102 ..112 */
  uint32_t m = (ax & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126u - e;              /* 14 .. 24 */
  uint32_t q = m >> shift;
  uint32_t rem = m & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u)))
    q++;
  return (uint16_t) (sign | q);
}

static inline float
kk_f16_to_f32_one (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
  uint32_t em = h & 0x7fffu;
  uint32_t bits;

  if (em >= 0x7c00u)  /* Inf, or NaN made quiet as F16C does */
    bits = sign | 0x7f800000u | ((em & 0x3ffu) << 13) | (em > 0x7c00u ? 0x400000u : 0u);
  else if (em >= 0x400u)
    bits = sign | ((em << 13) + 0x38000000u);
  else if (em == 0)
    bits = sign;
  else
    {
      /* Subnormal half m * 2^-24 is a normal float: normalise m. */
      uint32_t m = em, e = 113;
      while ((m & 0x400u) == 0)
        {
          m <<= 1;
          e--;
        }
      bits = sign | (e << 23) | ((m & 0x3ffu) << 13);
    }

  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

/* Round half to even without depending on the FP environment's rounding
 * mode (rintf would) or calling libm. */
static inline float
kk_round_half_even (float v)
{
  float a = fabsf (v);
  if (!(a < 8388608.0f))  /* 2^23 and up are integers already; NaN passes */
    return v;
  int32_t t = (int32_t) a;           /* C truncates: exact */
  float frac = a - (float) t;        /* exact */
  /* bitwise, not ||/&&: random data makes these branches unpredictable */
  t += (frac > 0.5f) | ((frac == 0.5f) & t & 1);
  return copysignf ((float) t, v);
}

static inline int32_t
kk_quantize_one (float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax)
{
  /* double holds r + zero_point exactly wherever it matters (|r| < 2^52) */
  double t = (double) kk_round_half_even (x / scale) + (double) zero_point;
  t = t >= (double) qmin ? t : (double) qmin;  /* NaN goes to qmin, as in the SIMD clamps */
  t = t <= (double) qmax ? t : (double) qmax;
  return (int32_t) t;
}

static inline float
kk_dequantize_one (int32_t q, float scale, int32_t zero_point)
{
  return ((float) q - (float) zero_point) * scale;
}
