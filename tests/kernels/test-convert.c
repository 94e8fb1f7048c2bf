/* test-convert.c — f32 <-> f16 and int8 (de)quantisation of every ISA table
 * this CPU runs against the scalar reference, and the reference against
 * values worked out independently.
 *
 * All of these are exact: every ISA must match the reference bit for bit,
 * except that a NaN only has to come out as a quiet NaN (payloads may
 * differ). Sizes sweep 0..300 and some large ones, with misaligned source and
 * destination and guard bytes on both sides of the output.
 */
#include "kk-test-util.h"

#include <float.h>
#include <math.h>

/* ---- guarded buffers ---- */

typedef struct {
  KkTestBuf buf;
  guint8 *p;
  size_t bytes;
} Guarded;

static Guarded
guarded_new (size_t bytes, size_t misalign)
{
  Guarded g;
  g.buf = kk_test_buf_new (bytes);
  g.p = kk_test_buf_at (&g.buf, misalign);
  g.bytes = bytes;
  return g;
}

static void
guarded_check (const Guarded *g, const char *what, const kk_kernels *isa, size_t n)
{
  for (size_t i = 1; i <= KK_TEST_GUARD; i++)
    if (g->p[-(ptrdiff_t) i] != KK_TEST_GUARD_BYTE)
      g_error ("%s (%s, n=%zu): wrote %zu bytes before its output", what,
               kk_isa_name (isa->isa), n, i);
  for (size_t i = 0; i < KK_TEST_GUARD; i++)
    if (g->p[g->bytes + i] != KK_TEST_GUARD_BYTE)
      g_error ("%s (%s, n=%zu): wrote %zu bytes past its output", what,
               kk_isa_name (isa->isa), n, i + 1);
}

static void
guarded_free (Guarded *g)
{
  kk_test_buf_free (&g->buf);
}

/* ---- bits ---- */

static guint32
f32_bits (float f)
{
  guint32 u;
  memcpy (&u, &f, sizeof u);
  return u;
}

static float
f32_from_bits (guint32 u)
{
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

static gboolean
f16_is_nan (guint16 h)
{
  return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
}

static gboolean
f16_is_quiet_nan (guint16 h)
{
  return f16_is_nan (h) && (h & 0x200) != 0;
}

static gboolean
f32_is_quiet_nan (float f)
{
  return isnan (f) && (f32_bits (f) & 0x400000) != 0;
}

/* The value of a half, from its definition, in double (exact). */
static double
f16_value (guint16 h)
{
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0x1f)
    return m ? (double) NAN : sign * (double) INFINITY;
  if (e == 0)
    return sign * ldexp (m, -24);
  return sign * ldexp (1024 + m, e - 25);
}

/* ---- the reference itself ---- */

