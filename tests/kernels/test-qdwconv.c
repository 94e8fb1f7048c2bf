/* test-qdwconv.c — cross-checks of the int8 depthwise convolution (u8 NHWC,
 * s8 weights, fused requantisation).
 *
 * 1. The scalar reference against a naive int64 loop that tests each tap
 *    against the input bounds itself and requantises with an explicit floor
 *    division.
 * 2. Every other ISA against scalar, bit for bit: 3x3 and 5x5 (and 1x1,
 *    3x5, 7x7, 9x9), strides 1, 2 (and 3), paddings 0..kernel-1, channel counts
 *    across every vector tail (1..70, 96, 130), batches 1 and 2, whole
 *    tensors, row ranges and bands written through out_row0, misaligned
 *    input and output, with and without bias; random data, and extremes
 *    that would overflow a 16-bit sum: inputs all 0 or all 255, weights all
 *    127, all -127 or alternating, zero points 0 and 255, |bias| up to
 *    KK_QGEMM_MAX_ABS_BIAS. Bytes around the written rows stay untouched.
 */
#include <math.h>

#include "kk-test-util.h"

static uint8_t
naive_at (const kk_qdwconv_params *p, const uint8_t *in, size_t r, size_t ox, size_t c)
{
  const size_t n = r / p->out_h, oy = r % p->out_h;
  int64_t acc = p->bias != NULL ? p->bias[c] : 0;
  for (size_t ky = 0; ky < p->kernel_h; ky++)
    for (size_t kx = 0; kx < p->kernel_w; kx++)
      {
        ptrdiff_t iy = (ptrdiff_t) (oy * p->stride_h + ky) - (ptrdiff_t) p->pad_top;
        ptrdiff_t ix = (ptrdiff_t) (ox * p->stride_w + kx) - (ptrdiff_t) p->pad_left;
        int64_t x = p->input_zero_point;  /* padding is real 0 */
        if (iy >= 0 && ix >= 0 && iy < (ptrdiff_t) p->in_h && ix < (ptrdiff_t) p->in_w)
          x = in[((n * p->in_h + (size_t) iy) * p->in_w + (size_t) ix) * p->channels + c];
        acc += (x - p->input_zero_point) * p->weights[(ky * p->kernel_w + kx) * p->channels + c];
      }
  const kk_requant *rq = &p->requant;
  int64_t v = kk_test_floor_div_pow2 (acc * rq->multiplier[c] + ((int64_t) 1 << (rq->shift - 1)), rq->shift);
  v += rq->zero_point;
  return (uint8_t) (v < rq->lo ? rq->lo : v > rq->hi ? rq->hi : v);
}

typedef struct {
  kk_qdwconv_params p;
  int8_t *w;
  int32_t *bias, *mult;
} Case;

