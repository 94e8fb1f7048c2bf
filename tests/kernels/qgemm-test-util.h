/* qgemm-test-util.h — what the int8 and the INT4 gemm cross-checks
 * (test-qgemm.c, test-qgemm-s4.c) share: a case (sizes, strides,
 * misalignments, zero points, requantisation), A's fill, the choice of
 * multipliers, the run of one case through a table with C's guard bytes
 * checked, and the bit-for-bit comparison. What differs between them is
 * the weights: each test fills its own and packs them in run's callback.
 */
#pragma once

#include <math.h>

#include "kk-test-util.h"

typedef struct {
  size_t m, n, k;
  bool w_is_nk, has_bias;     /* the weights given [n][k], not [k][n] */
  size_t lda, ldc;
  size_t a_mis, c_mis, p_mis; /* bytes; p_mis a multiple of 4 */
  uint8_t a_zp;
  kk_requant rq;
} QgemmCase;

typedef enum { FILL_RANDOM, FILL_ZERO, FILL_MAX, FILL_MIN, FILL_ALTERNATE } Fill;

static inline QgemmCase
qgemm_test_random_case (GRand *rand, size_t m, size_t n, size_t k)
{
  QgemmCase cs = { .m = m, .n = n, .k = k };
  cs.w_is_nk = g_rand_boolean (rand);
  cs.has_bias = g_rand_int_range (rand, 0, 4) != 0;
  cs.lda = k + (size_t) g_rand_int_range (rand, 0, 3) * (size_t) g_rand_int_range (rand, 1, 40);
  cs.ldc = n + (size_t) g_rand_int_range (rand, 0, 2) * (size_t) g_rand_int_range (rand, 1, 20);
  cs.a_mis = (size_t) g_rand_int_range (rand, 0, 64);
  cs.c_mis = (size_t) g_rand_int_range (rand, 0, 64);
  cs.p_mis = 4 * (size_t) g_rand_int_range (rand, 0, 16);
  cs.a_zp = (uint8_t) g_rand_int_range (rand, 0, 256);
  return cs;
}

/* A, m rows of lda bytes at the case's misalignment: the k columns as
 * a_fill says, the padding beyond them random (a kernel must not read it
 * into a sum). */
static inline uint8_t *
qgemm_test_fill_a (const QgemmCase *cs, GRand *rand, Fill a_fill, KkTestBuf *a_buf)
{
  *a_buf = kk_test_buf_new (cs->m * cs->lda + 1);
  uint8_t *a = kk_test_buf_at (a_buf, cs->a_mis);
  for (size_t i = 0; i < cs->m * cs->lda; i++)
    {
      size_t x = i % cs->lda;
      uint8_t v = (uint8_t) g_rand_int_range (rand, 0, 256);
      if (x < cs->k && a_fill == FILL_ZERO)
        v = 0;
      else if (x < cs->k && a_fill == FILL_MAX)
        v = 255;
      a[i] = v;
    }
  return a;
}

/* Per-channel multipliers (into mult, n of them) that spread the outputs
 * over the u8 range for random data (and saturate some): real scales
 * around 100 / (typical |acc|), typical_w being the weights' typical
 * magnitude, chosen through kk_requant_from_scales as a plan would; with
 * a dead channel. Or (raw) any legal multiplier and shift, most of them
 * saturating. Then a zero point and a clamp: none, Relu's or a range. */
static inline void
qgemm_test_choose_requant (QgemmCase *cs, int32_t *mult, GRand *rand, bool raw, double typical_w)
{
  if (raw)
    {
      cs->rq.shift = (uint32_t) g_rand_int_range (rand, KK_REQUANT_MIN_SHIFT, KK_REQUANT_MAX_SHIFT + 1);
      for (size_t j = 0; j < cs->n; j++)
        mult[j] = (int32_t) (g_rand_int (rand) >> 1);
    }
  else
    {
      double typical = 64.0 * typical_w * sqrt ((double) cs->k) + 1.0;
      double *scales = g_new (double, cs->n + 1);
      for (size_t j = 0; j < cs->n; j++)
        scales[j] = g_rand_double_range (rand, 0.2, 1.0) * 100.0 / typical;
      if (cs->n > 2)
        scales[1] = 0.0;  /* a dead channel */
      g_assert_true (kk_requant_from_scales (scales, cs->n, mult, &cs->rq.shift));
      g_free (scales);
    }
  cs->rq.multiplier = mult;
  cs->rq.zero_point = g_rand_int_range (rand, 0, 256);
  cs->rq.lo = 0;
  cs->rq.hi = 255;
  switch (g_rand_int_range (rand, 0, 3))
    {
    case 0:
      break;
    case 1:  /* Relu */
      cs->rq.lo = (uint8_t) cs->rq.zero_point;
      break;
    default:
      cs->rq.lo = (uint8_t) g_rand_int_range (rand, 0, 128);
      cs->rq.hi = (uint8_t) g_rand_int_range (rand, cs->rq.lo, 256);
      break;
    }
}

