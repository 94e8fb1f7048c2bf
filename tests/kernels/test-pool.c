/* test-pool.c — max pooling (and, at the end, global average pooling).
 *
 * 1. The scalar reference against a direct NCHW-order max written here from
 *    the ONNX definition, with explicit bounds checks per tap: padding never
 *    wins, NaN taps are ignored (pool.h), an all-padding window gives
 *    -INFINITY.
 * 2. Every other ISA against scalar, bit for bit: max is exact and every
 *    version folds the taps in the same order with the same rule, so even
 *    signed zeros must agree.
 * 3. Row ranges: any split into calls equals one call, a call writes its
 *    rows only, nothing is written before or after the output.
 * Inputs include NaN, both infinities and both zeros, and some cases are
 * all negative so that a padding value of 0 would show.
 */
#include <math.h>

#include "kk-test-util.h"

typedef struct {
  size_t batch, in_h, in_w, channels;
  size_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  gboolean negative;  /* all inputs < 0 */
} Case;

static gboolean
out_size (size_t in, size_t pad0, size_t pad1, size_t k, size_t s, size_t d, size_t *out)
{
  const size_t extent = d * (k - 1) + 1;
  if (in + pad0 + pad1 < extent)
    return FALSE;
  *out = (in + pad0 + pad1 - extent) / s + 1;
  return TRUE;
}

static char *
case_name (const Case *c)
{
  return g_strdup_printf ("batch %zu in %zux%zux%zu window %zux%zu stride %zux%zu dilation %zux%zu "
                          "pads t%zu l%zu b%zu r%zu%s",
                          c->batch, c->in_h, c->in_w, c->channels, c->kernel_h, c->kernel_w,
                          c->stride_h, c->stride_w, c->dilation_h, c->dilation_w, c->pad_top,
                          c->pad_left, c->pad_bottom, c->pad_right, c->negative ? " negative" : "");
}

static guint32
bits (float f)
{
  guint32 u;
  memcpy (&u, &f, sizeof u);
  return u;
}

/* The expected output, NHWC so it lines up with the kernels'. */
static void
reference (const Case *c, size_t out_h, size_t out_w, const float *in, float *ref)
{
  const size_t C = c->channels, H = c->in_h, W = c->in_w;

  for (size_t n = 0; n < c->batch; n++)
    for (size_t ch = 0; ch < C; ch++)
      for (size_t oy = 0; oy < out_h; oy++)
        for (size_t ox = 0; ox < out_w; ox++)
          {
            gboolean any = FALSE;
            float m = 0.0f;

            for (size_t ky = 0; ky < c->kernel_h; ky++)
              for (size_t kx = 0; kx < c->kernel_w; kx++)
                {
                  const long iy = (long) (oy * c->stride_h + ky * c->dilation_h) - (long) c->pad_top;
                  const long ix = (long) (ox * c->stride_w + kx * c->dilation_w) - (long) c->pad_left;
                  if (iy < 0 || iy >= (long) H || ix < 0 || ix >= (long) W)
                    continue;
                  const float v = in[((n * H + (size_t) iy) * W + (size_t) ix) * C + ch];
                  if (isnan (v))
                    continue;
                  if (!any || v > m)
                    m = v;
                  any = TRUE;
                }
            ref[((n * out_h + oy) * out_w + ox) * C + ch] = any ? m : -INFINITY;
          }
}

static void
assert_untouched (const kk_kernels *k, const guint8 *p, size_t bytes, const char *what, const char *name)
{
  for (size_t i = 0; i < bytes; i++)
    if (p[i] != KK_TEST_GUARD_BYTE)
      g_error ("%s: byte %zu of %s was written (%s)", kk_isa_name (k->isa), i, what, name);
}

/* One table on the case: one call for everything (returned in got), then
 * guards, a random split and one partial range. */