static void
test_f16_reference_known_values (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  static const struct { float f; guint16 h; } to_half[] = {
    { 1.0f, 0x3c00 }, { -2.0f, 0xc000 }, { 0.0f, 0x0000 }, { -0.0f, 0x8000 },
    { 0.5f, 0x3800 }, { 0.1f, 0x2e66 }, { 1.0f / 3.0f, 0x3555 }, { 1000.0f, 0x63d0 },
    { 65504.0f, 0x7bff }, { 65519.99f, 0x7bff }, { 65520.0f, 0x7c00 }, { -65520.0f, 0xfc00 },
    { 65536.0f, 0x7c00 }, { 1e10f, 0x7c00 }, { FLT_MAX, 0x7c00 }, { INFINITY, 0x7c00 },
    { -INFINITY, 0xfc00 },
    /* ties between neighbouring halves go to the even one */
    { 1.0f + 0x1p-11f, 0x3c00 }, { 1.0f + 3 * 0x1p-11f, 0x3c02 }, { 2049.0f, 0x6800 },
    { 2051.0f, 0x6802 }, { 1.0f + 0x1p-11f + 0x1p-23f, 0x3c01 }, { 1.0f + 0x1p-11f - 0x1p-23f, 0x3c00 },
    /* the normal/subnormal boundary and subnormal halves */
    { 0x1p-14f, 0x0400 }, { 0x1.ff8p-15f, 0x03ff }, { 0x1.ffcp-15f, 0x0400 }, { 0x1p-24f, 0x0001 },
    { -0x1p-24f, 0x8001 }, { 0x1p-25f, 0x0000 }, { 0x1.000002p-25f, 0x0001 }, { 0x1.8p-24f, 0x0002 },
    { 0x1.4p-23f, 0x0002 }, { 0x1.cp-23f, 0x0004 }, { 3 * 0x1p-26f, 0x0001 }, { 1e-8f, 0x0000 },
    { -1e-8f, 0x8000 }, { 0x1p-126f, 0x0000 }, { 0x1p-149f, 0x0000 }, { 100 * 0x1p-24f, 0x0064 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (to_half); i++)
    {
      guint16 h = 0xdead;
      ref->f32_to_f16 (&to_half[i].f, &h, 1);
      if (h != to_half[i].h)
        g_error ("scalar f32_to_f16 (%a) = 0x%04x, want 0x%04x", (double) to_half[i].f, h, to_half[i].h);
    }

  static const struct { guint16 h; float f; } to_float[] = {
    { 0x3c00, 1.0f }, { 0xc000, -2.0f }, { 0x0001, 0x1p-24f }, { 0x03ff, 0x1.ff8p-15f },
    { 0x0400, 0x1p-14f }, { 0x7bff, 65504.0f }, { 0x7c00, INFINITY }, { 0xfc00, -INFINITY },
    { 0x3555, 0.333251953125f }, { 0x8001, -0x1p-24f }, { 0x0200, 0x1p-15f },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (to_float); i++)
    {
      float f = 0.0f;
      ref->f16_to_f32 (&to_float[i].h, &f, 1);
      if (f32_bits (f) != f32_bits (to_float[i].f))
        g_error ("scalar f16_to_f32 (0x%04x) = %a, want %a", to_float[i].h, (double) f,
                 (double) to_float[i].f);
    }

  /* signed zero, NaNs, quiet on the way out, both directions */
  guint16 h_in[] = { 0x8000, 0x7e00, 0x7c01, 0xfd55 };
  float f[4];
  ref->f16_to_f32 (h_in, f, 4);
  g_assert_cmphex (f32_bits (f[0]), ==, 0x80000000);
  g_assert_true (f32_is_quiet_nan (f[1]) && f32_is_quiet_nan (f[2]) && f32_is_quiet_nan (f[3]));
  float nans[] = { NAN, -NAN, f32_from_bits (0x7f800001), f32_from_bits (0xffa00000) };
  guint16 h_out[4];
  ref->f32_to_f16 (nans, h_out, 4);
  for (int i = 0; i < 4; i++)
    if (!f16_is_quiet_nan (h_out[i]))
      g_error ("scalar f32_to_f16 (NaN 0x%08x) = 0x%04x, not a quiet NaN", f32_bits (nans[i]), h_out[i]);
}

/* Every half against its value from the definition; and every float that is
 * not a half value against the nearest half, found by brute force. */
static void
test_f16_reference_exhaustive (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (0xF16);

  for (guint32 h = 0; h <= 0xffff; h++)
    {
      guint16 h16 = (guint16) h, back;
      float f;
      ref->f16_to_f32 (&h16, &f, 1);
      double want = f16_value (h16);
      if (isnan (want))
        g_assert_true (f32_is_quiet_nan (f));
      else if ((double) f != want || (signbit (f) != 0) != ((h & 0x8000) != 0))
        g_error ("scalar f16_to_f32 (0x%04x) = %a, the definition says %a", h, (double) f, want);
      ref->f32_to_f16 (&f, &back, 1);
      if (isnan (want) ? !f16_is_quiet_nan (back) : back != h16)
        g_error ("scalar f16 0x%04x -> f32 -> f16 gives 0x%04x", h, back);
    }

  /* Random floats over the whole half range and a bit beyond: the result must
   * be the nearest finite half or Inf, ties to even, by exhaustive search of
   * the neighbours. */
  for (int i = 0; i < 200000; i++)
    {
      float f;
      if (i % 4 == 0)  /* a tie exactly between two halves */
        {
          guint16 lo = (guint16) g_rand_int_range (rand, 0, 0x7bff);
          f = (float) ((f16_value (lo) + f16_value ((guint16) (lo + 1))) / 2.0);
        }
      else
        f = (float) ldexp (g_rand_double_range (rand, 1.0, 2.0), g_rand_int_range (rand, -27, 17));
      if (g_rand_boolean (rand))
        f = -f;

      guint16 h;
      ref->f32_to_f16 (&f, &h, 1);
      double a = fabs ((double) f);
      /* the nearest of all non-negative finite halves, ties to even */
      guint16 best = 0;
      double best_err = INFINITY;
      guint16 start = 0;
      {
        /* halves are monotonic in their bits; binary search for the neighbourhood */
        guint lo = 0, hi = 0x7bff;
        while (lo < hi)
          {
            guint mid = (lo + hi + 1) / 2;
            if (f16_value ((guint16) mid) <= a)
              lo = mid;
            else
              hi = mid - 1;
          }
        start = (guint16) (lo > 0 ? lo - 1 : 0);
      }
      for (guint16 c = start; c <= start + 3 && c <= 0x7bff; c++)
        {
          double err = fabs (f16_value (c) - a);
          if (err < best_err || (err == best_err && (c & 1) == 0))
            {
              best = c;
              best_err = err;
            }
        }
      /* beyond 65504 + half an ulp (65520) the answer is Inf */
      if (a >= 65520.0)
        best = 0x7c00;
      best |= (guint16) (signbit (f) ? 0x8000 : 0);
      if (h != best)
        g_error ("scalar f32_to_f16 (%a) = 0x%04x, nearest half is 0x%04x", (double) f, h, best);
    }
}

static void
test_quantize_reference_known_values (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  static const struct { float x, scale; gint32 zp; gint8 q; } s8[] = {
    { 0.5f, 1.0f, 0, 0 }, { 1.5f, 1.0f, 0, 2 }, { 2.5f, 1.0f, 0, 2 }, { -0.5f, 1.0f, 0, 0 },
    { -1.5f, 1.0f, 0, -2 }, { -2.5f, 1.0f, 0, -2 }, { 0.49999997f, 1.0f, 0, 0 },
    { 126.5f, 1.0f, 0, 126 }, { 127.5f, 1.0f, 0, 127 }, { 128.0f, 1.0f, 0, 127 },
    { -128.5f, 1.0f, 0, -128 }, { -129.0f, 1.0f, 0, -128 }, { 1000.0f, 1.0f, 0, 127 },
    { -1000.0f, 1.0f, 0, -128 }, { 3e9f, 1.0f, 0, 127 }, { -3e9f, 1.0f, 0, -128 },
    { FLT_MAX, 1e-3f, 0, 127 }, { -FLT_MAX, 1e-3f, 0, -128 },
    { 1.25f, 0.5f, 0, 2 }, { 1.75f, 0.5f, 0, 4 }, { 1.25f, 0.5f, 10, 12 }, { 0.0f, 0.5f, -128, -128 },
    { -0.25f, 0.5f, -128, -128 }, { 0.25f, 0.5f, -128, -128 }, { 0.75f, 0.5f, -128, -126 },
    { 127.5f, 0.5f, -128, 127 }, { 1.0f, 0.01f, -128, -28 }, { 0.0f, 1.0f, 127, 127 },
    { -1.0f, 1.0f, 127, 126 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (s8); i++)
    {
      gint8 q = 99;
      ref->quantize_f32_s8 (&s8[i].x, &q, 1, s8[i].scale, s8[i].zp);
      if (q != s8[i].q)
        g_error ("scalar quantize_f32_s8 (%a, scale %g, zp %d) = %d, want %d", (double) s8[i].x,
                 (double) s8[i].scale, s8[i].zp, q, s8[i].q);
    }

  static const struct { float x, scale; gint32 zp; guint8 q; } u8[] = {
    { 0.0f, 1.0f, 128, 128 }, { -128.0f, 1.0f, 128, 0 }, { -129.0f, 1.0f, 128, 0 },
    { 127.0f, 1.0f, 128, 255 }, { 127.5f, 1.0f, 128, 255 }, { 126.5f, 1.0f, 128, 254 },
    { -0.5f, 1.0f, 128, 128 }, { -1.5f, 1.0f, 128, 126 }, { 0.5f, 1.0f, 0, 0 }, { 1.5f, 1.0f, 0, 2 },
    { -1.0f, 1.0f, 0, 0 }, { 255.5f, 1.0f, 0, 255 }, { 254.5f, 1.0f, 0, 254 }, { 1e6f, 1.0f, 0, 255 },
    /* 0.5 / (1/255) is just below 127.5 in float; multiplying by a
     * reciprocal (255) would make it the tie 127.5 and round to 128 */
    { 0.5f, 1.0f / 255.0f, 0, 127 }, { 1.0f, 1.0f / 255.0f, 0, 255 }, { 0.0f, 1.0f, 255, 255 },
    { -3e38f, 1.0f, 255, 0 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (u8); i++)
    {
      guint8 q = 99;
      ref->quantize_f32_u8 (&u8[i].x, &q, 1, u8[i].scale, u8[i].zp);
      if (q != u8[i].q)
        g_error ("scalar quantize_f32_u8 (%a, scale %g, zp %d) = %u, want %u", (double) u8[i].x,
                 (double) u8[i].scale, u8[i].zp, q, u8[i].q);
    }

  /* Outside ONNX's zero-point range the definition still holds. */
  {
    float x[] = { 0.0f, -3e9f, 3e9f };
    gint8 q[3];
    ref->quantize_f32_s8 (x, q, 3, 1.0f, G_MAXINT32);
    g_assert_cmpint (q[0], ==, 127);
    g_assert_cmpint (q[1], ==, -128);
    g_assert_cmpint (q[2], ==, 127);
    ref->quantize_f32_s8 (x, q, 3, 1.0f, G_MININT32);
    g_assert_cmpint (q[0], ==, -128);
    g_assert_cmpint (q[1], ==, -128);
    g_assert_cmpint (q[2], ==, 127);
  }

  static const struct { gint8 q; float scale; gint32 zp; float x; } ds8[] = {
    { -128, 0.5f, -128, 0.0f }, { 127, 0.5f, -128, 127.5f }, { 0, 0.25f, 0, 0.0f },
    { -1, 0.25f, 0, -0.25f }, { 5, 3.0f, 7, -6.0f },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (ds8); i++)
    {
      float x;
      ref->dequantize_s8_f32 (&ds8[i].q, &x, 1, ds8[i].scale, ds8[i].zp);
      g_assert_cmpfloat (x, ==, ds8[i].x);
    }
  static const struct { guint8 q; float scale; gint32 zp; float x; } du8[] = {
    { 255, 2.0f, 128, 254.0f }, { 0, 2.0f, 128, -256.0f }, { 128, 2.0f, 128, 0.0f },
    { 255, 1.0f / 255.0f, 0, 1.0f }, { 0, 1.0f, 0, 0.0f },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (du8); i++)
    {
      float x;
      ref->dequantize_u8_f32 (&du8[i].q, &x, 1, du8[i].scale, du8[i].zp);
      g_assert_cmpfloat (x, ==, du8[i].x);
    }
}

/* round_half_even (x / scale) + zero_point saturated, from the definition in
 * double, for random values: the oracle for the oracle. */
static void
test_quantize_reference_random (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x58);

  for (int i = 0; i < 200000; i++)
    {
      float scale = (float) ldexp (g_rand_double_range (rand, 1.0, 2.0), g_rand_int_range (rand, -10, 3));
      gint32 zp = g_rand_int_range (rand, -128, 128);
      float x = (float) g_rand_double_range (rand, -300.0, 300.0) * scale;
      if (i % 3 == 0)  /* near a tie */
        x = (float) (g_rand_int_range (rand, -200, 200) + 0.5) * scale;
      float v = x / scale;
      double r = nearbyint ((double) v);  /* default mode: to nearest even */
      double want = CLAMP (r + zp, -128.0, 127.0);
      gint8 q;
      ref->quantize_f32_s8 (&x, &q, 1, scale, zp);
      if (q != (gint8) want)
        g_error ("scalar quantize_f32_s8 (%a / %a, zp %d) = %d, want %g", (double) x,
                 (double) scale, zp, q, want);
    }
}

/* ---- every ISA against the reference ---- */

static gboolean
f32_same (float a, float b)
{
  if (isnan (a) || isnan (b))
    return f32_is_quiet_nan (a) && f32_is_quiet_nan (b);
  return f32_bits (a) == f32_bits (b);
}

static gboolean
f16_same (guint16 a, guint16 b)
{
  if (f16_is_nan (a) || f16_is_nan (b))
    return f16_is_quiet_nan (a) && f16_is_quiet_nan (b);
  return a == b;
}

static void
check_f16_exhaustive (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  const size_t n = 65536;
  guint16 *h = g_new (guint16, n), *back_ref = g_new (guint16, n), *back = g_new (guint16, n);
  float *f_ref = g_new (float, n), *f = g_new (float, n);

  for (size_t i = 0; i < n; i++)
    h[i] = (guint16) i;
  ref->f16_to_f32 (h, f_ref, n);
  isa->f16_to_f32 (h, f, n);
  for (size_t i = 0; i < n; i++)
    if (!f32_same (f[i], f_ref[i]))
      g_error ("f16_to_f32: %s (0x%04zx) = %a (0x%08x), scalar says %a", kk_isa_name (isa->isa), i,
               (double) f[i], f32_bits (f[i]), (double) f_ref[i]);

  ref->f32_to_f16 (f_ref, back_ref, n);
  isa->f32_to_f16 (f_ref, back, n);
  for (size_t i = 0; i < n; i++)
    {
      if (!f16_same (back[i], back_ref[i]))
        g_error ("f32_to_f16: %s (%a) = 0x%04x, scalar says 0x%04x", kk_isa_name (isa->isa),
                 (double) f_ref[i], back[i], back_ref[i]);
      if (!f16_is_nan (h[i]) && back[i] != h[i])
        g_error ("%s: half 0x%04zx does not survive the round trip (0x%04x)", kk_isa_name (isa->isa),
                 i, back[i]);
    }
  /* NaN payloads may differ by contract, but note it if they do */
  if (memcmp (back, back_ref, n * sizeof *back) != 0)
    g_test_message ("%s: some NaN payloads differ from the scalar version", kk_isa_name (isa->isa));

  g_free (h);
  g_free (back_ref);
  g_free (back);
  g_free (f_ref);
  g_free (f);
}

static void
test_f16_exhaustive (void)
{
  kk_test_each_isa (check_f16_exhaustive, NULL);
}

/* Floats chosen where f32 -> f16 can go wrong. */
static float
interesting_float (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 9))
    {
    case 0:  /* any bit pattern: NaNs, Inf, f32 subnormals, huge, tiny */
      return f32_from_bits (g_rand_int (rand));
    case 1:  /* a tie between two finite halves (normal or subnormal) */
      {
        guint16 lo = (guint16) g_rand_int_range (rand, 0, 0x7bff);
        float t = (float) ((f16_value (lo) + f16_value ((guint16) (lo + 1))) / 2.0);
        return g_rand_boolean (rand) ? t : -t;
      }
    case 2:  /* one float ulp either side of a tie */
      {
        guint16 lo = (guint16) g_rand_int_range (rand, 0, 0x7bff);
        float t = (float) ((f16_value (lo) + f16_value ((guint16) (lo + 1))) / 2.0);
        return f32_from_bits (f32_bits (t) + (g_rand_boolean (rand) ? 1u : (guint32) -1));
      }
    case 3:  /* around overflow: 65504 .. 65536 and a bit */
      return (float) g_rand_double_range (rand, 65400.0, 65600.0) * (g_rand_boolean (rand) ? 1.0f : -1.0f);
    case 4:
      return g_rand_boolean (rand) ? 65520.0f : nextafterf (65520.0f, 0.0f);
    case 5:  /* the subnormal half range and just below */
      return (float) ldexp (g_rand_double_range (rand, 1.0, 2.0), g_rand_int_range (rand, -27, -14));
    case 6:  /* exactly a half value */
      {
        guint16 h = (guint16) g_rand_int_range (rand, 0, 0x10000);
        double v = f16_value (h);
        return isnan (v) ? 0.0f : (float) v;
      }
    default:  /* ordinary activations */
      return (float) g_rand_double_range (rand, -100.0, 100.0);
    }
}

