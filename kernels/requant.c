/* requant.c — choosing the integer multipliers and shifts of the INT8
 * kernels from real scales (plan time, not the hot path). The arithmetic
 * they feed is in kestrel-kernels.h ("INT8 inference"). */
#include "kk-internal.h"

#include <math.h>

bool
kk_requant_from_scales (const double *scales, size_t n, int32_t *multiplier, uint32_t *shift)
{
  double largest = 0.0;

  for (size_t i = 0; i < n; i++)
    {
      if (!isfinite (scales[i]) || scales[i] < 0.0)
        return false;
      if (scales[i] > largest)
        largest = scales[i];
    }
  /* multiplier < 2^31 at shift >= KK_REQUANT_MIN_SHIFT needs scale < 2^-2 */
  if (largest >= ldexp (1.0, 31 - KK_REQUANT_MIN_SHIFT))
    return false;

  /* The largest shift (most precision) at which the largest multiplier,
   * rounded, still fits 31 bits. */
  uint32_t s = KK_REQUANT_MAX_SHIFT;
  while (s > KK_REQUANT_MIN_SHIFT && llround (ldexp (largest, (int) s)) > INT32_MAX)
    s--;
  if (llround (ldexp (largest, (int) s)) > INT32_MAX)
    return false;

  for (size_t i = 0; i < n; i++)
    multiplier[i] = (int32_t) llround (ldexp (scales[i], (int) s));
  *shift = s;
  return true;
}

bool
kk_qadd_params_from_scales (double scale_a, double scale_b, double scale_out,
                            kk_qadd_params *params)
{
  if (!isfinite (scale_a) || !isfinite (scale_b) || !isfinite (scale_out) || scale_a < 0.0
      || scale_b < 0.0 || !(scale_out > 0.0))
    return false;

  double ra = scale_a / scale_out, rb = scale_b / scale_out;
  double largest = ra > rb ? ra : rb;
  uint32_t s = 31;

  while (s > 1 && llround (ldexp (largest, (int) s)) > KK_QADD_MAX_MULTIPLIER)
    s--;
  if (llround (ldexp (largest, (int) s)) > KK_QADD_MAX_MULTIPLIER)
    return false;

  params->multiplier_a = (int32_t) llround (ldexp (ra, (int) s));
  params->multiplier_b = (int32_t) llround (ldexp (rb, (int) s));
  params->shift = s;
  return true;
}
