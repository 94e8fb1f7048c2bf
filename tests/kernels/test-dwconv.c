/* test-dwconv.c — depthwise convolution.
 *
 * 1. The scalar reference against a direct NCHW convolution in double
 *    precision written here from the ONNX definition (weights in ONNX's
 *    [C][1][kh][kw] layout, so kk_dwconv_f32_pack_weights is checked too).
 * 2. Every other ISA against scalar. SSE4.2 mirrors the reference operation
 *    by operation and must match it bit for bit; the FMA versions (AVX2,
 *    AVX-512, NEON) may differ by rounding only, bounded relative to the
 *    magnitudes involved (below). Every ISA's exact table
 *    (kk_kernels_get_exact, the integer plans' float steps) must match it
 *    bit for bit, signed zeros included (some inputs are +-0).
 * 3. Row ranges: any split of the output rows into calls gives exactly the
 *    result of one call, and a call writes its rows only; nothing is written
 *    before or after the output.
 *
 * Tolerance. An output sums the bias and T products. Rounding each product
 * and each partial sum in float costs at most about (T + 1) * eps * M, where
 * M = |bias| + sum |x * w|, and clamping never increases a difference. So:
 * scalar vs exact: (T + 2) * eps * M; ISA vs scalar: twice that.
 */
#include <float.h>
#include <math.h>

#include "kk-test-util.h"

typedef struct {
  size_t batch, in_h, in_w, channels;
  size_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  gboolean bias;
  float lo, hi;
} Case;

static const struct {
  float lo, hi;
} clamps[] = {
  { -INFINITY, INFINITY },
  { 0.0f, INFINITY },
  { 0.0f, 6.0f },
  { -0.3f, 0.4f },
};

/* Output size from the ONNX formula; FALSE if the padded input is smaller
 * than the (dilated) kernel. */
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
  return g_strdup_printf ("batch %zu in %zux%zux%zu kernel %zux%zu stride %zux%zu dilation %zux%zu "
                          "pads t%zu l%zu b%zu r%zu bias %d clamp [%g, %g]",
                          c->batch, c->in_h, c->in_w, c->channels, c->kernel_h, c->kernel_w,
                          c->stride_h, c->stride_w, c->dilation_h, c->dilation_w, c->pad_top,
                          c->pad_left, c->pad_bottom, c->pad_right, c->bias, (double) c->lo, (double) c->hi);
}

/* The exact result (in double) and its magnitude M, from NCHW copies of the
 * input, ONNX-layout weights and explicit bounds checks on every tap. Output
 * arrays are NHWC so they line up with the kernels'. */
static void
reference (const Case *c, size_t out_h, size_t out_w, const float *in_nhwc, const float *w_onnx,
           const float *bias, double *ref, double *mag)
{
  const size_t C = c->channels, H = c->in_h, W = c->in_w;
  double *x = g_new (double, c->batch * C * H * W);

  for (size_t n = 0; n < c->batch; n++)
    for (size_t ch = 0; ch < C; ch++)
      for (size_t y = 0; y < H; y++)
        for (size_t xx = 0; xx < W; xx++)
          x[((n * C + ch) * H + y) * W + xx] = in_nhwc[((n * H + y) * W + xx) * C + ch];

  for (size_t n = 0; n < c->batch; n++)
    for (size_t ch = 0; ch < C; ch++)
      for (size_t oy = 0; oy < out_h; oy++)
        for (size_t ox = 0; ox < out_w; ox++)
          {
            double sum = bias != NULL ? (double) bias[ch] : 0.0;
            double m = fabs (sum);

            for (size_t ky = 0; ky < c->kernel_h; ky++)
              for (size_t kx = 0; kx < c->kernel_w; kx++)
                {
                  const long iy = (long) (oy * c->stride_h + ky * c->dilation_h) - (long) c->pad_top;
                  const long ix = (long) (ox * c->stride_w + kx * c->dilation_w) - (long) c->pad_left;
                  if (iy < 0 || iy >= (long) H || ix < 0 || ix >= (long) W)
                    continue;
                  const double v = x[((n * C + ch) * H + (size_t) iy) * W + (size_t) ix];
                  const double wv = w_onnx[(ch * c->kernel_h + ky) * c->kernel_w + kx];
                  sum += v * wv;
                  m += fabs (v * wv);
                }
            if (sum > (double) c->hi)
              sum = c->hi;
            if (sum < (double) c->lo)
              sum = c->lo;
            const size_t o = ((n * out_h + oy) * out_w + ox) * C + ch;
            ref[o] = sum;
            mag[o] = m;
          }
  g_free (x);
}