static inline char *
qgemm_test_describe (const QgemmCase *cs)
{
  return g_strdup_printf ("m=%zu n=%zu k=%zu W=%s bias=%d lda=%zu ldc=%zu a_zp=%u out_zp=%d "
                          "shift=%u clamp=[%u,%u] misalign a=%zu c=%zu packed=%zu",
                          cs->m, cs->n, cs->k, cs->w_is_nk ? "[n][k]" : "[k][n]", cs->has_bias,
                          cs->lda, cs->ldc, cs->a_zp, cs->rq.zero_point, cs->rq.shift, cs->rq.lo,
                          cs->rq.hi, cs->a_mis, cs->c_mis, cs->p_mis);
}

/* Every byte of C's buffer outside the m x n cells still holds the guard. */
static inline void
qgemm_test_assert_c_guards (const char *what_ran, const QgemmCase *cs, const KkTestBuf *c_buf,
                            const void *c, size_t elem)
{
  const guint8 *base = c_buf->base, *c_bytes = c;
  size_t total = kk_test_buf_alloc_size (c_buf);
  for (size_t off = 0; off < total; off++)
    {
      const guint8 *p = base + off;
      if (p >= c_bytes && p < c_bytes + cs->m * cs->ldc * elem)
        {
          size_t idx = (size_t) (p - c_bytes) / elem;
          if (idx % cs->ldc < cs->n)
            continue;
        }
      if (*p != KK_TEST_GUARD_BYTE)
        {
          g_autofree char *what = qgemm_test_describe (cs);
          g_error ("%s wrote outside C (byte %td from C's start): %s", what_ran,
                   (ptrdiff_t) (p - c_bytes), what);
        }
    }
}

/* Packs the case's weights (the test's own, in data) for table t into
 * packed, which is t's packed size for the case's k and n. */
typedef void (*QgemmTestPack) (const kk_kernels *t, const QgemmCase *cs, const void *data,
                               void *packed);

/* Runs a case through table t, its INT4 entries (int4) or its int8 ones:
 * packs with pack (checking nothing is written past the packed size),
 * then both outputs into guarded, misaligned buffers. Returns the dense
 * m x n requantised output and, in *acc_out, the dense s32 sums. */
static inline uint8_t *
qgemm_test_run (const kk_kernels *t, const QgemmCase *cs, const uint8_t *a, bool int4,
                QgemmTestPack pack, const void *data, int32_t **acc_out)
{
  g_autofree char *what_ran = g_strdup_printf ("%s %s qgemm", kk_isa_name (t->isa),
                                               int4 ? "int4" : "int8");
  size_t packed_bytes = int4 ? t->qgemm_u8s4_packed_size (cs->k, cs->n)
                             : t->qgemm_u8s8_packed_size (cs->k, cs->n);
  KkTestBuf p_buf = kk_test_buf_new (packed_bytes + 4);
  void *packed = kk_test_buf_at (&p_buf, cs->p_mis);
  pack (t, cs, data, packed);
  kk_test_assert_untouched_after ((guint8 *) packed + packed_bytes, KK_TEST_GUARD);

  KkTestBuf c_buf = kk_test_buf_new (cs->m * cs->ldc + 1);
  uint8_t *c = kk_test_buf_at (&c_buf, cs->c_mis);
  (int4 ? t->qgemm_u8s4_requant : t->qgemm_u8s8_requant) (cs->m, cs->n, cs->k, a, cs->lda,
                                                          packed, c, cs->ldc, &cs->rq);
  qgemm_test_assert_c_guards (what_ran, cs, &c_buf, c, 1);

  KkTestBuf s_buf = kk_test_buf_new ((cs->m * cs->ldc + 1) * sizeof (int32_t));
  int32_t *s = kk_test_buf_at (&s_buf, cs->c_mis & ~(size_t) 3);
  (int4 ? t->qgemm_u8s4_s32 : t->qgemm_u8s8_s32) (cs->m, cs->n, cs->k, a, cs->lda, packed, s,
                                                  cs->ldc);
  qgemm_test_assert_c_guards (what_ran, cs, &s_buf, s, sizeof (int32_t));

  uint8_t *out = g_new (uint8_t, cs->m * cs->n + 1);
  int32_t *acc = g_new (int32_t, cs->m * cs->n + 1);
  for (size_t i = 0; i < cs->m; i++)
    {
      memcpy (out + i * cs->n, c + i * cs->ldc, cs->n);
      memcpy (acc + i * cs->n, s + i * cs->ldc, cs->n * sizeof (int32_t));
    }
  kk_test_buf_free (&c_buf);
  kk_test_buf_free (&s_buf);
  kk_test_buf_free (&p_buf);
  *acc_out = acc;
  return out;
}

/* Both outputs the same as the reference's, bit for bit. */
static inline void
qgemm_test_assert_same (const char *what_ran, const QgemmCase *cs, const uint8_t *out,
                        const int32_t *acc, const uint8_t *ref_out, const int32_t *ref_acc)
{
  for (size_t x = 0; x < cs->m * cs->n; x++)
    if (out[x] != ref_out[x] || acc[x] != ref_acc[x])
      {
        g_autofree char *what = qgemm_test_describe (cs);
        g_error ("%s differs at (%zu, %zu): out %u vs %u, acc %d vs %d: %s", what_ran, x / cs->n,
                 x % cs->n, out[x], ref_out[x], acc[x], ref_acc[x], what);
      }
}
