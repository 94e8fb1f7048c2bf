/* ops-quant-int4.c — INT4 weights back from their widened s8 form (see
 * kestrel_quant_int4_split in ops-quant.h).
 *
 * The INT4 pass keeps a layer's weights in the graph as the widened values
 * m * (q - z), s8 in the ONNX layout, so that everything else of the INT8
 * path (bias, scales, the layout change, the reference graph) is shared;
 * the convolution splits them when it packs. Any split that widens to the
 * same values gives the same result (the kernels define it on the widened
 * weights), so the largest multiplier, the blocks' common divisor, is
 * taken: whatever m the quantiser chose divides it.
 */
#include "config.h"

#include "ops-quant.h"

static gint
gcd (gint a, gint b)
{
  while (b != 0)
    {
      gint t = a % b;
      a = b;
      b = t;
    }
  return a;
}

gboolean
kestrel_quant_int4_split (const gint8 *w, gsize k, gsize n, guint8 *q, guint8 *m, guint8 *z)
{
  const gsize kblocks = (k + KK_QGEMM_S4_BLOCK - 1) / KK_QGEMM_S4_BLOCK;

  for (gsize j = 0; j < n; j++)
    for (gsize b = 0; b < kblocks; b++)
      {
        const gint8 *v = w + j * k + b * KK_QGEMM_S4_BLOCK;
        const gsize len = MIN (KK_QGEMM_S4_BLOCK, k - b * KK_QGEMM_S4_BLOCK);
        gint g = 0, lo = 0, hi = 0;

        for (gsize i = 0; i < len; i++)
          g = gcd (ABS ((gint) v[i]), g);
        for (gsize i = 0; i < len && g > 0; i++)
          {
            lo = MIN (lo, v[i] / g);
            hi = MAX (hi, v[i] / g);
          }
        /* z = -lo puts the smallest value at nibble 0 (lo <= 0 <= hi). */
        if (hi - lo > 15)
          return FALSE;
        m[j * kblocks + b] = (guint8) g;
        z[j * kblocks + b] = (guint8) -lo;
        for (gsize i = 0; i < len; i++)
          q[j * k + b * KK_QGEMM_S4_BLOCK + i] = (guint8) (g > 0 ? v[i] / g - lo : 0);
      }
  return TRUE;
}
