/* test-ops-nn-gemm.c — the matrix products: Gemm, MatMul (core/ops/ops-nn-gemm.c) and Einsum
 * (core/ops/ops-nn-einsum.c).
 *
 * Each test builds a one-node graph by hand, lets the op infer shapes, and
 * runs it as the planner would (ops-nn-test-util.h): prepare() sees only
 * constant data, run() writes into buffers poisoned with NaN, once on the
 * calling thread and once over a thread pool. The two runs must agree bit
 * for bit, and both must match a straightforward double-precision oracle
 * written here (different loop structure from the operator's, on
 * purpose), on random shapes and attributes, or hand-computed values.
 */
#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-graph.h"
#include "kestrel-op.h"
#include "kestrel-passes.h"
#include "kestrel-thread-pool.h"

#include "ops-nn-test-util.h"

/* ---- Gemm, MatMul ------------------------------------------------------------------ */

static void
test_gemm_random (void)
{
  for (guint iter = 0; iter < 60; iter++)
    {
      gint64 m = rand_range (1, 9), n = rand_range (1, 150), k = rand_range (1, 20);
      gboolean ta = g_test_rand_bit (), tb = g_test_rand_bit ();
      float alpha = g_test_rand_bit () ? 1.0f : (float) g_test_rand_double_range (-2, 2);
      float beta = g_test_rand_bit () ? 1.0f : (float) g_test_rand_double_range (-2, 2);
      guint c_kind = g_test_rand_int_range (0, 6);
      gint64 a_shape[2] = { ta ? k : m, ta ? m : k }, b_shape[2] = { tb ? n : k, tb ? k : n };
      gint64 c_shape[2], y_shape[2] = { m, n };
      guint c_dims = 0;
      g_autofree float *a = rand_floats (m * k), *b = rand_floats (k * n);
      g_autofree float *cv = rand_floats (m * n);
      g_autofree double *want = g_new0 (double, m * n);
      g_autoptr(OpCase) c = op_case_new (13, "Gemm");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      switch (c_kind)
        {
        case 1: c_dims = 1; c_shape[0] = 1; break;                        /* scalar-like */
        case 2: c_dims = 1; c_shape[0] = n; break;                        /* row vector */
        case 3: c_dims = 2; c_shape[0] = m; c_shape[1] = 1; break;        /* column */
        case 4: c_dims = 2; c_shape[0] = m; c_shape[1] = n; break;
        case 5: c_dims = 0; break;                                        /* rank 0 */
        default: break;
        }
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, a_shape, a);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, b_shape, b);
      if (c_kind != 0)
        op_case_constant (c, KESTREL_DTYPE_FLOAT32, c_dims, c_shape, cv);
      op_case_outputs (c, 1);
      kestrel_node_set_attr_int (op_case_node (c), "transA", ta);
      kestrel_node_set_attr_int (op_case_node (c), "transB", tb);
      kestrel_node_set_attr_float (op_case_node (c), "alpha", alpha);
      kestrel_node_set_attr_float (op_case_node (c), "beta", beta);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), 2, y_shape);
      got = case_run (c);

      for (gint64 i = 0; i < m; i++)
        for (gint64 j = 0; j < n; j++)
          {
            double sum = 0, cval = 0;
            for (gint64 p = 0; p < k; p++)
              sum += (double) (ta ? a[p * m + i] : a[i * k + p])
                     * (double) (tb ? b[j * k + p] : b[p * n + j]);
            switch (c_kind)
              {
              case 1: case 5: cval = cv[0]; break;
              case 2: cval = cv[j]; break;
              case 3: cval = cv[i]; break;
              case 4: cval = cv[i * n + j]; break;
              default: break;
              }
            want[i * n + j] = (double) alpha * sum + (double) beta * cval;
          }
      assert_close ("Gemm", g_ptr_array_index (got, 0), want, m * n, 1e-5, 1e-5);
    }
}

static void
test_gemm_errors (void)
{
  const gint64 a_shape[] = { 2, 3 }, b_shape[] = { 4, 5 }, c_shape[] = { 3, 5 };
  float zeros[20] = { 0 };

  {
    g_autoptr(OpCase) c = op_case_new (13, "Gemm");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, a_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, b_shape, zeros);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "do not agree on K"));
  }
  {
    const gint64 b_ok[] = { 3, 5 };
    g_autoptr(OpCase) c = op_case_new (13, "Gemm");
    g_autoptr(GError) error = NULL;
    op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, a_shape, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, b_ok, zeros);
    op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, c_shape, zeros);
    op_case_outputs (c, 1);
    g_assert_false (op_case_infer (c, &error));
    g_assert_nonnull (strstr (error->message, "C [3,5] cannot be broadcast to [2,5]"));
  }
}