static void
run_table (const kk_kernels *k, const kk_pool_params *p, const float *in, float *got,
           GRand *rand, const char *name)
{
  const size_t rows = p->batch * p->out_h;
  const size_t row_floats = p->out_w * p->channels;
  const size_t bytes = rows * row_floats * sizeof (float);
  KkTestBuf b = kk_test_buf_new (bytes);
  float *out = kk_test_buf_at (&b, 4 * g_rand_int_range (rand, 0, 16));

  kk_test_buf_reset (&b);
  k->maxpool_f32_nhwc (p, in, out, 0, rows);
  kk_test_assert_untouched_after ((guint8 *) out + bytes, KK_TEST_GUARD);
  assert_untouched (k, (guint8 *) out - KK_TEST_GUARD, KK_TEST_GUARD, "the guard before the output", name);
  memcpy (got, out, bytes);

  kk_test_buf_reset (&b);
  for (size_t r0 = 0; r0 < rows;)
    {
      const size_t r1 = MIN (rows, r0 + (size_t) g_rand_int_range (rand, 0, 4));
      k->maxpool_f32_nhwc (p, in, out, r0, r1);
      r0 = r1;
    }
  if (memcmp (out, got, bytes) != 0)
    g_error ("%s: splitting the rows changed the result (%s)", kk_isa_name (k->isa), name);
  kk_test_assert_untouched_after ((guint8 *) out + bytes, KK_TEST_GUARD);

  if (rows > 0)
    {
      const size_t r0 = (size_t) g_rand_int_range (rand, 0, (gint32) rows);
      const size_t r1 = r0 + (size_t) g_rand_int_range (rand, 0, (gint32) (rows - r0 + 1));
      const size_t end = r1 == rows && g_rand_boolean (rand) ? rows + 5 : r1;

      kk_test_buf_reset (&b);
      k->maxpool_f32_nhwc (p, in, out, r0, end);
      assert_untouched (k, (guint8 *) out, r0 * row_floats * sizeof (float), "rows before the range", name);
      if (memcmp (out + r0 * row_floats, got + r0 * row_floats, (r1 - r0) * row_floats * sizeof (float)) != 0)
        g_error ("%s: rows [%zu, %zu) alone differ from the full call (%s)", kk_isa_name (k->isa), r0, r1, name);
      assert_untouched (k, (guint8 *) (out + r1 * row_floats),
                        (rows - r1) * row_floats * sizeof (float) + KK_TEST_GUARD, "rows after the range", name);
    }
  kk_test_buf_free (&b);
}

static float
random_value (GRand *rand, gboolean negative)
{
  const int kind = g_rand_int_range (rand, 0, 50);

  if (kind == 0)
    return NAN;
  if (kind == 1)
    return -INFINITY;
  if (negative)
    return (float) g_rand_double_range (rand, -2.0, -1.0);
  if (kind == 2)
    return INFINITY;
  if (kind < 6)
    return kind % 2 ? 0.0f : -0.0f;
  return (float) g_rand_double_range (rand, -1.0, 1.0);
}

static size_t run_count;