static void
assert_untouched (const kk_kernels *k, const guint8 *p, size_t bytes, const char *what, const char *name)
{
  for (size_t i = 0; i < bytes; i++)
    if (p[i] != KK_TEST_GUARD_BYTE)
      g_error ("%s: byte %zu of %s was written (%s)", kk_isa_name (k->isa), i, what, name);
}

/* Runs one table on the case: the whole output in one call, then checks
 * guards, a split into random pieces and one partial range. Returns the
 * whole-call output in `got` (caller-owned, NHWC). */
static void
run_table (const kk_kernels *k, const kk_dwconv_params *p, const float *in, float *got,
           GRand *rand, const char *name)
{
  const size_t rows = p->batch * p->out_h;
  const size_t row_floats = p->out_w * p->channels;
  const size_t bytes = rows * row_floats * sizeof (float);
  KkTestBuf b = kk_test_buf_new (bytes);
  float *out = kk_test_buf_at (&b, 4 * g_rand_int_range (rand, 0, 16));

  kk_test_buf_reset (&b);
  k->dwconv_f32_nhwc (p, in, out, 0, rows);
  kk_test_assert_untouched_after ((guint8 *) out + bytes, KK_TEST_GUARD);
  assert_untouched (k, (guint8 *) out - KK_TEST_GUARD, KK_TEST_GUARD, "the guard before the output", name);
  memcpy (got, out, bytes);

  /* Random pieces, empty ones included, must equal the single call. */
  kk_test_buf_reset (&b);
  for (size_t r0 = 0; r0 < rows;)
    {
      const size_t len = (size_t) g_rand_int_range (rand, 0, 4);
      const size_t r1 = MIN (rows, r0 + len);
      k->dwconv_f32_nhwc (p, in, out, r0, r1);
      r0 = r1;
    }
  if (memcmp (out, got, bytes) != 0)
    g_error ("%s: splitting the rows changed the result (%s)", kk_isa_name (k->isa), name);
  kk_test_assert_untouched_after ((guint8 *) out + bytes, KK_TEST_GUARD);

  /* One partial range writes exactly its rows; a row_end past the last row
   * is clamped to it. */
  if (rows > 0)
    {
      const size_t r0 = (size_t) g_rand_int_range (rand, 0, (gint32) rows);
      const size_t r1 = r0 + (size_t) g_rand_int_range (rand, 0, (gint32) (rows - r0 + 1));
      const size_t end = r1 == rows && g_rand_boolean (rand) ? rows + 5 : r1;

      kk_test_buf_reset (&b);
      k->dwconv_f32_nhwc (p, in, out, r0, end);
      assert_untouched (k, (guint8 *) out, r0 * row_floats * sizeof (float), "rows before the range", name);
      if (memcmp (out + r0 * row_floats, got + r0 * row_floats, (r1 - r0) * row_floats * sizeof (float)) != 0)
        g_error ("%s: rows [%zu, %zu) alone differ from the full call (%s)", kk_isa_name (k->isa), r0, r1, name);
      assert_untouched (k, (guint8 *) (out + r1 * row_floats), (rows - r1) * row_floats * sizeof (float) + KK_TEST_GUARD,
                        "rows after the range", name);
    }
  kk_test_buf_free (&b);
}

