/* kestrel-int4-weights.c — float weights to INT4 blocks (see the header).
 *
 * The scheme: with a zero point. Measured on the weights of the layers
 * INT4 plans can make INT4 (every one-group convolution of both BlazeFace
 * models; tests/quant/test-int8-plans -p /int4/weights/front prints it),
 * the relative squared error sum (w' - w)^2 / sum w^2 is, symmetric
 * against with a zero point: front (21 layers) 0.0113 (19.5 dB) against
 * 0.0060 (22.2 dB), back (37 layers) 0.0104 (19.8 dB) against 0.0051
 * (22.9 dB). The zero point halves the error (about 3 dB), and costs
 * nothing in bytes here: the kernels' blocks carry a z byte either way.
 * The test fails if the chosen scheme stops being the better one.
 *
 * A block's multiplier is an integer multiple of the channel's unit, so
 * its scale is quantised too: the unit is the channel's max |w| / 127, and
 * m is searched (with z) for the least squared error of the block, not
 * just rounded up from its range: a slightly clipped largest weight can
 * buy a finer step for the other 31.
 */
#include "config.h"

#include "kestrel-int4-weights.h"

#include <math.h>

#define BLOCK 32

/* Best m, z for one block of x (weights in units): the widened values
 * into out, the squared error returned. */
static double
quantize_block (const float *x, gsize n, KestrelInt4Scheme scheme, gint8 *out)
{
  float lo = 0.0f, hi = 0.0f;
  gint m_first, m_last;
  double best = INFINITY;
  gint best_m = 0, best_z = 0;

  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, x[i]);
      hi = MAX (hi, x[i]);
    }
  if (hi == 0.0f && lo == 0.0f)
    {
      for (gsize i = 0; i < n; i++)
        out[i] = 0;
      return 0.0;
    }
  if (scheme == KESTREL_INT4_SYMMETRIC)
    {
      m_first = 1;
      m_last = 18;
    }
  else
    {
      /* The steps worth trying: around the one whose 15 steps span the
       * range (the whole of [1, 127] changes the error by less than 1 %). */
      double span = (double) (hi - lo) / 15.0;
      m_first = MAX (1, (gint) floor (span * 0.6));
      m_last = MIN (127, (gint) ceil (span * 1.6) + 1);
    }

  for (gint m = m_first; m <= m_last; m++)
    {
      gint reach = 127 / m;  /* |q - z| at most this, so |m (q - z)| <= 127 */
      gint z_first = 8, z_last = 8;
      if (scheme == KESTREL_INT4_ZERO_POINT)
        {
          gint z0 = (gint) lrint (-(double) lo / m);
          z_first = CLAMP (z0 - 1, 0, 15);
          z_last = CLAMP (z0 + 1, 0, 15);
        }
      for (gint z = z_first; z <= z_last; z++)
        {
          gint v_lo = MAX (-z, -reach), v_hi = MIN (15 - z, reach);
          double err = 0.0;
          if (scheme == KESTREL_INT4_SYMMETRIC)
            v_lo = MAX (v_lo, -7);
          for (gsize i = 0; i < n && err < best; i++)
            {
              gint v = CLAMP ((gint) lrint ((double) x[i] / m), v_lo, v_hi);
              double d = (double) x[i] - (double) (m * v);
              err += d * d;
            }
          if (err < best)
            {
              best = err;
              best_m = m;
              best_z = z;
            }
        }
    }

  gint reach = 127 / best_m;
  gint v_lo = MAX (-best_z, -reach), v_hi = MIN (15 - best_z, reach);
  if (scheme == KESTREL_INT4_SYMMETRIC)
    v_lo = MAX (v_lo, -7);
  for (gsize i = 0; i < n; i++)
    out[i] = (gint8) (best_m * CLAMP ((gint) lrint ((double) x[i] / best_m), v_lo, v_hi));
  return best;
}

gboolean
kestrel_int4_quantize (const float *w, gsize n_channels, gsize k, KestrelInt4Scheme scheme, gint8 *w_int,
                       float *unit)
{
  float largest = 0.0f;
  g_autofree float *x = g_new (float, MAX (k, 1));

  for (gsize c = 0; c < n_channels; c++)
    {
      float amax = 0.0f;
      for (gsize i = 0; i < k; i++)
        amax = MAX (amax, fabsf (w[c * k + i]));
      if (!isfinite (amax))
        return FALSE;
      unit[c] = amax / 127.0f;
      largest = MAX (largest, unit[c]);
    }
  for (gsize c = 0; c < n_channels; c++)
    {
      if (!(unit[c] > 0.0f))
        unit[c] = largest > 0.0f ? largest : 1.0f;
      for (gsize i = 0; i < k; i++)
        x[i] = w[c * k + i] / unit[c];
      for (gsize b = 0; b < k; b += BLOCK)
        quantize_block (x + b, MIN (BLOCK, k - b), scheme, w_int + c * k + b);
    }
  return TRUE;
}

/* Index of weight (ci, y, x) of a channel: ONNX order, and the gemm's. */
static gsize
onnx_index (const gint64 shape[4], gint64 ci, gint64 y, gint64 x)
{
  return (gsize) ((ci * shape[2] + y) * shape[3] + x);
}

gboolean
kestrel_int4_quantize_conv (const float *w, const gint64 shape[4], KestrelInt4Scheme scheme, gint8 *w_int,
                            float *unit)
{
  const gint64 cout = shape[0], cin = shape[1], kh = shape[2], kw = shape[3];
  const gsize k = (gsize) (cin * kh * kw);
  g_autofree float *khwc = g_new (float, MAX (cout * k, 1));
  g_autofree gint8 *out = g_new (gint8, MAX (cout * k, 1));

  for (gint64 c = 0; c < cout; c++)
    for (gint64 y = 0; y < kh; y++)
      for (gint64 x = 0; x < kw; x++)
        for (gint64 ci = 0; ci < cin; ci++)
          khwc[c * k + (gsize) ((y * kw + x) * cin + ci)] = w[c * k + onnx_index (shape, ci, y, x)];
  if (!kestrel_int4_quantize (khwc, cout, k, scheme, out, unit))
    return FALSE;
  for (gint64 c = 0; c < cout; c++)
    for (gint64 y = 0; y < kh; y++)
      for (gint64 x = 0; x < kw; x++)
        for (gint64 ci = 0; ci < cin; ci++)
          w_int[c * k + onnx_index (shape, ci, y, x)] = out[c * k + (gsize) ((y * kw + x) * cin + ci)];
  return TRUE;
}

void
kestrel_int4_error (const float *w, gsize n_channels, gsize k, const gint8 *w_int, const float *unit,
                    double *err2, double *sig2)
{
  for (gsize c = 0; c < n_channels; c++)
    for (gsize i = 0; i < k; i++)
      {
        double ref = w[c * k + i], d = (double) unit[c] * w_int[c * k + i] - ref;
        *err2 += d * d;
        *sig2 += ref * ref;
      }
}