static void
run_case (const Case *c, GRand *rand)
{
  size_t out_h = 0, out_w = 0;
  g_assert_true (out_size (c->in_h, c->pad_top, c->pad_bottom, c->kernel_h, c->stride_h, c->dilation_h, &out_h));
  g_assert_true (out_size (c->in_w, c->pad_left, c->pad_right, c->kernel_w, c->stride_w, c->dilation_w, &out_w));

  const size_t C = c->channels;
  const size_t in_n = c->batch * c->in_h * c->in_w * C;
  const size_t out_n = c->batch * out_h * out_w * C;
  g_autofree char *name = case_name (c);
  KkTestBuf bin = kk_test_buf_new (in_n * sizeof (float));
  float *in = kk_test_buf_at (&bin, 4 * g_rand_int_range (rand, 0, 16));
  float *ref = g_new (float, out_n + 1), *want = g_new (float, out_n + 1), *got = g_new (float, out_n + 1);

  for (size_t i = 0; i < in_n; i++)
    in[i] = random_value (rand, c->negative);

  const kk_pool_params p = {
    .batch = c->batch, .in_h = c->in_h, .in_w = c->in_w, .channels = C,
    .out_h = out_h, .out_w = out_w,
    .kernel_h = c->kernel_h, .kernel_w = c->kernel_w,
    .stride_h = c->stride_h, .stride_w = c->stride_w,
    .dilation_h = c->dilation_h, .dilation_w = c->dilation_w,
    .pad_top = c->pad_top, .pad_left = c->pad_left,
  };

  reference (c, out_h, out_w, in, ref);
  run_table (kk_kernels_get (KK_ISA_SCALAR), &p, in, want, rand, name);
  for (size_t i = 0; i < out_n; i++)
    if (!(want[i] == ref[i]))
      g_error ("scalar [%zu] = %g, expected %g for %s", i, (double) want[i], (double) ref[i], name);

  for (int isa = KK_ISA_SCALAR + 1; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) isa);
      if (k == NULL)
        continue;
      run_table (k, &p, in, got, rand, name);
      for (size_t i = 0; i < out_n; i++)
        if (bits (got[i]) != bits (want[i]))
          g_error ("%s [%zu] = %g (0x%08x), scalar %g (0x%08x) for %s", kk_isa_name ((kk_isa) isa), i,
                   (double) got[i], bits (got[i]), (double) want[i], bits (want[i]), name);
    }

  run_count++;
  g_free (ref);
  g_free (want);
  g_free (got);
  kk_test_buf_free (&bin);
}

static void
report_isas (void)
{
  for (int isa = KK_ISA_SCALAR + 1; isa < KK_ISA_COUNT; isa++)
    if (kk_kernels_get ((kk_isa) isa) == NULL)
      g_test_message ("skipping %s: this CPU does not support it", kk_isa_name ((kk_isa) isa));
    else
      g_test_message ("checking %s against scalar", kk_isa_name ((kk_isa) isa));
}

/* Every channel count 1..40 and 96, every window 1..3 x 1..3, strides 1..3;
 * input size, pads (asymmetric, 0 included), dilation and batch random. */
static void
test_sweep (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());

  report_isas ();
  run_count = 0;
  for (size_t C = 1; C <= 96; C = C == 40 ? 96 : C + 1)
    for (size_t kh = 1; kh <= 3; kh++)
      for (size_t kw = 1; kw <= 3; kw++)
        for (size_t s = 1; s <= 3; s++)
          {
            Case c = { 0 };
            c.batch = (size_t) g_rand_int_range (rand, 1, 3);
            c.channels = C;
            c.kernel_h = kh;
            c.kernel_w = kw;
            c.stride_h = s;
            c.stride_w = g_rand_int_range (rand, 0, 4) == 0 ? (size_t) g_rand_int_range (rand, 1, 4) : s;
            c.dilation_h = (size_t) g_rand_int_range (rand, 1, 3);
            c.dilation_w = g_rand_boolean (rand) ? c.dilation_h : 1;
            c.negative = g_rand_int_range (rand, 0, 4) == 0;

            const size_t eh = c.dilation_h * (kh - 1) + 1, ew = c.dilation_w * (kw - 1) + 1;
            c.in_h = (size_t) g_rand_int_range (rand, 1, 18);
            c.in_w = (size_t) g_rand_int_range (rand, 1, 14);
            c.pad_top = (size_t) g_rand_int_range (rand, 0, (gint32) eh);
            c.pad_bottom = (size_t) g_rand_int_range (rand, 0, (gint32) eh);
            c.pad_left = (size_t) g_rand_int_range (rand, 0, (gint32) ew);
            c.pad_right = (size_t) g_rand_int_range (rand, 0, (gint32) ew);
            while (c.in_h + c.pad_top + c.pad_bottom < eh)
              c.in_h++;
            while (c.in_w + c.pad_left + c.pad_right < ew)
              c.in_w++;
            run_case (&c, rand);
          }
  g_test_message ("%zu cases", run_count);
  g_rand_free (rand);
}

/* Every input size 1x1 .. 17x13 with the 2x2 stride-2 window BlazeFace
 * uses (TF "same" padding: any extra row/column at the bottom/right). */