static void
run_case (const Case *c, GRand *rand)
{
  size_t out_h = 0, out_w = 0;
  g_assert_true (out_size (c->in_h, c->pad_top, c->pad_bottom, c->kernel_h, c->stride_h, c->dilation_h, &out_h));
  g_assert_true (out_size (c->in_w, c->pad_left, c->pad_right, c->kernel_w, c->stride_w, c->dilation_w, &out_w));

  const size_t C = c->channels;
  const size_t taps = c->kernel_h * c->kernel_w;
  const size_t in_n = c->batch * c->in_h * c->in_w * C;
  const size_t out_n = c->batch * out_h * out_w * C;
  g_autofree char *name = case_name (c);
  KkTestBuf bin = kk_test_buf_new (in_n * sizeof (float));
  KkTestBuf bw = kk_test_buf_new (taps * C * sizeof (float));
  KkTestBuf bb = kk_test_buf_new (C * sizeof (float));
  float *in = kk_test_buf_at (&bin, 4 * g_rand_int_range (rand, 0, 16));
  float *packed = kk_test_buf_at (&bw, 4 * g_rand_int_range (rand, 0, 16));
  float *bias = c->bias ? kk_test_buf_at (&bb, 4 * g_rand_int_range (rand, 0, 16)) : NULL;
  float *w_onnx = g_new (float, taps * C + 1);
  double *ref = g_new (double, out_n + 1), *mag = g_new (double, out_n + 1);
  float *want = g_new (float, out_n + 1), *got = g_new (float, out_n + 1);

  for (size_t i = 0; i < in_n; i++)
    in[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (size_t i = 0; i < in_n; i++)
    if (g_rand_int_range (rand, 0, 8) == 0)
      in[i] = g_rand_boolean (rand) ? 0.0f : -0.0f;
  for (size_t i = 0; i < taps * C; i++)
    w_onnx[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (size_t i = 0; bias != NULL && i < C; i++)
    bias[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  kk_dwconv_f32_pack_weights (w_onnx, C, c->kernel_h, c->kernel_w, packed);

  const kk_dwconv_params p = {
    .batch = c->batch, .in_h = c->in_h, .in_w = c->in_w, .channels = C,
    .out_h = out_h, .out_w = out_w,
    .kernel_h = c->kernel_h, .kernel_w = c->kernel_w,
    .stride_h = c->stride_h, .stride_w = c->stride_w,
    .dilation_h = c->dilation_h, .dilation_w = c->dilation_w,
    .pad_top = c->pad_top, .pad_left = c->pad_left,
    .weights = packed, .bias = bias, .lo = c->lo, .hi = c->hi,
  };

  reference (c, out_h, out_w, in, w_onnx, bias, ref, mag);

  /* Scalar against the exact result. */
  const kk_kernels *scalar = kk_kernels_get (KK_ISA_SCALAR);
  run_table (scalar, &p, in, want, rand, name);
  for (size_t i = 0; i < out_n; i++)
    {
      const double tol = (double) (taps + 2) * (double) FLT_EPSILON * mag[i] + 1e-30;
      if (!(fabs ((double) want[i] - ref[i]) <= tol))
        g_error ("scalar [%zu] = %.9g, exact %.9g (tolerance %.3g) for %s", i, (double) want[i], ref[i], tol, name);
    }

  /* Every other ISA against scalar. */
  for (int isa = KK_ISA_SCALAR + 1; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) isa);
      if (k == NULL)
        continue;  /* reported once by kk_test_each_isa in the caller */
      run_table (k, &p, in, got, rand, name);
      const gboolean exact = isa == KK_ISA_SSE42;
      for (size_t i = 0; i < out_n; i++)
        {
          const double tol = exact ? 0.0 : 2.0 * (double) (taps + 2) * (double) FLT_EPSILON * mag[i] + 1e-30;
          if (!(fabs ((double) got[i] - (double) want[i]) <= tol))
            g_error ("%s [%zu] = %.9g, scalar %.9g (tolerance %.3g) for %s", kk_isa_name ((kk_isa) isa), i,
                     (double) got[i], (double) want[i], tol, name);
        }

      const kk_kernels *exact_table = kk_kernels_get_exact ((kk_isa) isa);
      run_table (exact_table, &p, in, got, rand, name);
      for (size_t i = 0; i < out_n; i++)
        if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
          g_error ("the exact table of %s: [%zu] = %.9g, scalar %.9g (bits differ) for %s",
                   kk_isa_name ((kk_isa) isa), i, (double) got[i], (double) want[i], name);
    }

  g_free (w_onnx);
  g_free (ref);
  g_free (mag);
  g_free (want);
  g_free (got);
  kk_test_buf_free (&bin);
  kk_test_buf_free (&bw);
  kk_test_buf_free (&bb);
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

/* Random pads (asymmetric, 0 included) and input size for the given kernel,
 * grown until the padded input holds the dilated kernel. */
static void
random_geometry (Case *c, GRand *rand)
{
  const size_t eh = c->dilation_h * (c->kernel_h - 1) + 1, ew = c->dilation_w * (c->kernel_w - 1) + 1;

  c->in_h = (size_t) g_rand_int_range (rand, 1, 18);
  c->in_w = (size_t) g_rand_int_range (rand, 1, 14);
  c->pad_top = (size_t) g_rand_int_range (rand, 0, (gint32) eh);
  c->pad_bottom = (size_t) g_rand_int_range (rand, 0, (gint32) eh);
  c->pad_left = (size_t) g_rand_int_range (rand, 0, (gint32) ew);
  c->pad_right = (size_t) g_rand_int_range (rand, 0, (gint32) ew);
  while (c->in_h + c->pad_top + c->pad_bottom < eh)
    c->in_h++;
  while (c->in_w + c->pad_left + c->pad_right < ew)
    c->in_w++;
}

/* Every channel count 1..40 and 96, with every kernel shape, stride and
 * dilation; the rest random. */
static void
test_sweep (void)
{
  static const size_t kernels[][2] = { { 1, 1 }, { 3, 3 }, { 5, 5 }, { 3, 5 } };
  size_t cases = 0;
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());

  report_isas ();
  for (size_t C = 1; C <= 96; C = C == 40 ? 96 : C + 1)
    for (size_t k = 0; k < G_N_ELEMENTS (kernels); k++)
      for (size_t s = 1; s <= 2; s++)
        for (size_t d = 1; d <= 2; d++)
          {
            Case c = { 0 };
            c.batch = (size_t) g_rand_int_range (rand, 1, 3);
            c.channels = C;
            c.kernel_h = kernels[k][0];
            c.kernel_w = kernels[k][1];
            c.stride_h = s;
            c.stride_w = g_rand_int_range (rand, 0, 4) == 0 ? 3 - s : s;
            c.dilation_h = d;
            c.dilation_w = d;
            c.bias = g_rand_boolean (rand);
            const size_t cl = (size_t) g_rand_int_range (rand, 0, G_N_ELEMENTS (clamps));
            c.lo = clamps[cl].lo;
            c.hi = clamps[cl].hi;
            random_geometry (&c, rand);
            run_case (&c, rand);
            cases++;
          }
  g_test_message ("%zu cases", cases);
  g_rand_free (rand);
}

/* Every input size 1x1 .. 17x13 for BlazeFace's two 3x3 shapes. */
static void
test_sizes (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  static const size_t channels[] = { 3, 8, 13, 24, 28 };

  report_isas ();
  for (size_t h = 1; h <= 17; h++)
    for (size_t w = 1; w <= 13; w++)
      for (size_t s = 1; s <= 2; s++)
        {
          Case c = { 0 };
          c.batch = (size_t) g_rand_int_range (rand, 1, 3);
          c.in_h = h;
          c.in_w = w;
          c.channels = channels[g_rand_int_range (rand, 0, G_N_ELEMENTS (channels))];
          c.kernel_h = c.kernel_w = 3;
          c.stride_h = c.stride_w = s;
          c.dilation_h = c.dilation_w = 1;
          if (s == 1)
            c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
          else
            {
              /* TF-style "same" padding: the extra pad goes bottom/right. */
              const size_t ph = (h % 2 == 0 ? 1 : 2), pw = (w % 2 == 0 ? 1 : 2);
              c.pad_top = ph / 2;
              c.pad_bottom = ph - ph / 2;
              c.pad_left = pw / 2;
              c.pad_right = pw - pw / 2;
            }
          c.bias = TRUE;
          c.lo = 0.0f;
          c.hi = INFINITY;
          run_case (&c, rand);
        }
  g_rand_free (rand);
}

/* The shapes BlazeFace actually runs, front (128x128 input) and back
 * (256x256) models, including pads 0/1 and 1/2 at stride 2. */
static void
test_blazeface (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  static const struct {
    size_t hw, c, s, pt, pb;
  } shapes[] = {
    { 64, 24, 1, 1, 1 }, { 64, 24, 2, 0, 1 }, { 32, 28, 1, 1, 1 }, { 32, 42, 2, 1, 2 },
    { 16, 48, 1, 1, 1 }, { 16, 96, 1, 1, 1 }, { 16, 88, 2, 0, 1 }, { 8, 96, 1, 1, 1 },
    { 128, 24, 1, 1, 1 }, { 128, 28, 2, 0, 1 }, { 64, 36, 1, 1, 1 }, { 32, 56, 2, 1, 2 },
  };

  report_isas ();
  for (size_t i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      Case c = { 0 };
      c.batch = 1;
      c.in_h = c.in_w = shapes[i].hw;
      c.channels = shapes[i].c;
      c.kernel_h = c.kernel_w = 3;
      c.stride_h = c.stride_w = shapes[i].s;
      c.dilation_h = c.dilation_w = 1;
      c.pad_top = c.pad_left = shapes[i].pt;
      c.pad_bottom = c.pad_right = shapes[i].pb;
      c.bias = TRUE;
      c.lo = 0.0f;
      c.hi = INFINITY;
      run_case (&c, rand);
    }
  g_rand_free (rand);
}

/* Pads larger than the kernel: some windows lie entirely in padding and give
 * clamp (bias); nothing crashes. */
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
      c.kernel_h = c.kernel_w = 3;
      c.stride_h = c.stride_w = 1;
      c.dilation_h = c.dilation_w = 1;
      c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 4;
      c.bias = TRUE;
      c.lo = -0.5f;
      c.hi = 0.5f;
      run_case (&c, rand);
    }
  g_rand_free (rand);
}