static void
test_matmul_random (void)
{
  for (guint iter = 0; iter < 80; iter++)
    {
      guint a_dims = rand_range (1, 4), b_dims = rand_range (1, 4);
      gint64 m = rand_range (1, 5), n = rand_range (1, 70), k = rand_range (1, 9);
      gint64 a_shape[4], b_shape[4], y_shape[6], batch[2];
      guint a_batch = a_dims > 2 ? a_dims - 2 : 0, b_batch = b_dims > 2 ? b_dims - 2 : 0;
      guint nb = MAX (a_batch, b_batch), y_dims = 0;
      gsize n_batch = 1;
      g_autofree float *a = NULL, *b = NULL;
      g_autofree double *want = NULL;
      g_autoptr(OpCase) c = op_case_new (13, "MatMul");
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      for (guint d = 0; d < nb; d++)
        batch[d] = rand_range (1, 3);
      /* Each operand's batch dimensions are the trailing ones of the
       * result's, some broadcast as 1. */
      for (guint d = 0; d < a_batch; d++)
        a_shape[d] = g_test_rand_int_range (0, 3) == 0 ? 1 : batch[nb - a_batch + d];
      for (guint d = 0; d < b_batch; d++)
        b_shape[d] = g_test_rand_int_range (0, 3) == 0 ? 1 : batch[nb - b_batch + d];
      for (guint d = 0; d < nb; d++)
        {
          gint64 ad = d >= nb - a_batch ? a_shape[d - (nb - a_batch)] : 1;
          gint64 bd = d >= nb - b_batch ? b_shape[d - (nb - b_batch)] : 1;
          batch[d] = MAX (ad, bd);
          y_shape[y_dims++] = batch[d];
          n_batch *= batch[d];
        }
      if (a_dims == 1)
        a_shape[0] = k;
      else
        {
          a_shape[a_dims - 2] = m;
          a_shape[a_dims - 1] = k;
          y_shape[y_dims++] = m;
        }
      if (b_dims == 1)
        b_shape[0] = k;
      else
        {
          b_shape[b_dims - 2] = k;
          b_shape[b_dims - 1] = n;
          y_shape[y_dims++] = n;
        }
      if (a_dims == 1)
        m = 1;
      if (b_dims == 1)
        n = 1;

      a = rand_floats (shape_elements (a_dims, a_shape));
      b = rand_floats (shape_elements (b_dims, b_shape));
      op_case_input (c, KESTREL_DTYPE_FLOAT32, a_dims, a_shape, a);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, b_dims, b_shape, b);
      op_case_outputs (c, 1);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), y_dims, y_shape);
      got = case_run (c);

      want = g_new0 (double, n_batch * m * n);
      for (gsize bi = 0; bi < n_batch; bi++)
        {
          gsize a_off = 0, b_off = 0, rest = bi, a_mul = 1, b_mul = 1;
          for (guint d = nb; d-- > 0;)
            {
              gsize i = rest % batch[d];
              gint64 ad = d >= nb - a_batch ? a_shape[d - (nb - a_batch)] : 1;
              gint64 bd = d >= nb - b_batch ? b_shape[d - (nb - b_batch)] : 1;
              rest /= batch[d];
              a_off += (ad == 1 ? 0 : i) * a_mul;
              b_off += (bd == 1 ? 0 : i) * b_mul;
              a_mul *= ad;
              b_mul *= bd;
            }
          for (gint64 i = 0; i < m; i++)
            for (gint64 j = 0; j < n; j++)
              {
                double sum = 0;
                for (gint64 p = 0; p < k; p++)
                  sum += (double) a[a_off * m * k + i * k + p] * (double) b[b_off * k * n + p * n + j];
                want[(bi * m + i) * n + j] = sum;
              }
        }
      assert_close ("MatMul", g_ptr_array_index (got, 0), want, n_batch * m * n, 1e-5, 1e-5);
    }
}

/* ---- Einsum (matrix products and any other equation) and NonMaxSuppression ---- */

