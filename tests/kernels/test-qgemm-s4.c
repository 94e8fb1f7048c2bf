/* test-qgemm-s4.c — cross-checks of the INT4-weight gemm (u8 x s4 blocks
 * -> s32, fused requantisation; kestrel-kernels.h, "INT4 weights").
 *
 * 1. The scalar reference against a naive int64 loop that widens each
 *    weight itself (m * (q - z)), applies the activations' zero point and
 *    requantises with an explicit floor division.
 * 2. The definition: the result equals the int8 gemm's (qgemm_u8s8) on the
 *    widened weights, in the same table, bit for bit.
 * 3. Every other ISA the CPU runs against the scalar reference, bit for
 *    bit, both outputs (u8 and s32): m over every tile height and strip
 *    remainder, n over every column tail and 1/2/3-vector block, k over
 *    odd values, every group remainder and the 32-weight block edges
 *    (31, 32, 33, 63, 64, 65, ...), q given [k][n] and [n][k].
 * 4. Extremes: A all 0 or all 255, widened weights all +127, all -127 or
 *    alternating (m = 127, q - z = +-1; m = 18, q - z = +-7), zero points
 *    0 and 255, |bias| up to KK_QGEMM_MAX_ABS_BIAS, k up to
 *    KK_QGEMM_S4_MAX_K.
 * 5. AVX-512 by name: run where the CPU has it, else the test is skipped
 *    and says that this CPU lacks it (so a log shows it was not checked).
 *
 * A, the packed buffer and C start at misaligned offsets with row strides
 * longer than the rows; A's padding holds random bytes, and every byte of
 * C's buffer outside the m x n cells must keep its guard value.
 */
#include <stdlib.h>

#include "qgemm-test-util.h"

typedef struct {
  QgemmCase cs;
  KkTestBuf a_buf;
  uint8_t *a;
  uint8_t *q, *bm, *bz;  /* q as the case's layout; m, z [n][kblocks] */
  int8_t *w;             /* the widened weights, [k][n] or [n][k] like q */
  int32_t *bias, *mult;
} S4Inputs;

static size_t
kblocks_of (size_t k)
{
  return (k + KK_QGEMM_S4_BLOCK - 1) / KK_QGEMM_S4_BLOCK;
}

static void
inputs_init (S4Inputs *in, const QgemmCase *cs, GRand *rand, Fill a_fill, Fill w_fill, int32_t bias_abs)
{
  const size_t kb = kblocks_of (cs->k);

  memset (in, 0, sizeof *in);
  in->cs = *cs;
  in->a = qgemm_test_fill_a (cs, rand, a_fill, &in->a_buf);

  in->bm = g_new (uint8_t, cs->n * kb + 1);
  in->bz = g_new (uint8_t, cs->n * kb + 1);
  for (size_t i = 0; i < cs->n * kb; i++)
    {
      int z = g_rand_int_range (rand, 0, 16);
      int reach = MAX (z, 15 - z);     /* largest |q - z| any q can give */
      int m = g_rand_int_range (rand, 0, 127 / reach + 1);
      if (w_fill != FILL_RANDOM)
        {
          /* alternately m = 127 with q - z = +-1 and m = 18 with +-7 */
          z = 8;
          m = (i & 1) ? 127 : 18;
        }
      in->bm[i] = (uint8_t) m;
      in->bz[i] = (uint8_t) z;
    }

  in->q = g_new (uint8_t, cs->k * cs->n + 1);
  in->w = g_new (int8_t, cs->k * cs->n + 1);
  for (size_t kk = 0; kk < cs->k; kk++)
    for (size_t j = 0; j < cs->n; j++)
      {
        size_t idx = cs->w_is_nk ? j * cs->k + kk : kk * cs->n + j;
        size_t blk = j * kb + kk / KK_QGEMM_S4_BLOCK;
        int m = in->bm[blk], z = in->bz[blk];
        int q = g_rand_int_range (rand, 0, 16);
        int sign = w_fill == FILL_MAX ? 1 : w_fill == FILL_MIN ? -1 : (idx & 1) ? -1 : 1;
        if (w_fill != FILL_RANDOM)
          q = z + sign * (m == 127 ? 1 : 7);
        in->q[idx] = (uint8_t) q;
        in->w[idx] = (int8_t) (m * (q - z));
        g_assert_cmpint (abs (m * (q - z)), <=, 127);
      }

  in->bias = g_new (int32_t, cs->n + 1);
  for (size_t j = 0; j < cs->n; j++)
    in->bias[j] = bias_abs == 0 ? 0 : (int32_t) g_rand_int_range (rand, -bias_abs, bias_abs) + (j & 1);
  in->mult = g_new (int32_t, cs->n + 1);
}

static void
inputs_clear (S4Inputs *in)
{
  kk_test_buf_free (&in->a_buf);
  g_free (in->q);
  g_free (in->bm);
  g_free (in->bz);
  g_free (in->w);
  g_free (in->bias);
  g_free (in->mult);
}

