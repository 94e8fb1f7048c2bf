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