static void
check_f16_sweep (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0xF160 + isa->isa);
  g_autoptr (GArray) sizes = kk_test_sizes ();

  for (guint s = 0; s < sizes->len; s++)
    {
      size_t n = g_array_index (sizes, size_t, s);
      size_t f_off = 4 * (s % 16), h_off = 2 * ((s * 5 + 1) % 32);

      /* f32 -> f16 */
      {
        Guarded in = guarded_new (n * 4, f_off), out = guarded_new (n * 2, h_off);
        float *src = (float *) (void *) in.p;
        guint16 *dst = (guint16 *) (void *) out.p, *want = g_new (guint16, n + 1);

        for (size_t i = 0; i < n; i++)
          src[i] = interesting_float (rand);
        ref->f32_to_f16 (src, want, n);
        isa->f32_to_f16 (src, dst, n);
        for (size_t i = 0; i < n; i++)
          if (!f16_same (dst[i], want[i]))
            g_error ("f32_to_f16: %s, n=%zu, src+%zu dst+%zu: [%zu] %a (0x%08x) gives 0x%04x, "
                     "scalar says 0x%04x", kk_isa_name (isa->isa), n, f_off, h_off, i,
                     (double) src[i], f32_bits (src[i]), dst[i], want[i]);
        guarded_check (&out, "f32_to_f16", isa, n);
        g_free (want);
        guarded_free (&in);
        guarded_free (&out);
      }

      /* f16 -> f32 */
      {
        Guarded in = guarded_new (n * 2, h_off), out = guarded_new (n * 4, f_off);
        guint16 *src = (guint16 *) (void *) in.p;
        float *dst = (float *) (void *) out.p, *want = g_new (float, n + 1);

        kk_test_fill_random (rand, src, n * 2);
        ref->f16_to_f32 (src, want, n);
        isa->f16_to_f32 (src, dst, n);
        for (size_t i = 0; i < n; i++)
          if (!f32_same (dst[i], want[i]))
            g_error ("f16_to_f32: %s, n=%zu, src+%zu dst+%zu: [%zu] 0x%04x gives %a, scalar says %a",
                     kk_isa_name (isa->isa), n, h_off, f_off, i, src[i], (double) dst[i],
                     (double) want[i]);
        guarded_check (&out, "f16_to_f32", isa, n);
        g_free (want);
        guarded_free (&in);
        guarded_free (&out);
      }
    }
}

