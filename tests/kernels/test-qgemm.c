/* test-qgemm.c — cross-checks of the int8 gemm family (u8 x s8 -> s32,
 * fused requantisation).
 *
 * 1. The scalar reference against a naive int64 triple loop that applies
 *    the zero point itself (the reference folds it into the packed bias)
 *    and requantises with an explicit floor division, so the oracle is
 *    checked by different arithmetic.
 * 2. Every other ISA the CPU runs against the scalar reference, bit for bit,
 *    both outputs (requantised u8 and raw s32): m across 0..27 (every tile
 *    height and strip remainder), n across every column tail of 4-, 8- and
 *    16-wide vectors and the 1/2/3-vector blocks, k across odd values,
 *    every group remainder of 2 and 4, and chunk edges of the widened A
 *    (KK_QGEMM_CHUNK_K); W given [k][n] and [n][k].
 * 3. Extremes that would saturate any 16-bit intermediate: A all 0 or all
 *    255 with W all 127, all -127 or alternating, zero points 0 and 255,
 *    |bias| up to KK_QGEMM_MAX_ABS_BIAS and k up to KK_QGEMM_MAX_K.
 *
 * A, the packed buffer and C start at misaligned offsets (A and C at any
 * byte, the packed buffer at any int32 boundary) with row strides longer
 * than the rows; A's padding holds random bytes, and every byte of C's
 * buffer outside the m x n cells must keep its guard value.
 */
#include "qgemm-test-util.h"

/* KK_QGEMM_CHUNK_K of kernels/qgemm/qgemm.h: the SIMD versions widen A in
 * chunks of this many k. */
#define CHUNK_K 1024

typedef struct {
  QgemmCase cs;
  KkTestBuf a_buf;
  uint8_t *a;
  int8_t *w;
  int32_t *bias;
  int32_t *mult;
} QInputs;

static void
inputs_init (QInputs *in, const QgemmCase *cs, GRand *rand, Fill a_fill, Fill w_fill, int32_t bias_abs)
{
  memset (in, 0, sizeof *in);
  in->cs = *cs;
  in->a = qgemm_test_fill_a (cs, rand, a_fill, &in->a_buf);

  in->w = g_new (int8_t, cs->k * cs->n + 1);
  for (size_t i = 0; i < cs->k * cs->n; i++)
    {
      int v = g_rand_int_range (rand, -127, 128);
      if (w_fill == FILL_MAX)
        v = 127;
      else if (w_fill == FILL_MIN)
        v = -127;
      else if (w_fill == FILL_ALTERNATE)
        v = (i & 1) ? -127 : 127;
      in->w[i] = (int8_t) v;
    }

  in->bias = g_new (int32_t, cs->n + 1);
  for (size_t j = 0; j < cs->n; j++)
    in->bias[j] = bias_abs == 0 ? 0 : (int32_t) g_rand_int_range (rand, -bias_abs, bias_abs) + (j & 1);

  in->mult = g_new (int32_t, cs->n + 1);
}

static void
inputs_clear (QInputs *in)
{
  kk_test_buf_free (&in->a_buf);
  g_free (in->w);
  g_free (in->bias);
  g_free (in->mult);
}

/* Random int8 weights have a typical magnitude of 73. */
static void
choose_requant (QInputs *in, GRand *rand, bool raw)
{
  qgemm_test_choose_requant (&in->cs, in->mult, rand, raw, 73.0);
}

static void
pack_int8 (const kk_kernels *t, const QgemmCase *cs, const void *data, void *packed)
{
  const QInputs *in = data;
  t->qgemm_u8s8_pack (in->w, cs->k, cs->n, cs->w_is_nk, cs->has_bias ? in->bias : NULL, cs->a_zp,
                      packed);
}

/* Runs a case through a table; returns the dense m x n requantised output
 * and (in *acc_out) the dense s32 accumulators. */
static uint8_t *
run_case (const kk_kernels *t, const QInputs *in, int32_t **acc_out)
{
  return qgemm_test_run (t, &in->cs, in->a, false, pack_int8, in, acc_out);
}