typedef struct {
  const char *equation;
  guint a_dims, b_dims;
  gint64 a[4], b[4];
} EinsumCase;

/* The oracle: sum over every assignment of the letters of a * b. */
static void
einsum_oracle (const char *eq, const EinsumCase *ec, const float *a, const float *b,
               const KestrelValue *out, float *y)
{
  gint64 size[128] = { 0 };
  char letters[16];
  guint n_letters = 0;
  g_auto(GStrv) sides = g_strsplit (eq, "->", 2);
  g_auto(GStrv) terms = g_strsplit (sides[0], ",", 2);
  const char *t[3] = { terms[0], terms[1], sides[1] };
  gsize n_y = 1, combos = 1;

  for (guint i = 0; i < ec->a_dims; i++)
    size[(int) t[0][i]] = ec->a[i];
  for (guint i = 0; i < ec->b_dims; i++)
    size[(int) t[1][i]] = ec->b[i];
  for (int c = 'a'; c <= 'z'; c++)
    if (size[c] > 0)
      {
        letters[n_letters++] = (char) c;
        combos *= (gsize) size[c];
      }
  for (guint d = 0; d < out->n_dims; d++)
    n_y *= (gsize) out->shape[d];
  memset (y, 0, n_y * sizeof (float));
  for (gsize f = 0; f < combos; f++)
    {
      gint64 v[128] = { 0 };
      gsize rest = f, ia = 0, ib = 0, iy = 0;

      for (gint l = (gint) n_letters - 1; l >= 0; l--)
        {
          v[(int) letters[l]] = (gint64) (rest % (gsize) size[(int) letters[l]]);
          rest /= (gsize) size[(int) letters[l]];
        }
      for (guint i = 0; i < ec->a_dims; i++)
        ia = ia * (gsize) ec->a[i] + (gsize) v[(int) t[0][i]];
      for (guint i = 0; i < ec->b_dims; i++)
        ib = ib * (gsize) ec->b[i] + (gsize) v[(int) t[1][i]];
      for (guint i = 0; i < out->n_dims; i++)
        iy = iy * (gsize) out->shape[i] + (gsize) v[(int) t[2][i]];
      y[iy] += a[ia] * b[ib];
    }
}

/* The oracle for any equation: every assignment of the letters, each
 * term's element addressed by its letters' values (a letter twice in a
 * term reads the diagonal); `terms` are the inputs' and then the
 * output's letters. */
static void
einsum_any_oracle (guint n_in, const char *const *terms, const gint64 *const *shapes,
                   const float *const *x, float *y, gsize n_y)
{
  gint64 size[128] = { 0 };
  char letters[16];
  guint n_letters = 0;
  gsize combos = 1;

  for (guint t = 0; t < n_in; t++)
    for (guint i = 0; terms[t][i] != '\0'; i++)
      size[(int) terms[t][i]] = shapes[t][i];
  for (int c = 'a'; c <= 'z'; c++)
    if (size[c] > 0)
      {
        letters[n_letters++] = (char) c;
        combos *= (gsize) size[c];
      }
  memset (y, 0, n_y * sizeof (float));
  for (gsize f = 0; f < combos; f++)
    {
      gint64 v[128] = { 0 };
      gsize rest = f, iy = 0;
      float product = 1;

      for (gint l = (gint) n_letters - 1; l >= 0; l--)
        {
          v[(int) letters[l]] = (gint64) (rest % (gsize) size[(int) letters[l]]);
          rest /= (gsize) size[(int) letters[l]];
        }
      for (guint t = 0; t < n_in; t++)
        {
          gsize ix = 0;
          for (guint i = 0; terms[t][i] != '\0'; i++)
            ix = ix * (gsize) shapes[t][i] + (gsize) v[(int) terms[t][i]];
          product *= x[t][ix];
        }
      for (guint i = 0; terms[n_in][i] != '\0'; i++)
        iy = iy * (gsize) size[(int) terms[n_in][i]] + (gsize) v[(int) terms[n_in][i]];
      y[iy] += product;
    }
}

/* Sums, transposes, diagonals, traces, a letter summed within one input
 * and three inputs, at every level, against the oracle; bad equations are
 * errors naming them. */