static void
test_f16_sweep (void)
{
  kk_test_each_isa (check_f16_sweep, NULL);
}

/* (scale, s8 zero point, u8 zero point); large sizes use the first three. */
static const struct { float scale; gint32 zp_s8, zp_u8; } qparams[] = {
  { 1.0f, 0, 128 }, { 0.5f, -128, 0 }, { 1.0f / 255.0f, 0, 0 }, { 0.1f, 3, 255 },
  { 0.0123f, -128, 128 }, { 3.7f, 127, 17 }, { 1e-3f, -5, 200 }, { 0.25f, 0, 128 },
  { 64.0f, 1, 1 },
};

/* Out-of-range zero points take the SIMD versions' fallback path. */
static const gint32 odd_zero_points[] = {
  (1 << 24), -(1 << 24), (1 << 24) + 1, -(1 << 25), G_MAXINT32, G_MININT32, 1000,
};

static void
fill_quantize_input (GRand *rand, float *x, size_t n, float scale)
{
  for (size_t i = 0; i < n; i++)
    {
      switch (g_rand_int_range (rand, 0, 6))
        {
        case 0:  /* exactly k + 0.5 steps: ties whenever the division is exact */
          x[i] = ((float) g_rand_int_range (rand, -300, 300) + 0.5f) * scale;
          break;
        case 1:  /* far beyond saturation, up to the float limit */
          x[i] = (float) ldexp (g_rand_double_range (rand, 1.0, 2.0), g_rand_int_range (rand, 8, 128))
                 * (g_rand_boolean (rand) ? 1.0f : -1.0f);
          break;
        case 2:  /* near the saturation edges */
          x[i] = (float) g_rand_double_range (rand, -2.0, 2.0) * scale
                 + (float) (g_rand_boolean (rand) ? 127.5 : -128.5) * scale;
          break;
        case 3:
          x[i] = 0.0f;
          break;
        default:
          x[i] = (float) g_rand_double_range (rand, -300.0, 300.0) * scale;
          break;
        }
    }
}