/* No channels, no rows: nothing is written. */
static void
test_empty (void)
{
  const float w[9] = { 0 };
  const kk_dwconv_params p = {
    .batch = 1, .in_h = 4, .in_w = 4, .channels = 0, .out_h = 4, .out_w = 4,
    .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
    .pad_top = 1, .pad_left = 1, .weights = w, .lo = -INFINITY, .hi = INFINITY,
  };
  KkTestBuf b = kk_test_buf_new (64);

  for (int isa = 0; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) isa);
      if (k == NULL)
        continue;
      kk_test_buf_reset (&b);
      float *out = kk_test_buf_at (&b, 0);
      k->dwconv_f32_nhwc (&p, out, out, 0, 4);
      kk_dwconv_params p2 = p;
      p2.channels = 8;
      k->dwconv_f32_nhwc (&p2, out, out, 3, 3);
      k->dwconv_f32_nhwc (&p2, out, out, 4, 9);
      kk_test_assert_untouched_after (out, 64);
    }
  kk_test_buf_free (&b);
}

static void
test_pack (void)
{
  /* [C=2][1][kh=2][kw=3] -> [2][3][2] */
  const float onnx[12] = { 0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15 };
  const float want[12] = { 0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15 };
  float got[12];

  kk_dwconv_f32_pack_weights (onnx, 2, 2, 3, got);
  g_assert_cmpmem (got, sizeof got, want, sizeof want);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/dwconv/pack", test_pack);
  g_test_add_func ("/kernels/dwconv/empty", test_empty);
  g_test_add_func ("/kernels/dwconv/sweep", test_sweep);
  g_test_add_func ("/kernels/dwconv/sizes", test_sizes);
  g_test_add_func ("/kernels/dwconv/blazeface", test_blazeface);
  g_test_add_func ("/kernels/dwconv/all-padding", test_all_padding);
  return g_test_run ();
}