static void
check_against_naive (const QInputs *in, const uint8_t *out, const int32_t *acc)
{
  const QgemmCase *cs = &in->cs;
  for (size_t i = 0; i < cs->m; i++)
    for (size_t j = 0; j < cs->n; j++)
      {
        int64_t sum = cs->has_bias ? in->bias[j] : 0;
        for (size_t kk = 0; kk < cs->k; kk++)
          {
            int64_t w = cs->w_is_nk ? in->w[j * cs->k + kk] : in->w[kk * cs->n + j];
            sum += ((int64_t) in->a[i * cs->lda + kk] - cs->a_zp) * w;
          }
        g_assert_cmpint (sum, >=, INT32_MIN);
        g_assert_cmpint (sum, <=, INT32_MAX);
        int64_t r = kk_test_floor_div_pow2 (sum * in->mult[j] + ((int64_t) 1 << (cs->rq.shift - 1)), cs->rq.shift);
        r += cs->rq.zero_point;
        r = r < cs->rq.lo ? cs->rq.lo : r > cs->rq.hi ? cs->rq.hi : r;
        if (acc[i * cs->n + j] != sum || out[i * cs->n + j] != r)
          {
            g_autofree char *what = qgemm_test_describe (cs);
            g_error ("scalar qgemm at (%zu, %zu): acc %d out %u, naive acc %" G_GINT64_FORMAT
                     " out %" G_GINT64_FORMAT ": %s",
                     i, j, acc[i * cs->n + j], out[i * cs->n + j], sum, r, what);
          }
      }
}

static void
compare (const kk_kernels *t, const QInputs *in, const uint8_t *ref_out, const int32_t *ref_acc)
{
  int32_t *acc;
  g_autofree uint8_t *out = run_case (t, in, &acc);
  g_autofree char *what = g_strdup_printf ("%s qgemm (against scalar)", kk_isa_name (t->isa));
  qgemm_test_assert_same (what, &in->cs, out, acc, ref_out, ref_acc);
  g_free (acc);
}

/* ---- 1. The oracle ------------------------------------------------------ */

static void
test_scalar_vs_naive (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  const size_t ks[] = { 1, 2, 3, 7, 24, 75, 96, 200 };

  for (size_t m = 0; m <= 5; m++)
    for (size_t n = 1; n <= 70; n += 3)
      for (size_t ki = 0; ki < G_N_ELEMENTS (ks); ki++)
        {
          QgemmCase cs = qgemm_test_random_case (rand, m, n, ks[ki]);
          QInputs in;
          inputs_init (&in, &cs, rand, FILL_RANDOM, FILL_RANDOM, 1 << 20);
          choose_requant (&in, rand, (n & 1) != 0);
          int32_t *acc;
          g_autofree uint8_t *out = run_case (ref, &in, &acc);
          check_against_naive (&in, out, acc);
          g_free (acc);
          inputs_clear (&in);
        }
}

/* ---- 2. Every ISA against the oracle ------------------------------------ */

static void
run_one (const kk_kernels *ref, const kk_kernels *t, const QgemmCase *cs, GRand *rand, Fill a_fill,
         Fill w_fill, int32_t bias_abs, bool raw, bool check_naive)
{
  QInputs in;
  inputs_init (&in, cs, rand, a_fill, w_fill, bias_abs);
  choose_requant (&in, rand, raw);
  int32_t *ref_acc;
  g_autofree uint8_t *ref_out = run_case (ref, &in, &ref_acc);
  if (check_naive)
    check_against_naive (&in, ref_out, ref_acc);
  compare (t, &in, ref_out, ref_acc);
  g_free (ref_acc);
  inputs_clear (&in);
}

static void
sweep_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  (void) data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (12);
  const size_t ns[] = { 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 23, 24, 25, 28, 31, 32, 33,
                        36, 40, 42, 47, 48, 49, 56, 63, 64, 65, 72, 80, 88, 96, 97 };
  const size_t ks[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 24, 27, 31, 32, 33, 48, 63, 64,
                        65, 75, 96 };

  for (size_t m = 0; m <= 27; m++)
    for (size_t ni = 0; ni < G_N_ELEMENTS (ns); ni++)
      for (size_t ki = 0; ki < G_N_ELEMENTS (ks); ki++)
        {
          /* every (n, k) at a few m, a random fifth of them at the others */
          if (m > 2 && m != 12 && m != 13 && g_rand_int_range (rand, 0, 5) != 0)
            continue;
          QgemmCase cs = qgemm_test_random_case (rand, m, ns[ni], ks[ki]);
          run_one (ref, t, &cs, rand, FILL_RANDOM, FILL_RANDOM, 1 << 24,
                   g_rand_int_range (rand, 0, 4) == 0, false);
        }

  /* Chunk edges of the widened A and BlazeFace-like shapes. */
  const size_t big[][3] = {
    { 13, 24, CHUNK_K - 1 }, { 13, 24, CHUNK_K }, { 13, 17, CHUNK_K + 1 },
    { 25, 40, 2 * CHUNK_K + 3 }, { 64, 24, 24 }, { 64, 96, 96 }, { 130, 28, 24 },
    { 37, 88, 576 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (big); i++)
    {
      QgemmCase cs = qgemm_test_random_case (rand, big[i][0], big[i][1], big[i][2]);
      run_one (ref, t, &cs, rand, FILL_RANDOM, FILL_RANDOM, 1 << 24, false, true);
    }
}