static void
compare_bytes (const char *what, const kk_kernels *isa, size_t n, size_t in_off, size_t out_off,
               float scale, gint32 zp, const float *x, const guint8 *want, const guint8 *got,
               gboolean is_signed)
{
  if (memcmp (want, got, n) == 0)
    return;
  for (size_t i = 0; i < n; i++)
    if (want[i] != got[i])
      g_error ("%s: %s, n=%zu, src+%zu dst+%zu, scale %a zp %d: [%zu] %a gives %d, scalar says %d",
               what, kk_isa_name (isa->isa), n, in_off, out_off, (double) scale, zp, i, (double) x[i],
               is_signed ? (int) (gint8) got[i] : (int) got[i],
               is_signed ? (int) (gint8) want[i] : (int) want[i]);
}

static void
run_quantize (const kk_kernels *ref, const kk_kernels *isa, GRand *rand, size_t n, size_t in_off,
              size_t out_off, float scale, gint32 zp_s8, gint32 zp_u8)
{
  Guarded in = guarded_new (n * 4, in_off);
  Guarded out_s8 = guarded_new (n, out_off), out_u8 = guarded_new (n, (out_off * 3 + 1) % 64);
  float *x = (float *) (void *) in.p;
  guint8 *want = g_malloc (n + 1);

  fill_quantize_input (rand, x, n, scale);

  ref->quantize_f32_s8 (x, (gint8 *) want, n, scale, zp_s8);
  isa->quantize_f32_s8 (x, (gint8 *) out_s8.p, n, scale, zp_s8);
  compare_bytes ("quantize_f32_s8", isa, n, in_off, out_off, scale, zp_s8, x, want, out_s8.p, TRUE);
  guarded_check (&out_s8, "quantize_f32_s8", isa, n);

  ref->quantize_f32_u8 (x, want, n, scale, zp_u8);
  isa->quantize_f32_u8 (x, out_u8.p, n, scale, zp_u8);
  compare_bytes ("quantize_f32_u8", isa, n, in_off, (out_off * 3 + 1) % 64, scale, zp_u8, x, want,
                 out_u8.p, FALSE);
  guarded_check (&out_u8, "quantize_f32_u8", isa, n);

  g_free (want);
  guarded_free (&in);
  guarded_free (&out_s8);
  guarded_free (&out_u8);
}