/* Random widened weights have a typical magnitude of about 40. */
static void
choose_requant (S4Inputs *in, GRand *rand, bool raw)
{
  qgemm_test_choose_requant (&in->cs, in->mult, rand, raw, 40.0);
}

/* The nibbles with their m and z (INT4 entries), or the widened weights
 * (int8 entries). */
static void
pack_int4 (const kk_kernels *t, const QgemmCase *cs, const void *data, void *packed)
{
  const S4Inputs *in = data;
  t->qgemm_u8s4_pack (in->q, in->bm, in->bz, cs->k, cs->n, cs->w_is_nk,
                      cs->has_bias ? in->bias : NULL, cs->a_zp, packed);
}

static void
pack_widened (const kk_kernels *t, const QgemmCase *cs, const void *data, void *packed)
{
  const S4Inputs *in = data;
  t->qgemm_u8s8_pack (in->w, cs->k, cs->n, cs->w_is_nk, cs->has_bias ? in->bias : NULL, cs->a_zp,
                      packed);
}

/* Runs a case through a table, INT4 entries or (int8) the u8s8 ones on
 * the widened weights: the dense u8 output, and the s32 one in *acc_out. */
static uint8_t *
run_case (const kk_kernels *t, const S4Inputs *in, bool int8, int32_t **acc_out)
{
  return qgemm_test_run (t, &in->cs, in->a, !int8, int8 ? pack_widened : pack_int4, in, acc_out);
}

static void
check_against_naive (const S4Inputs *in, const uint8_t *out, const int32_t *acc)
{
  const QgemmCase *cs = &in->cs;
  const size_t kb = kblocks_of (cs->k);
  for (size_t i = 0; i < cs->m; i++)
    for (size_t j = 0; j < cs->n; j++)
      {
        int64_t sum = cs->has_bias ? in->bias[j] : 0;
        for (size_t kk = 0; kk < cs->k; kk++)
          {
            size_t blk = j * kb + kk / KK_QGEMM_S4_BLOCK;
            int64_t q = cs->w_is_nk ? in->q[j * cs->k + kk] : in->q[kk * cs->n + j];
            int64_t w = (int64_t) in->bm[blk] * (q - in->bz[blk]);
            sum += ((int64_t) in->a[i * cs->lda + kk] - cs->a_zp) * w;
          }
        g_assert_cmpint (sum, >=, INT32_MIN);
        g_assert_cmpint (sum, <=, INT32_MAX);
        int64_t r = kk_test_floor_div_pow2 (sum * in->mult[j] + ((int64_t) 1 << (cs->rq.shift - 1)),
                                            cs->rq.shift);
        r += cs->rq.zero_point;
        r = r < cs->rq.lo ? cs->rq.lo : r > cs->rq.hi ? cs->rq.hi : r;
        if (acc[i * cs->n + j] != sum || out[i * cs->n + j] != r)
          {
            g_autofree char *what = qgemm_test_describe (cs);
            g_error ("scalar int4 qgemm at (%zu, %zu): acc %d out %u, naive acc %" G_GINT64_FORMAT
                     " out %" G_GINT64_FORMAT ": %s",
                     i, j, acc[i * cs->n + j], out[i * cs->n + j], sum, r, what);
          }
      }
}

/* One case: the reference (checked against the naive loop when asked),
 * then `t` against it, and (check_int8) `t`'s int8 gemm on the widened
 * weights against it too. */
static void
run_one (const kk_kernels *ref, const kk_kernels *t, const QgemmCase *cs, GRand *rand, Fill a_fill,
         Fill w_fill, int32_t bias_abs, bool raw, bool check_naive, bool check_int8)
{
  S4Inputs in;
  inputs_init (&in, cs, rand, a_fill, w_fill, bias_abs);
  choose_requant (&in, rand, raw);
  int32_t *ref_acc, *acc;
  g_autofree uint8_t *ref_out = run_case (ref, &in, false, &ref_acc);
  if (check_naive)
    check_against_naive (&in, ref_out, ref_acc);
  if (t != ref)
    {
      g_autofree uint8_t *out = run_case (t, &in, false, &acc);
      g_autofree char *what = g_strdup_printf ("%s int4 qgemm (against scalar)", kk_isa_name (t->isa));
      qgemm_test_assert_same (what, &in.cs, out, acc, ref_out, ref_acc);
      g_free (acc);
    }
  if (check_int8)
    {
      g_autofree uint8_t *out = run_case (t, &in, true, &acc);
      g_autofree char *what = g_strdup_printf ("%s int8 qgemm on the widened weights", kk_isa_name (t->isa));
      qgemm_test_assert_same (what, &in.cs, out, acc, ref_out, ref_acc);
      g_free (acc);
    }
  g_free (ref_acc);
  inputs_clear (&in);
}

