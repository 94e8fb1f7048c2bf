/* test-dwconv-f16.c — depthwise convolution with FP16 weights.
 *
 * 1. The scalar reference against the convolution in double precision on
 *    the widened halves (ONNX layout, so kk_dwconv_f16_pack_weights is
 *    checked too), within the float rounding bound of test-dwconv.c.
 * 2. Every other ISA against scalar with memcmp: the arithmetic is defined
 *    to the bit (kestrel-kernels.h, dwconv_f16_nhwc).
 * 3. Row ranges: any split of the rows into calls gives the one call's
 *    result, and nothing is written outside the rows asked for.
 * The shapes: every channel count 1..40 and 96 (every vector tail, the
 *    overlapping last block, C below a vector) with 1x1, 3x3, 5x5 and 3x5
 *    kernels at strides and dilations 1 and 2, BlazeFace's own shapes, and
 *    windows wholly in padding.
 */
#include <float.h>
#include <math.h>

#include "kk-test-util.h"

typedef struct {
  size_t batch, in_h, in_w, channels;
  size_t kernel_h, kernel_w, stride, dilation;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  gboolean bias;
  float lo, hi;
} Case;

static const float clamp_lo[] = { -INFINITY, 0.0f, 0.0f, -0.3f };
static const float clamp_hi[] = { INFINITY, INFINITY, 6.0f, 0.4f };

static size_t
out_size (size_t in, size_t pad0, size_t pad1, size_t k, size_t s, size_t d)
{
  return (in + pad0 + pad1 - (d * (k - 1) + 1)) / s + 1;
}

static char *
case_name (const Case *c)
{
  return g_strdup_printf ("batch %zu in %zux%zux%zu kernel %zux%zu stride %zu dilation %zu "
                          "pads t%zu l%zu b%zu r%zu bias %d clamp [%g, %g]",
                          c->batch, c->in_h, c->in_w, c->channels, c->kernel_h, c->kernel_w, c->stride,
                          c->dilation, c->pad_top, c->pad_left, c->pad_bottom, c->pad_right, c->bias,
                          (double) c->lo, (double) c->hi);
}

/* All rows at once, then in random pieces (which must match), then one
 * range alone (which must write its rows only). */
static void
run_table (const kk_kernels *k, const kk_dwconv_params *p, const guint16 *w, const float *in, float *got,
           GRand *rand, const char *name)
{
  const size_t rows = p->batch * p->out_h, row_floats = p->out_w * p->channels;
  const size_t bytes = rows * row_floats * sizeof (float);
  KkTestBuf b = kk_test_buf_new (bytes);
  float *out = kk_test_buf_at (&b, 4 * g_rand_int_range (rand, 0, 16));

  kk_test_buf_reset (&b);
  k->dwconv_f16_nhwc (p, w, in, out, 0, rows);
  kk_test_assert_untouched_after ((guint8 *) out + bytes, KK_TEST_GUARD);
  kk_test_assert_untouched_before (out, KK_TEST_GUARD);
  memcpy (got, out, bytes);

  kk_test_buf_reset (&b);
  for (size_t r0 = 0; r0 < rows;)
    {
      const size_t r1 = MIN (rows, r0 + (size_t) g_rand_int_range (rand, 0, 4));
      k->dwconv_f16_nhwc (p, w, in, out, r0, r1);
      r0 = r1;
    }
  if (memcmp (out, got, bytes) != 0)
    g_error ("%s: splitting the rows changed the result (%s)", kk_isa_name (k->isa), name);

  if (rows > 0)
    {
      const size_t r0 = (size_t) g_rand_int_range (rand, 0, (gint32) rows);
      const size_t r1 = r0 + (size_t) g_rand_int_range (rand, 0, (gint32) (rows - r0 + 1));

      kk_test_buf_reset (&b);
      k->dwconv_f16_nhwc (p, w, in, out, r0, r1 == rows ? rows + 3 : r1);
      kk_test_assert_untouched_before (out + r0 * row_floats, KK_TEST_GUARD + r0 * row_floats * sizeof (float));
      if (memcmp (out + r0 * row_floats, got + r0 * row_floats, (r1 - r0) * row_floats * sizeof (float)) != 0)
        g_error ("%s: rows [%zu, %zu) alone differ (%s)", kk_isa_name (k->isa), r0, r1, name);
      kk_test_assert_untouched_after (out + r1 * row_floats,
                                      (rows - r1) * row_floats * sizeof (float) + KK_TEST_GUARD);
    }
  kk_test_buf_free (&b);
}