static void
check_quantize (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x0A5 + isa->isa);
  g_autoptr (GArray) sizes = kk_test_sizes ();

  for (guint s = 0; s < sizes->len; s++)
    {
      size_t n = g_array_index (sizes, size_t, s);
      size_t in_off = 4 * (s % 16), out_off = (s * 7) % 64;
      gboolean large = n > 4096;
      size_t count = large ? 3 : G_N_ELEMENTS (qparams);

      for (size_t p = 0; p < count; p++)
        run_quantize (ref, isa, rand, n, in_off, out_off, qparams[p].scale, qparams[p].zp_s8,
                      qparams[p].zp_u8);
      if (!large && s % 10 == 0)
        for (size_t z = 0; z < G_N_ELEMENTS (odd_zero_points); z++)
          run_quantize (ref, isa, rand, n, in_off, out_off, 0.5f, odd_zero_points[z],
                        odd_zero_points[z]);
    }
}

static void
test_quantize (void)
{
  kk_test_each_isa (check_quantize, NULL);
}

static void
run_dequantize (const kk_kernels *ref, const kk_kernels *isa, GRand *rand, size_t n, size_t in_off,
                size_t out_off, float scale, gint32 zp_s8, gint32 zp_u8)
{
  Guarded in = guarded_new (n, in_off), out = guarded_new (n * 4, out_off);
  float *y = (float *) (void *) out.p, *want = g_new (float, n + 1);

  /* every byte value appears when n >= 256 */
  for (size_t i = 0; i < n; i++)
    in.p[i] = (guint8) (i < 256 ? (gint32) i : g_rand_int_range (rand, 0, 256));

  ref->dequantize_s8_f32 ((const gint8 *) in.p, want, n, scale, zp_s8);
  isa->dequantize_s8_f32 ((const gint8 *) in.p, y, n, scale, zp_s8);
  for (size_t i = 0; i < n; i++)
    if (f32_bits (y[i]) != f32_bits (want[i]))
      g_error ("dequantize_s8_f32: %s, n=%zu, src+%zu dst+%zu, scale %a zp %d: [%zu] %d gives %a, "
               "scalar says %a", kk_isa_name (isa->isa), n, in_off, out_off, (double) scale, zp_s8,
               i, (gint8) in.p[i], (double) y[i], (double) want[i]);
  guarded_check (&out, "dequantize_s8_f32", isa, n);

  memset (out.p, KK_TEST_GUARD_BYTE, n * 4);
  ref->dequantize_u8_f32 (in.p, want, n, scale, zp_u8);
  isa->dequantize_u8_f32 (in.p, y, n, scale, zp_u8);
  for (size_t i = 0; i < n; i++)
    if (f32_bits (y[i]) != f32_bits (want[i]))
      g_error ("dequantize_u8_f32: %s, n=%zu, src+%zu dst+%zu, scale %a zp %d: [%zu] %u gives %a, "
               "scalar says %a", kk_isa_name (isa->isa), n, in_off, out_off, (double) scale, zp_u8,
               i, in.p[i], (double) y[i], (double) want[i]);
  guarded_check (&out, "dequantize_u8_f32", isa, n);

  g_free (want);
  guarded_free (&in);
  guarded_free (&out);
}

