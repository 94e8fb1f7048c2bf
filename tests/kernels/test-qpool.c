/* test-qpool.c — cross-checks of u8 max pooling (NHWC).
 *
 * 1. The scalar reference against a naive loop that tests each tap against
 *    the input bounds itself.
 * 2. Every other ISA against scalar, bit for bit: windows 1..3 x 1..3 (2x2
 *    stride 2 as in BlazeFace), strides 1..3, dilations 1..2, paddings up
 *    to the window, channel counts across every vector tail (1..70, 96,
 *    130), batches 1 and 2, whole tensors and row ranges, inputs misaligned
 *    and all 0 or all 255 as well as random. Bytes around the output range
 *    must stay untouched.
 */
#include "kk-test-util.h"

static uint8_t
naive_at (const kk_pool_params *p, const uint8_t *in, size_t r, size_t ox, size_t c)
{
  const size_t n = r / p->out_h, oy = r % p->out_h;
  uint8_t m = 0;
  for (size_t ky = 0; ky < p->kernel_h; ky++)
    for (size_t kx = 0; kx < p->kernel_w; kx++)
      {
        ptrdiff_t iy = (ptrdiff_t) (oy * p->stride_h + ky * p->dilation_h) - (ptrdiff_t) p->pad_top;
        ptrdiff_t ix = (ptrdiff_t) (ox * p->stride_w + kx * p->dilation_w) - (ptrdiff_t) p->pad_left;
        if (iy < 0 || ix < 0 || iy >= (ptrdiff_t) p->in_h || ix >= (ptrdiff_t) p->in_w)
          continue;
        uint8_t v = in[((n * p->in_h + (size_t) iy) * p->in_w + (size_t) ix) * p->channels + c];
        m = v > m ? v : m;
      }
  return m;
}

static bool
random_params (GRand *rand, size_t channels, kk_pool_params *p)
{
  memset (p, 0, sizeof *p);
  p->batch = (size_t) g_rand_int_range (rand, 1, 3);
  p->channels = channels;
  p->in_h = (size_t) g_rand_int_range (rand, 1, 10);
  p->in_w = (size_t) g_rand_int_range (rand, 1, 10);
  p->kernel_h = (size_t) g_rand_int_range (rand, 1, 4);
  p->kernel_w = (size_t) g_rand_int_range (rand, 1, 4);
  p->stride_h = (size_t) g_rand_int_range (rand, 1, 4);
  p->stride_w = (size_t) g_rand_int_range (rand, 1, 4);
  p->dilation_h = (size_t) g_rand_int_range (rand, 1, 3);
  p->dilation_w = (size_t) g_rand_int_range (rand, 1, 3);
  if (g_rand_int_range (rand, 0, 3) == 0)
    {
      p->kernel_h = p->kernel_w = p->stride_h = p->stride_w = 2;
      p->dilation_h = p->dilation_w = 1;
    }
  p->pad_top = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_h);
  p->pad_left = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_w);
  size_t pad_bottom = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_h);
  size_t pad_right = (size_t) g_rand_int_range (rand, 0, (int) p->kernel_w);
  size_t eff_h = (p->kernel_h - 1) * p->dilation_h + 1, eff_w = (p->kernel_w - 1) * p->dilation_w + 1;
  if (p->in_h + p->pad_top + pad_bottom < eff_h || p->in_w + p->pad_left + pad_right < eff_w)
    return false;
  p->out_h = (p->in_h + p->pad_top + pad_bottom - eff_h) / p->stride_h + 1;
  p->out_w = (p->in_w + p->pad_left + pad_right - eff_w) / p->stride_w + 1;
  return true;
}

static void
run_cases (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  (void) data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (t == NULL ? 41 : 42 + (guint32) t->isa);
  size_t channels[KK_TEST_MAX_CHANNEL_COUNTS];
  const size_t nc = kk_test_channel_counts (channels);

  for (size_t ci = 0; ci < nc; ci++)
    for (int round = 0; round < 12; round++)
      {
        kk_pool_params p;
        if (!random_params (rand, channels[ci], &p))
          continue;
        const size_t in_bytes = p.batch * p.in_h * p.in_w * p.channels;
        const size_t rows = p.batch * p.out_h, row_bytes = p.out_w * p.channels;
        KkTestBuf ib = kk_test_buf_new (in_bytes + 1);
        uint8_t *in = kk_test_buf_at (&ib, (size_t) g_rand_int_range (rand, 0, 64));
        kk_test_fill_u8_mode (rand, in, in_bytes, round % 6);
        size_t rb = 0, re = rows;
        if (round % 3 == 2)
          kk_test_random_rows (rand, rows, &rb, &re);
        KkTestBuf ob = kk_test_buf_new (rows * row_bytes + 1), rbuf = kk_test_buf_new (rows * row_bytes + 1);
        uint8_t *out = kk_test_buf_at (&ob, (size_t) g_rand_int_range (rand, 0, 64));
        uint8_t *expect = kk_test_buf_at (&rbuf, 0);

        ref->maxpool_u8_nhwc (&p, in, expect, rb, re);
        if (t == NULL)
          {
            for (size_t r = rb; r < re; r++)
              for (size_t ox = 0; ox < p.out_w; ox++)
                for (size_t c = 0; c < p.channels; c++)
                  g_assert_cmpuint (expect[r * row_bytes + ox * p.channels + c], ==, naive_at (&p, in, r, ox, c));
          }
        else
          {
            t->maxpool_u8_nhwc (&p, in, out, rb, re);
            kk_test_assert_untouched_before (out + rb * row_bytes, KK_TEST_GUARD);
            kk_test_assert_untouched_after (out + re * row_bytes, KK_TEST_GUARD);
            if (memcmp (out + rb * row_bytes, expect + rb * row_bytes, (re - rb) * row_bytes) != 0)
              g_error ("%s maxpool_u8 differs from scalar: C=%zu in %zux%zu k %zux%zu s %zux%zu d %zux%zu pad %zu,%zu rows [%zu,%zu)",
                       kk_isa_name (t->isa), p.channels, p.in_h, p.in_w, p.kernel_h, p.kernel_w,
                       p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, rb, re);
          }
        kk_test_buf_free (&ib);
        kk_test_buf_free (&ob);
        kk_test_buf_free (&rbuf);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/qpool/scalar-vs-naive", test_scalar_vs_naive);
  g_test_add_func ("/kernels/qpool/isas", test_isas);
  return g_test_run ();
}