static void
test_einsum_any (void)
{
  static const struct {
    const char *equation;
    guint n_in;
    const char *terms[4];       /* the inputs' letters, then the output's */
    gint64 shapes[3][3];
  } cases[] = {
    { "ij->i", 1, { "ij", "i" }, { { 3, 4 } } },
    { "ij->ji", 1, { "ij", "ji" }, { { 3, 4 } } },
    { "ii->i", 1, { "ii", "i" }, { { 4, 4 } } },
    { "ii", 1, { "ii", "" }, { { 3, 3 } } },
    { "...ii->...i", 1, { "bii", "bi" }, { { 2, 3, 3 } } },
    { "ii,ij->j", 2, { "ii", "ij", "j" }, { { 3, 3 }, { 3, 2 } } },
    { "ij,jk->k", 2, { "ij", "jk", "k" }, { { 2, 3 }, { 3, 4 } } },
    { "ij,jk,kl->il", 3, { "ij", "jk", "kl", "il" }, { { 2, 3 }, { 3, 4 }, { 4, 2 } } },
  };
  static const kk_level levels[] = {
    KK_LEVEL_SCALAR, KK_LEVEL_SIMD, KK_LEVEL_PARALLEL, KK_LEVEL_FULL,
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (21);

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(OpCase) c = op_case_new (12, "Einsum");
      g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_free);
      const gint64 *shapes[3];
      g_autofree float *want = NULL;
      const KestrelValue *y;
      gsize ny;

      kestrel_node_set_attr_string (op_case_node (c), "equation", cases[k].equation);
      for (guint t = 0; t < cases[k].n_in; t++)
        {
          guint rank = (guint) strlen (cases[k].terms[t]);
          float *x = random_floats (rand, shape_elements (rank, cases[k].shapes[t]), -1, 1);

          shapes[t] = cases[k].shapes[t];
          g_ptr_array_add (inputs, x);
          op_case_input (c, KESTREL_DTYPE_FLOAT32, rank, cases[k].shapes[t], x);
        }
      op_case_infer_ok (c);
      y = op_case_output (c, 0);
      g_assert_cmpuint (y->n_dims, ==, strlen (cases[k].terms[cases[k].n_in]));
      ny = shape_elements (y->n_dims, y->shape);
      want = g_new (float, MAX (ny, 1));
      einsum_any_oracle (cases[k].n_in, cases[k].terms, shapes,
                         (const float *const *) inputs->pdata, want, ny);
      for (guint l = 0; l < G_N_ELEMENTS (levels); l++)
        {
          g_autofree float *got = op_case_run (c, levels[l]);
          for (gsize i = 0; i < ny; i++)
            if (!floats_close (got[i], want[i], 1e-5, 1e-5))
              g_error ("%s at level %s: element %zu is %g, expected %g", cases[k].equation,
                       kk_level_name (levels[l]), i, (double) got[i], (double) want[i]);
        }
    }

  {
    static const struct {
      const char *equation;
      const char *fragment;
    } bad[] = {
      { "ij->k", "in no input" },
      { "ij,jk->ik", "size" },        /* j is 4 in one input and 3 in the other */
      { "ijk->i", "rank" },
      { "ij->ii", "repeats in the output" },
    };
    const gint64 s34[] = { 3, 4 };
    const float z[12] = { 0 };

    for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
      {
        g_autoptr(OpCase) c = op_case_new (12, "Einsum");
        kestrel_node_set_attr_string (op_case_node (c), "equation", bad[k].equation);
        op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s34, z);
        if (k == 1)
          op_case_input (c, KESTREL_DTYPE_FLOAT32, 2, s34, z);
        op_case_expect_error (c, KESTREL_ERROR_CORRUPT, bad[k].fragment);
      }
  }
}