/* ---- 1 and 2. The oracle and the definition ------------------------------ */

static void
test_scalar_vs_naive (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (41);
  const size_t ks[] = { 1, 2, 3, 7, 31, 32, 33, 75, 96, 200 };

  for (size_t m = 0; m <= 5; m++)
    for (size_t n = 1; n <= 70; n += 3)
      for (size_t ki = 0; ki < G_N_ELEMENTS (ks); ki++)
        {
          QgemmCase cs = qgemm_test_random_case (rand, m, n, ks[ki]);
          run_one (ref, ref, &cs, rand, FILL_RANDOM, FILL_RANDOM, 1 << 20, (n & 1) != 0, true, true);
        }
}

/* ---- 3. Every ISA against the oracle ------------------------------------ */

static void
sweep_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  (void) data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  const size_t ns[] = { 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47,
                        48, 49, 63, 64, 65, 72, 96, 97 };
  const size_t ks[] = { 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 27, 31, 32, 33, 48, 63, 64, 65, 75, 96,
                        97, 129 };

  g_test_message ("%s: int4 gemm over the %s int8 tiles", kk_isa_name (t->isa), t->qgemm_version);
  for (size_t m = 0; m <= 27; m++)
    for (size_t ni = 0; ni < G_N_ELEMENTS (ns); ni++)
      for (size_t ki = 0; ki < G_N_ELEMENTS (ks); ki++)
        {
          if (m > 2 && m != 12 && m != 13 && g_rand_int_range (rand, 0, 6) != 0)
            continue;
          QgemmCase cs = qgemm_test_random_case (rand, m, ns[ni], ks[ki]);
          run_one (ref, t, &cs, rand, FILL_RANDOM, FILL_RANDOM, 1 << 24,
                   g_rand_int_range (rand, 0, 4) == 0, false, m == 13);
        }

  /* BlazeFace-like shapes and long k. */
  const size_t big[][3] = {
    { 64, 24, 24 }, { 64, 96, 96 }, { 130, 28, 24 }, { 37, 88, 576 }, { 29, 40, 1023 },
    { 13, 17, KK_QGEMM_S4_MAX_K },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (big); i++)
    {
      QgemmCase cs = qgemm_test_random_case (rand, big[i][0], big[i][1], big[i][2]);
      run_one (ref, t, &cs, rand, FILL_RANDOM, FILL_RANDOM, 1 << 24, false, true, true);
    }
}

static void
test_isas (void)
{
  kk_test_each_isa (sweep_isa, NULL);
}

/* ---- 4. Extremes -------------------------------------------------------- */

static void
extremes_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  (void) data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (43);
  const Fill a_fills[] = { FILL_ZERO, FILL_MAX, FILL_RANDOM };
  const Fill w_fills[] = { FILL_MAX, FILL_MIN, FILL_ALTERNATE };
  const uint8_t zps[] = { 0, 255, 128 };
  const size_t ks[] = { 2, 33, 258, 1000, KK_QGEMM_S4_MAX_K };

  for (size_t ai = 0; ai < G_N_ELEMENTS (a_fills); ai++)
    for (size_t wi = 0; wi < G_N_ELEMENTS (w_fills); wi++)
      for (size_t zi = 0; zi < G_N_ELEMENTS (zps); zi++)
        for (size_t ki = 0; ki < G_N_ELEMENTS (ks); ki++)
          {
            QgemmCase cs = qgemm_test_random_case (rand, 13, 25, ks[ki]);
            cs.a_zp = zps[zi];
            cs.has_bias = true;
            run_one (ref, t, &cs, rand, a_fills[ai], w_fills[wi], KK_QGEMM_MAX_ABS_BIAS, zi == 2,
                     true, false);
          }
}

static void
test_extremes (void)
{
  kk_test_each_isa (extremes_isa, NULL);
}

/* ---- 5. AVX-512 by name ------------------------------------------------- */

static void
test_avx512 (void)
{
#if defined(__x86_64__) || defined(__i386__)
  const kk_kernels *t = kk_kernels_get (KK_ISA_AVX512);
  if (t == NULL)
    {
      g_test_skip ("this CPU lacks AVX-512 (AVX512F/BW/VL), so the AVX-512 int4 gemm (compiled) "
                   "cannot run here: it is checked on a CPU that has it");
      return;
    }
  sweep_isa (kk_kernels_get (KK_ISA_SCALAR), t, NULL);
  extremes_isa (kk_kernels_get (KK_ISA_SCALAR), t, NULL);
#else
  g_test_skip ("AVX-512 is an x86 instruction set");
#endif
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/qgemm-s4/scalar-vs-naive", test_scalar_vs_naive);
  g_test_add_func ("/kernels/qgemm-s4/isas", test_isas);
  g_test_add_func ("/kernels/qgemm-s4/extremes", test_extremes);
  g_test_add_func ("/kernels/qgemm-s4/avx512", test_avx512);
  return g_test_run ();
}
