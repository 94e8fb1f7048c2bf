/* test-qeltwise.c — cross-checks of the requantising add and rescale (u8).
 *
 * 1. The scalar reference against a naive int64 formula with an explicit
 *    floor division (so the oracle is checked by different arithmetic).
 * 2. Every other ISA against scalar, bit for bit, over every n in 0..300
 *    and some large ones, misaligned pointers, in place (y == a), random
 *    parameters from real scales and raw extreme ones (multipliers up to
 *    KK_QADD_MAX_MULTIPLIER, shifts 1 and 31, zero points 0 and 255, inputs
 *    all 0 or all 255). Bytes after the output must stay untouched.
 */
#include "kk-test-util.h"

static uint8_t
naive (int a, int b, const kk_qadd_params *p, bool add)
{
  int64_t t = (int64_t) (a - p->zero_point_a) * p->multiplier_a;
  if (add)
    t += (int64_t) (b - p->zero_point_b) * p->multiplier_b;
  int64_t r = kk_test_floor_div_pow2 (t + ((int64_t) 1 << (p->shift - 1)), p->shift) + p->zero_point;
  return (uint8_t) (r < p->lo ? p->lo : r > p->hi ? p->hi : r);
}

static void
random_params (GRand *rand, kk_qadd_params *p, int kind)
{
  memset (p, 0, sizeof *p);
  if (kind == 0)
    {
      double so = g_rand_double_range (rand, 0.01, 0.1);
      g_assert_true (kk_qadd_params_from_scales (g_rand_double_range (rand, 0.005, 0.2),
                                                 g_rand_double_range (rand, 0.0, 0.2), so, p));
    }
  else
    {
      p->multiplier_a = kind == 1 ? KK_QADD_MAX_MULTIPLIER : g_rand_int_range (rand, 0, KK_QADD_MAX_MULTIPLIER + 1);
      p->multiplier_b = kind == 1 ? KK_QADD_MAX_MULTIPLIER : g_rand_int_range (rand, 0, KK_QADD_MAX_MULTIPLIER + 1);
      p->shift = kind == 1 ? 31 : kind == 2 ? 1 : (uint32_t) g_rand_int_range (rand, 1, 32);
    }
  p->zero_point_a = g_rand_boolean (rand) ? g_rand_int_range (rand, 0, 256) : (g_rand_boolean (rand) ? 0 : 255);
  p->zero_point_b = g_rand_int_range (rand, 0, 256);
  p->zero_point = g_rand_int_range (rand, 0, 256);
  p->lo = 0;
  p->hi = 255;
  if (g_rand_boolean (rand))
    {
      p->lo = (uint8_t) g_rand_int_range (rand, 0, 128);
      p->hi = (uint8_t) g_rand_int_range (rand, p->lo, 256);
    }
}

static void
fill (GRand *rand, uint8_t *x, size_t n, int mode)
{
  for (size_t i = 0; i < n; i++)
    x[i] = mode == 0 ? (uint8_t) g_rand_int_range (rand, 0, 256) : mode == 1 ? 0 : 255;
}

static void
test_scalar_vs_naive (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (31);
  uint8_t a[256], b[256], y[256];

  for (int round = 0; round < 400; round++)
    {
      kk_qadd_params p;
      random_params (rand, &p, round % 4);
      fill (rand, a, 256, 0);
      fill (rand, b, 256, 0);
      a[0] = 0, a[1] = 255, b[0] = 255, b[1] = 0;
      ref->qadd_u8 (a, b, y, 256, &p);
      for (size_t i = 0; i < 256; i++)
        g_assert_cmpuint (y[i], ==, naive (a[i], b[i], &p, true));
      ref->qrescale_u8 (a, y, 256, &p);
      for (size_t i = 0; i < 256; i++)
        g_assert_cmpuint (y[i], ==, naive (a[i], 0, &p, false));
    }
}