static void
test_isas (void)
{
  kk_test_each_isa (sweep_isa, NULL);
}

/* ---- 3. Extremes -------------------------------------------------------- */

static void
extremes_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  (void) data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (13);
  const Fill a_fills[] = { FILL_ZERO, FILL_MAX, FILL_RANDOM };
  const Fill w_fills[] = { FILL_MAX, FILL_MIN, FILL_ALTERNATE };
  const uint8_t zps[] = { 0, 255, 128 };
  const size_t ks[] = { 2, 33, 258, 4099, KK_QGEMM_MAX_K };

  for (size_t ai = 0; ai < G_N_ELEMENTS (a_fills); ai++)
    for (size_t wi = 0; wi < G_N_ELEMENTS (w_fills); wi++)
      for (size_t zi = 0; zi < G_N_ELEMENTS (zps); zi++)
        for (size_t ki = 0; ki < G_N_ELEMENTS (ks); ki++)
          {
            size_t k = ks[ki];
            size_t m = k > 5000 ? 3 : 13, n = k > 5000 ? 19 : 25;
            QgemmCase cs = qgemm_test_random_case (rand, m, n, k);
            cs.a_zp = zps[zi];
            cs.has_bias = true;
            run_one (ref, t, &cs, rand, a_fills[ai], w_fills[wi], KK_QGEMM_MAX_ABS_BIAS,
                     zi == 2, true);
          }
}

static void
test_extremes (void)
{
  kk_test_each_isa (extremes_isa, NULL);
}

/* The version this CPU's best table holds is the one the script that chose
 * the (emulated) CPU expects (KESTREL_TEST_QGEMM_VERSION, see test-cpu.c):
 * the sweeps above then checked that version, not another. */
static void
test_version (void)
{
  const kk_kernels *best = kk_kernels_get (kk_isa_best ());
  const char *expected = g_getenv ("KESTREL_TEST_QGEMM_VERSION");

  g_assert_nonnull (best);
  g_test_message ("int8 gemm version of the best table (%s): %s", kk_isa_name (best->isa),
                  best->qgemm_version);
  if (expected == NULL)
    {
      g_test_skip ("no KESTREL_TEST_QGEMM_VERSION to compare with");
      return;
    }
  g_assert_cmpstr (best->qgemm_version, ==, expected);
}

/* ---- Parameter helpers --------------------------------------------------- */

static void
test_requant_from_scales (void)
{
  int32_t mult[3];
  uint32_t shift;
  const double ok[] = { 0.001, 0.0005, 0.0 };
  g_assert_true (kk_requant_from_scales (ok, 3, mult, &shift));
  g_assert_cmpuint (shift, >=, KK_REQUANT_MIN_SHIFT);
  g_assert_cmpuint (shift, <=, KK_REQUANT_MAX_SHIFT);
  for (size_t i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (ldexp ((double) mult[i], -(int) shift), ok[i], 1e-9 * ok[0]);
  g_assert_cmpint (mult[2], ==, 0);

  const double too_big[] = { 0.001, 0.25 };
  g_assert_false (kk_requant_from_scales (too_big, 2, mult, &shift));
  const double negative[] = { -0.001 };
  g_assert_false (kk_requant_from_scales (negative, 1, mult, &shift));
  const double nan_scale[] = { NAN };
  g_assert_false (kk_requant_from_scales (nan_scale, 1, mult, &shift));
  /* tiny scales stop at the largest shift */
  const double tiny[] = { 1e-15 };
  g_assert_true (kk_requant_from_scales (tiny, 1, mult, &shift));
  g_assert_cmpuint (shift, ==, KK_REQUANT_MAX_SHIFT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/qgemm/requant-from-scales", test_requant_from_scales);
  g_test_add_func ("/kernels/qgemm/scalar-vs-naive", test_scalar_vs_naive);
  g_test_add_func ("/kernels/qgemm/version", test_version);
  g_test_add_func ("/kernels/qgemm/isas", test_isas);
  g_test_add_func ("/kernels/qgemm/extremes", test_extremes);
  return g_test_run ();
}