static void
test_sizes (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  static const size_t channels[] = { 2, 8, 11, 24, 28 };

  report_isas ();
  for (size_t h = 1; h <= 17; h++)
    for (size_t w = 1; w <= 13; w++)
      {
        Case c = { 0 };
        c.batch = (size_t) g_rand_int_range (rand, 1, 3);
        c.in_h = h;
        c.in_w = w;
        c.channels = channels[g_rand_int_range (rand, 0, G_N_ELEMENTS (channels))];
        c.kernel_h = c.kernel_w = 2;
        c.stride_h = c.stride_w = 2;
        c.dilation_h = c.dilation_w = 1;
        c.pad_bottom = h % 2;
        c.pad_right = w % 2;
        c.negative = g_rand_boolean (rand);
        run_case (&c, rand);
      }
  g_rand_free (rand);
}

static void
test_blazeface (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  static const struct {
    size_t hw, c;
  } shapes[] = { { 64, 24 }, { 32, 28 }, { 32, 48 }, { 16, 64 }, { 16, 96 }, { 128, 24 }, { 64, 32 } };

  report_isas ();
  for (size_t i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      Case c = { 0 };
      c.batch = 1;
      c.in_h = c.in_w = shapes[i].hw;
      c.channels = shapes[i].c;
      c.kernel_h = c.kernel_w = 2;
      c.stride_h = c.stride_w = 2;
      c.dilation_h = c.dilation_w = 1;
      run_case (&c, rand);
    }
  g_rand_free (rand);
}

/* Pads larger than the window: windows entirely in padding give -INFINITY
 * (not valid ONNX, but it must not crash or read outside the input). */
static void
test_all_padding (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());

  report_isas ();
  for (size_t C = 1; C <= 20; C += 3)
    {
      Case c = { 0 };
      c.batch = 2;
      c.in_h = 2;
      c.in_w = 3;
      c.channels = C;
      c.kernel_h = c.kernel_w = 2;
      c.stride_h = c.stride_w = 1;
      c.dilation_h = c.dilation_w = 1;
      c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 3;
      run_case (&c, rand);
    }

  /* And directly: a 1x1 input, 1x1 window, pad 1 -> the corners are -inf. */
  const float in[1] = { 5.0f };
  float out[9];
  const kk_pool_params p = {
    .batch = 1, .in_h = 1, .in_w = 1, .channels = 1, .out_h = 3, .out_w = 3,
    .kernel_h = 1, .kernel_w = 1, .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
    .pad_top = 1, .pad_left = 1,
  };
  for (int isa = 0; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) isa);
      if (k == NULL)
        continue;
      k->maxpool_f32_nhwc (&p, in, out, 0, 3);
      for (int i = 0; i < 9; i++)
        g_assert_true (i == 4 ? out[i] == 5.0f : (isinf (out[i]) && out[i] < 0));
    }
  g_rand_free (rand);
}

/* NaN never wins, wherever it sits in the window. */
static void
test_nan (void)
{
  for (int isa = 0; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) isa);
      if (k == NULL)
        continue;
      for (size_t C = 1; C <= 20; C++)
        for (int pos = 0; pos < 4; pos++)
          {
            float in[4 * 20], out[20];
            const kk_pool_params p = {
              .batch = 1, .in_h = 2, .in_w = 2, .channels = C, .out_h = 1, .out_w = 1,
              .kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2, .dilation_h = 1, .dilation_w = 1,
            };
            for (size_t t = 0; t < 4; t++)
              for (size_t c = 0; c < C; c++)
                in[t * C + c] = (int) t == pos ? NAN : -(float) (t + 1);
            k->maxpool_f32_nhwc (&p, in, out, 0, 1);
            for (size_t c = 0; c < C; c++)
              if (out[c] != (pos == 0 ? -2.0f : -1.0f))
                g_error ("%s: NaN at tap %d, C=%zu: got %g", kk_isa_name ((kk_isa) isa), pos, C, (double) out[c]);
          }
    }
}