static bool
random_case (GRand *rand, size_t channels, int round, Case *cs)
{
  /* 7x7 (13 groups of four taps, one short) and 9x9 (more taps than the
   * VNNI version takes) besides the usual ones */
  static const size_t kernels[][2] = { { 3, 3 }, { 5, 5 }, { 3, 3 }, { 5, 5 }, { 1, 1 }, { 3, 5 },
                                       { 7, 7 }, { 9, 9 } };
  kk_qdwconv_params *p = &cs->p;
  memset (cs, 0, sizeof *cs);
  p->batch = (size_t) g_rand_int_range (rand, 1, 3);
  p->channels = channels;
  p->in_h = (size_t) g_rand_int_range (rand, 1, 12);
  p->in_w = (size_t) g_rand_int_range (rand, 1, 12);
  const size_t ki = (size_t) g_rand_int_range (rand, 0, G_N_ELEMENTS (kernels));
  p->kernel_h = kernels[ki][0];
  p->kernel_w = kernels[ki][1];
  p->stride_h = p->stride_w = (size_t) g_rand_int_range (rand, 1, 3);
  if (round % 11 == 10)
    p->stride_w = 3;
  p->pad_top = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_h);
  p->pad_left = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_w);
  size_t pad_bottom = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_h);
  size_t pad_right = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_w);
  if (p->in_h + p->pad_top + pad_bottom < p->kernel_h || p->in_w + p->pad_left + pad_right < p->kernel_w)
    return false;
  p->out_h = (p->in_h + p->pad_top + pad_bottom - p->kernel_h) / p->stride_h + 1;
  p->out_w = (p->in_w + p->pad_left + pad_right - p->kernel_w) / p->stride_w + 1;

  const int wmode = round % 5;  /* 0..1 random, 2: 127, 3: -127, 4: alternating */
  const size_t taps = p->kernel_h * p->kernel_w;
  cs->w = g_new (int8_t, taps * channels);
  for (size_t i = 0; i < taps * channels; i++)
    cs->w[i] = (int8_t) (wmode == 2 ? 127 : wmode == 3 ? -127 : wmode == 4 ? ((i & 1) ? -127 : 127)
                                                                         : g_rand_int_range (rand, -127, 128));
  p->weights = cs->w;
  cs->bias = g_new (int32_t, channels);
  const int32_t bias_abs = round % 7 == 6 ? KK_QGEMM_MAX_ABS_BIAS : 1 << 16;
  for (size_t c = 0; c < channels; c++)
    cs->bias[c] = g_rand_int_range (rand, -bias_abs, bias_abs);
  p->bias = round % 4 == 3 ? NULL : cs->bias;
  p->input_zero_point = round % 6 == 1 ? 0 : round % 6 == 2 ? 255 : g_rand_int_range (rand, 0, 256);

  cs->mult = g_new (int32_t, channels);
  if (round % 9 == 8)
    {
      p->requant.shift = (uint32_t) g_rand_int_range (rand, KK_REQUANT_MIN_SHIFT, KK_REQUANT_MAX_SHIFT + 1);
      for (size_t c = 0; c < channels; c++)
        cs->mult[c] = (int32_t) (g_rand_int (rand) >> 1);
    }
  else
    {
      g_autofree double *scales = g_new (double, channels);
      const double typical = 64.0 * 73.0 * sqrt ((double) taps) + 1.0;
      for (size_t c = 0; c < channels; c++)
        scales[c] = g_rand_double_range (rand, 0.2, 1.0) * 100.0 / typical;
      g_assert_true (kk_requant_from_scales (scales, channels, cs->mult, &p->requant.shift));
    }
  p->requant.multiplier = cs->mult;
  p->requant.zero_point = g_rand_int_range (rand, 0, 256);
  p->requant.lo = g_rand_boolean (rand) ? 0 : (uint8_t) p->requant.zero_point;
  p->requant.hi = g_rand_int_range (rand, 0, 4) == 0 ? (uint8_t) g_rand_int_range (rand, p->requant.lo, 256) : 255;
  return true;
}

static void
case_clear (Case *cs)
{
  g_free (cs->w);
  g_free (cs->bias);
  g_free (cs->mult);
}