static void
run_case (const Case *c, GRand *rand)
{
  const size_t out_h = out_size (c->in_h, c->pad_top, c->pad_bottom, c->kernel_h, c->stride, c->dilation);
  const size_t out_w = out_size (c->in_w, c->pad_left, c->pad_right, c->kernel_w, c->stride, c->dilation);
  const size_t C = c->channels, taps = c->kernel_h * c->kernel_w;
  const size_t in_n = c->batch * c->in_h * c->in_w * C, out_n = c->batch * out_h * out_w * C;
  const kk_kernels *scalar = kk_kernels_get (KK_ISA_SCALAR);
  g_autofree char *name = case_name (c);
  g_autofree float *in = g_new (float, in_n + 1), *wf = g_new (float, taps * C + 1);
  g_autofree float *bias = g_new (float, C + 1);
  g_autofree guint16 *w_onnx = g_new (guint16, taps * C + 1), *packed = g_new (guint16, taps * C + 1);
  g_autofree float *want = g_new (float, out_n + 1), *got = g_new (float, out_n + 1);

  for (size_t i = 0; i < in_n; i++)
    in[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (size_t i = 0; i < taps * C; i++)
    wf[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (size_t i = 0; i < C; i++)
    bias[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  scalar->f32_to_f16 (wf, w_onnx, taps * C);
  scalar->f16_to_f32 (w_onnx, wf, taps * C);  /* the weights the kernels see */
  kk_dwconv_f16_pack_weights (w_onnx, C, c->kernel_h, c->kernel_w, packed);

  const kk_dwconv_params p = {
    .batch = c->batch, .in_h = c->in_h, .in_w = c->in_w, .channels = C, .out_h = out_h, .out_w = out_w,
    .kernel_h = c->kernel_h, .kernel_w = c->kernel_w, .stride_h = c->stride, .stride_w = c->stride,
    .dilation_h = c->dilation, .dilation_w = c->dilation, .pad_top = c->pad_top, .pad_left = c->pad_left,
    .weights = NULL, .bias = c->bias ? bias : NULL, .lo = c->lo, .hi = c->hi,
  };

  run_table (scalar, &p, packed, in, want, rand, name);

  /* Scalar against the exact sum on the widened weights (NCHW loops from
   * the ONNX definition, bounds checked tap by tap). */
  for (size_t n = 0; n < c->batch; n++)
    for (size_t oy = 0; oy < out_h; oy++)
      for (size_t ox = 0; ox < out_w; ox++)
        for (size_t ch = 0; ch < C; ch++)
          {
            double s = c->bias ? (double) bias[ch] : 0.0, m = fabs (s);
            for (size_t ky = 0; ky < c->kernel_h; ky++)
              for (size_t kx = 0; kx < c->kernel_w; kx++)
                {
                  const ptrdiff_t iy = (ptrdiff_t) (oy * c->stride + ky * c->dilation) - (ptrdiff_t) c->pad_top;
                  const ptrdiff_t ix = (ptrdiff_t) (ox * c->stride + kx * c->dilation) - (ptrdiff_t) c->pad_left;
                  if (iy < 0 || ix < 0 || iy >= (ptrdiff_t) c->in_h || ix >= (ptrdiff_t) c->in_w)
                    continue;
                  const double v = (double) in[((n * c->in_h + (size_t) iy) * c->in_w + (size_t) ix) * C + ch]
                                   * (double) wf[ch * taps + ky * c->kernel_w + kx];
                  s += v;
                  m += fabs (v);
                }
            s = s > (double) c->hi ? (double) c->hi : s;
            s = s < (double) c->lo ? (double) c->lo : s;
            const size_t o = ((n * out_h + oy) * out_w + ox) * C + ch;
            const double tol = (double) (taps + 2) * (double) FLT_EPSILON * m + 1e-30;
            if (!(fabs ((double) want[o] - s) <= tol))
              g_error ("scalar [%zu] = %.9g, exact %.9g (tolerance %.3g) for %s", o, (double) want[o], s, tol,
                       name);
          }

  for (int isa = KK_ISA_SCALAR + 1; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) isa);
      if (k == NULL)
        continue;
      run_table (k, &p, packed, in, got, rand, name);
      if (memcmp (got, want, out_n * sizeof (float)) != 0)
        for (size_t i = 0; i < out_n; i++)
          if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
            g_error ("%s [%zu] = %.9g, scalar %.9g: not bit-identical for %s", kk_isa_name ((kk_isa) isa), i,
                     (double) got[i], (double) want[i], name);
    }
}

static void
report_isas (void)
{
  for (int isa = KK_ISA_SCALAR + 1; isa < KK_ISA_COUNT; isa++)
    g_test_message (kk_kernels_get ((kk_isa) isa) == NULL ? "skipping %s: this CPU does not support it"
                                                            : "checking %s against scalar (memcmp)",
                    kk_isa_name ((kk_isa) isa));
}

static void
test_sweep (void)
{
  static const size_t kernels[][2] = { { 1, 1 }, { 3, 3 }, { 5, 5 }, { 3, 5 } };
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  size_t cases = 0;

  report_isas ();
  for (size_t C = 1; C <= 96; C = C == 40 ? 96 : C + 1)
    for (size_t k = 0; k < G_N_ELEMENTS (kernels); k++)
      for (size_t s = 1; s <= 2; s++)
        for (size_t d = 1; d <= 2; d++)
          {
            const size_t eh = d * (kernels[k][0] - 1) + 1, ew = d * (kernels[k][1] - 1) + 1;
            const int cl = g_rand_int_range (rand, 0, G_N_ELEMENTS (clamp_lo));
            Case c = {
              .batch = (size_t) g_rand_int_range (rand, 1, 3), .channels = C,
              .kernel_h = kernels[k][0], .kernel_w = kernels[k][1], .stride = s, .dilation = d,
              .in_h = (size_t) g_rand_int_range (rand, 1, 18), .in_w = (size_t) g_rand_int_range (rand, 1, 20),
              .pad_top = (size_t) g_rand_int_range (rand, 0, (gint32) eh),
              .pad_bottom = (size_t) g_rand_int_range (rand, 0, (gint32) eh),
              .pad_left = (size_t) g_rand_int_range (rand, 0, (gint32) ew),
              .pad_right = (size_t) g_rand_int_range (rand, 0, (gint32) ew),
              .bias = g_rand_boolean (rand), .lo = clamp_lo[cl], .hi = clamp_hi[cl],
            };
            while (c.in_h + c.pad_top + c.pad_bottom < eh)
              c.in_h++;
            while (c.in_w + c.pad_left + c.pad_right < ew)
              c.in_w++;
            run_case (&c, rand);
            cases++;
          }
  g_test_message ("%zu cases", cases);
  g_rand_free (rand);
}

/* The depthwise shapes of the front (128x128) and back (256x256) models,
 * with their pads at stride 2 (0/1 and 1/2). */
static void
test_blazeface (void)
{
  static const struct {
    size_t hw, c, s, pt, pb;
  } shapes[] = {
    { 64, 24, 1, 1, 1 }, { 64, 24, 2, 0, 1 }, { 32, 28, 1, 1, 1 }, { 32, 42, 2, 1, 2 },
    { 16, 48, 1, 1, 1 }, { 16, 96, 1, 1, 1 }, { 16, 88, 2, 0, 1 }, { 8, 96, 1, 1, 1 },
    { 128, 24, 1, 1, 1 }, { 128, 28, 2, 0, 1 }, { 64, 36, 1, 1, 1 }, { 32, 56, 2, 1, 2 },
  };
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());

  report_isas ();
  for (size_t i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      Case c = {
        .batch = 1, .in_h = shapes[i].hw, .in_w = shapes[i].hw, .channels = shapes[i].c, .kernel_h = 3,
        .kernel_w = 3, .stride = shapes[i].s, .dilation = 1, .pad_top = shapes[i].pt, .pad_left = shapes[i].pt,
        .pad_bottom = shapes[i].pb, .pad_right = shapes[i].pb, .bias = TRUE, .lo = 0.0f, .hi = INFINITY,
      };
      run_case (&c, rand);
    }
  g_rand_free (rand);
}