static void
check_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  (void) data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (32);
  g_autoptr (GArray) sizes = kk_test_sizes ();

  for (guint si = 0; si < sizes->len; si++)
    {
      const size_t n = g_array_index (sizes, size_t, si);
      if (n > 100000 && si % 2)
        continue;
      kk_qadd_params p;
      random_params (rand, &p, (int) (si % 4));
      const int mode = si % 7 == 3 ? 1 : si % 7 == 5 ? 2 : 0;
      const size_t ma = (size_t) g_rand_int_range (rand, 0, 64), mb = (size_t) g_rand_int_range (rand, 0, 64);
      const size_t my = (size_t) g_rand_int_range (rand, 0, 64);
      KkTestBuf ab = kk_test_buf_new (n + 1), bb = kk_test_buf_new (n + 1);
      KkTestBuf yb = kk_test_buf_new (n + 1), rb = kk_test_buf_new (n + 1);
      uint8_t *a = kk_test_buf_at (&ab, ma), *b = kk_test_buf_at (&bb, mb);
      uint8_t *y = kk_test_buf_at (&yb, my), *r = kk_test_buf_at (&rb, 0);
      fill (rand, a, n, mode);
      fill (rand, b, n, mode == 1 ? 2 : mode);

      for (int op = 0; op < 2; op++)
        {
          if (op == 0)
            {
              ref->qadd_u8 (a, b, r, n, &p);
              t->qadd_u8 (a, b, y, n, &p);
            }
          else
            {
              ref->qrescale_u8 (a, r, n, &p);
              t->qrescale_u8 (a, y, n, &p);
            }
          kk_test_assert_untouched_after (y + n, KK_TEST_GUARD);
          kk_test_assert_untouched_before (y, KK_TEST_GUARD);
          if (memcmp (y, r, n) != 0)
            g_error ("%s %s differs from scalar, n=%zu shift=%u", kk_isa_name (t->isa),
                     op == 0 ? "qadd_u8" : "qrescale_u8", n, p.shift);
        }

      /* in place: y == a */
      if (n <= 4096)
        {
          g_autofree uint8_t *copy = g_memdup2 (a, n + 1);
          t->qadd_u8 (a, b, a, n, &p);
          ref->qadd_u8 (copy, b, r, n, &p);
          g_assert_true (memcmp (a, r, n) == 0);
        }
      kk_test_buf_free (&ab);
      kk_test_buf_free (&bb);
      kk_test_buf_free (&yb);
      kk_test_buf_free (&rb);
    }
}

static void
test_isas (void)
{
  kk_test_each_isa (check_isa, NULL);
}

static void
test_params_from_scales (void)
{
  kk_qadd_params p = { 0 };
  g_assert_true (kk_qadd_params_from_scales (0.02, 0.03, 0.04, &p));
  g_assert_cmpint (p.multiplier_b, <=, KK_QADD_MAX_MULTIPLIER);
  g_assert_cmpfloat_with_epsilon ((double) p.multiplier_a / (double) (1u << p.shift), 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon ((double) p.multiplier_b / (double) (1u << p.shift), 0.75, 1e-6);
  g_assert_true (kk_qadd_params_from_scales (0.02, 0.0, 0.01, &p));  /* a rescale by 2 */
  g_assert_cmpint (p.multiplier_b, ==, 0);
  g_assert_false (kk_qadd_params_from_scales (1.0, 0.0, 1e-7, &p));  /* ratio > 2^20 */
  g_assert_false (kk_qadd_params_from_scales (0.1, 0.1, 0.0, &p));
  g_assert_false (kk_qadd_params_from_scales (-0.1, 0.1, 0.1, &p));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/qeltwise/params-from-scales", test_params_from_scales);
  g_test_add_func ("/kernels/qeltwise/scalar-vs-naive", test_scalar_vs_naive);
  g_test_add_func ("/kernels/qeltwise/isas", test_isas);
  return g_test_run ();
}