static void
test_einsum (void)
{
  static const EinsumCase cases[] = {
    { "ij,jk->ik", 2, 2, { 3, 4 }, { 4, 5 } },
    { "ij,kj->ik", 2, 2, { 3, 4 }, { 5, 4 } },
    { "ji,jk->ki", 2, 2, { 4, 3 }, { 4, 5 } },
    { "bij,bjk->bik", 3, 3, { 2, 3, 4 }, { 2, 4, 5 } },
    { "bhid,bhjd->bhij", 4, 4, { 2, 3, 4, 5 }, { 2, 3, 6, 5 } },
    { "bhij,bhjd->bhid", 4, 4, { 1, 2, 3, 4 }, { 1, 2, 4, 5 } },
    { "ik,k->i", 2, 1, { 3, 4 }, { 4 } },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      const EinsumCase *ec = &cases[k];
      gsize na = shape_elements (ec->a_dims, ec->a), nb = shape_elements (ec->b_dims, ec->b);
      g_autofree float *a = random_floats (rand, na, -1, 1);
      g_autofree float *b = random_floats (rand, nb, -1, 1);
      g_autoptr(OpCase) c = op_case_new (12, "Einsum");
      g_autoptr(GPtrArray) out = NULL;
      g_autofree float *want = NULL;
      const KestrelValue *y;
      gsize ny;

      kestrel_node_set_attr_string (op_case_node (c), "equation", ec->equation);
      op_case_input (c, KESTREL_DTYPE_FLOAT32, ec->a_dims, ec->a, a);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, ec->b_dims, ec->b, b);
      op_case_infer_ok (c);
      y = op_case_output (c, 0);
      ny = shape_elements (y->n_dims, y->shape);
      want = g_new (float, ny);
      einsum_oracle (ec->equation, ec, a, b, y, want);
      out = case_run (c);
      for (gsize i = 0; i < ny; i++)
        if (!floats_close (((float *) g_ptr_array_index (out, 0))[i], want[i], 1e-5, 1e-5))
          g_error ("%s: element %zu is %g, expected %g", ec->equation, i,
                   (double) ((float *) g_ptr_array_index (out, 0))[i], (double) want[i]);
    }

  /* Not matrix products: run by the definition (ops-nn-einsum-any.c). */
  test_einsum_any ();
}

/* kestrel.MatMulPacked (core/ops/ops-matmul-packed.c), what the fast
 * passes make of a MatMul by a constant [K, N]: A's leading dimensions
 * flattened into rows, B packed for the gemm at prepare. Every level's
 * kernels (scalar, the best ISA, over the pool) against the oracle; sizes
 * across the gemm's row chunk (48) and its column panels. */
static void
test_matmul_packed (void)
{
  static const kk_level levels[] = { KK_LEVEL_SCALAR, KK_LEVEL_SIMD, KK_LEVEL_FULL };

  for (guint iter = 0; iter < 40; iter++)
    {
      gint64 lead = rand_range (1, 3), m = rand_range (1, 70), k = rand_range (1, 40), n = rand_range (1, 70);
      gint64 a_shape[3] = { lead, m, k }, b_shape[2] = { k, n };
      g_autofree float *a = rand_floats (lead * m * k), *b = rand_floats (k * n);
      g_autofree double *want = g_new0 (double, lead * m * n);
      g_autoptr(OpCase) c = op_case_new (13, "MatMul");
      KestrelNode *node = op_case_node (c);
      g_autoptr(GError) error = NULL;

      g_free (node->domain);
      node->domain = g_strdup ("kestrel");
      g_free (node->op_type);
      node->op_type = g_strdup ("MatMulPacked");
      op_case_input (c, KESTREL_DTYPE_FLOAT32, 3, a_shape, a);
      op_case_constant (c, KESTREL_DTYPE_FLOAT32, 2, b_shape, b);
      op_case_outputs (c, 1);
      g_assert_true (op_case_infer (c, &error));
      g_assert_no_error (error);
      assert_shape (op_case_output (c, 0), 3, (gint64[]) { lead, m, n });
      for (gint64 r = 0; r < lead * m; r++)
        for (gint64 j = 0; j < n; j++)
          for (gint64 p = 0; p < k; p++)
            want[r * n + j] += (double) a[r * k + p] * (double) b[p * n + j];
      for (guint l = 0; l < G_N_ELEMENTS (levels); l++)
        {
          g_autoptr(GPtrArray) got = op_case_run_all (c, levels[l]);
          assert_close ("MatMulPacked", g_ptr_array_index (got, 0), want, lead * m * n, 1e-5, 1e-5);
        }
    }
}

static void
add_tests (void)
{
  g_test_add_func ("/ops-nn/gemm/random", test_gemm_random);
  g_test_add_func ("/ops-nn/gemm/errors", test_gemm_errors);
  g_test_add_func ("/ops-nn/matmul/random", test_matmul_random);
  g_test_add_func ("/ops-nn/matmul/packed", test_matmul_packed);
  g_test_add_func ("/ops-nn/einsum", test_einsum);
}

int
main (int argc, char **argv)
{
  return ops_nn_test_main (argc, argv, add_tests);
}