/* ---- global average pooling, NHWC ----
 * The scalar reference against sums written here (pixel order, from +0,
 * then one division), every ISA against scalar bit for bit: channel counts
 * across every vector and block tail, a row stride wider than the channels
 * (the operator's channel blocks), zero pixels, NaN and signed zeros. */

static float
gap_value (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 40))
    {
    case 0: return NAN;
    case 1: return -0.0f;
    case 2: return INFINITY;
    default: return (float) g_rand_double_range (rand, -4.0, 4.0);
    }
}

static void
test_avgpool_global (void)
{
  static const size_t channels[] = { 1, 3, 8, 15, 16, 17, 24, 33, 63, 64, 65, 96, 127, 128, 129, 200, 257, 480 };
  static const size_t pixels[] = { 0, 1, 2, 7, 96, 400 };
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());

  for (size_t ci = 0; ci < G_N_ELEMENTS (channels); ci++)
    for (size_t pi = 0; pi < G_N_ELEMENTS (pixels); pi++)
      {
        const size_t c = channels[ci], p = pixels[pi], stride = c + (ci % 3) * 5;
        const size_t n = MAX (p * stride, 1);
        KkTestBuf bx = kk_test_buf_new (n * sizeof (float));
        KkTestBuf by = kk_test_buf_new (c * sizeof (float));
        float *x = kk_test_buf_at (&bx, 4 * g_rand_int_range (rand, 0, 16));
        float *want = g_new (float, c);

        for (size_t i = 0; i < p * stride; i++)
          x[i] = gap_value (rand);
        /* No NaN in half the cases, so that the sums themselves compare. */
        if (pi % 2 == 0)
          for (size_t i = 0; i < p * stride; i++)
            if (isnan (x[i]) || isinf (x[i]))
              x[i] = 0.5f;
        ref->avgpool_global_f32_nhwc (x, p, c, stride, want);
        for (size_t ch = 0; ch < c; ch++)
          {
            float sum = 0.0f, rule;
            for (size_t q = 0; q < p; q++)
              sum += x[q * stride + ch];
            rule = p > 0 ? sum / (float) p : 0.0f;
            if (!(isnan (rule) ? isnan (want[ch]) : bits (rule) == bits (want[ch])))
              g_error ("scalar global average pool %zu pixels x %zu channels [%zu]: %g, expected %g", p, c,
                       ch, (double) want[ch], (double) rule);
          }
        for (int i = KK_ISA_SCALAR + 1; i < KK_ISA_COUNT; i++)
          {
            const kk_kernels *k = kk_kernels_get ((kk_isa) i);
            float *y;

            if (k == NULL)
              {
                if (ci == 0 && pi == 0)
                  g_test_message ("skipping %s: this CPU does not support it", kk_isa_name ((kk_isa) i));
                continue;
              }
            y = kk_test_buf_at (&by, 4 * g_rand_int_range (rand, 0, 16));
            kk_test_buf_reset (&by);
            k->avgpool_global_f32_nhwc (x, p, c, stride, y);
            for (size_t ch = 0; ch < c; ch++)
              if (!(isnan (want[ch]) ? isnan (y[ch]) : bits (y[ch]) == bits (want[ch])))
                g_error ("%s global average pool %zu pixels x %zu channels (stride %zu) [%zu]: %g, scalar %g",
                         kk_isa_name (k->isa), p, c, stride, ch, (double) y[ch], (double) want[ch]);
            kk_test_assert_untouched_after ((guint8 *) y + c * sizeof (float), KK_TEST_GUARD);
            kk_test_assert_untouched_before (y, KK_TEST_GUARD);
          }
        g_free (want);
        kk_test_buf_free (&bx);
        kk_test_buf_free (&by);
      }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/pool/nan", test_nan);
  g_test_add_func ("/kernels/pool/sweep", test_sweep);
  g_test_add_func ("/kernels/pool/sizes", test_sizes);
  g_test_add_func ("/kernels/pool/blazeface", test_blazeface);
  g_test_add_func ("/kernels/pool/all-padding", test_all_padding);
  g_test_add_func ("/kernels/pool/avgpool-global", test_avgpool_global);
  return g_test_run ();
}