static void
run_cases (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  (void) data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (t == NULL ? 51 : 52 + (guint32) t->isa);
  size_t channels[KK_TEST_MAX_CHANNEL_COUNTS];
  const size_t nc = kk_test_channel_counts (channels);

  for (size_t ci = 0; ci < nc; ci++)
    for (int round = 0; round < 14; round++)
      {
        Case cs;
        if (!random_case (rand, channels[ci], round, &cs))
          {
            case_clear (&cs);
            continue;
          }
        kk_qdwconv_params *p = &cs.p;
        const size_t in_bytes = p->batch * p->in_h * p->in_w * p->channels;
        const size_t rows = p->batch * p->out_h, row_bytes = p->out_w * p->channels;
        KkTestBuf ib = kk_test_buf_new (in_bytes + 1);
        uint8_t *in = kk_test_buf_at (&ib, (size_t) g_rand_int_range (rand, 0, 64));
        kk_test_fill_u8_mode (rand, in, in_bytes, round % 3);  /* random, all 0, all 255 */

        size_t rb = 0, re = rows;
        if (round % 4 == 1)
          kk_test_random_rows (rand, rows, &rb, &re);
        /* a band: the output buffer starts at row rb */
        const bool band = round % 8 == 5;
        p->out_row0 = band ? rb : 0;
        const size_t first = band ? 0 : rb, count = re - rb;
        const size_t buf_rows = band ? count : rows;

        KkTestBuf rbuf = kk_test_buf_new (buf_rows * row_bytes + 1);
        uint8_t *expect = kk_test_buf_at (&rbuf, 0);
        ref->qdwconv_u8_nhwc (p, in, expect, rb, re);
        if (t == NULL)
          {
            for (size_t r = rb; r < re; r++)
              for (size_t ox = 0; ox < p->out_w; ox++)
                for (size_t c = 0; c < p->channels; c++)
                  {
                    uint8_t got = expect[(r - p->out_row0) * row_bytes + ox * p->channels + c];
                    uint8_t want = naive_at (p, in, r, ox, c);
                    if (got != want)
                      g_error ("scalar qdwconv at row %zu x %zu c %zu: %u, naive %u (C=%zu k %zux%zu s %zu pad %zu,%zu zp %d)",
                               r, ox, c, got, want, p->channels, p->kernel_h, p->kernel_w,
                               p->stride_h, p->pad_top, p->pad_left, p->input_zero_point);
                  }
          }
        else
          {
            KkTestBuf ob = kk_test_buf_new (buf_rows * row_bytes + 1);
            uint8_t *out = kk_test_buf_at (&ob, (size_t) g_rand_int_range (rand, 0, 64));
            t->qdwconv_u8_nhwc (p, in, out, rb, re);
            kk_test_assert_untouched_before (out + first * row_bytes, KK_TEST_GUARD);
            kk_test_assert_untouched_after (out + (first + count) * row_bytes, KK_TEST_GUARD);
            if (memcmp (out + first * row_bytes, expect + first * row_bytes, count * row_bytes) != 0)
              g_error ("%s qdwconv differs from scalar: C=%zu in %zux%zu k %zux%zu s %zux%zu pad %zu,%zu rows [%zu,%zu) band %d",
                       kk_isa_name (t->isa), p->channels, p->in_h, p->in_w, p->kernel_h, p->kernel_w,
                       p->stride_h, p->stride_w, p->pad_top, p->pad_left, rb, re, band);
            kk_test_buf_free (&ob);
          }
        kk_test_buf_free (&ib);
        kk_test_buf_free (&rbuf);
        case_clear (&cs);
      }
}

static void
test_scalar_vs_naive (void)
{
  run_cases (kk_kernels_get (KK_ISA_SCALAR), NULL, NULL);
}

static void
test_isas (void)
{
  kk_test_each_isa (run_cases, NULL);
}

static void
test_pack_weights (void)
{
  /* ONNX [C][1][kh][kw] -> [kh][kw][C] */
  int8_t onnx[2 * 3 * 3], packed[2 * 3 * 3];
  for (int i = 0; i < 18; i++)
    onnx[i] = (int8_t) i;
  kk_dwconv_s8_pack_weights (onnx, 2, 3, 3, packed);
  for (size_t c = 0; c < 2; c++)
    for (size_t tap = 0; tap < 9; tap++)
      g_assert_cmpint (packed[tap * 2 + c], ==, onnx[c * 9 + tap]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/qdwconv/pack-weights", test_pack_weights);
  g_test_add_func ("/kernels/qdwconv/scalar-vs-naive", test_scalar_vs_naive);
  g_test_add_func ("/kernels/qdwconv/isas", test_isas);
  return g_test_run ();
}