/* Pads wider than the kernel: windows wholly in padding give clamp (bias). */
static void
test_all_padding (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());

  for (size_t C = 1; C <= 40; C += 3)
    {
      Case c = {
        .batch = 2, .in_h = 2, .in_w = 3, .channels = C, .kernel_h = 3, .kernel_w = 3, .stride = 1,
        .dilation = 1, .pad_top = 4, .pad_left = 4, .pad_bottom = 4, .pad_right = 4, .bias = TRUE,
        .lo = -0.5f, .hi = 0.5f,
      };
      run_case (&c, rand);
    }
  g_rand_free (rand);
}

static void
test_pack (void)
{
  /* [C=2][1][kh=2][kw=3] -> [2][3][2] */
  const guint16 onnx[12] = { 0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15 };
  const guint16 want[12] = { 0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15 };
  guint16 got[12];

  kk_dwconv_f16_pack_weights (onnx, 2, 2, 3, got);
  g_assert_cmpmem (got, sizeof got, want, sizeof want);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/dwconv-f16/pack", test_pack);
  g_test_add_func ("/kernels/dwconv-f16/sweep", test_sweep);
  g_test_add_func ("/kernels/dwconv-f16/blazeface", test_blazeface);
  g_test_add_func ("/kernels/dwconv-f16/all-padding", test_all_padding);
  return g_test_run ();
}