static void
check_dequantize (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0xDE0 + isa->isa);
  g_autoptr (GArray) sizes = kk_test_sizes ();

  for (guint s = 0; s < sizes->len; s++)
    {
      size_t n = g_array_index (sizes, size_t, s);
      size_t in_off = (s * 11) % 64, out_off = 4 * (s % 16);
      gboolean large = n > 4096;
      size_t count = large ? 3 : G_N_ELEMENTS (qparams);

      for (size_t p = 0; p < count; p++)
        run_dequantize (ref, isa, rand, n, in_off, out_off, qparams[p].scale, qparams[p].zp_s8,
                        qparams[p].zp_u8);
      if (!large && s % 10 == 0)
        for (size_t z = 0; z < G_N_ELEMENTS (odd_zero_points); z++)
          run_dequantize (ref, isa, rand, n, in_off, out_off, 0.5f, odd_zero_points[z],
                          odd_zero_points[z]);
    }
}

static void
test_dequantize (void)
{
  kk_test_each_isa (check_dequantize, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kernels/convert/reference/f16-known-values", test_f16_reference_known_values);
  g_test_add_func ("/kernels/convert/reference/f16-exhaustive", test_f16_reference_exhaustive);
  g_test_add_func ("/kernels/convert/reference/quantize-known-values", test_quantize_reference_known_values);
  g_test_add_func ("/kernels/convert/reference/quantize-random", test_quantize_reference_random);
  g_test_add_func ("/kernels/convert/f16-exhaustive", test_f16_exhaustive);
  g_test_add_func ("/kernels/convert/f16-sweep", test_f16_sweep);
  g_test_add_func ("/kernels/convert/quantize", test_quantize);
  g_test_add_func ("/kernels/convert/dequantize", test_dequantize);

  return g_test_run ();
}
