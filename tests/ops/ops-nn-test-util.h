/* ops-nn-test-util.h — shared by the tests/ops/test-ops-nn*.c programs
 * (one per operator family of core/ops/ops-nn-*.c): running a one-node
 * case serially and over the pool, and the asserts and random inputs the
 * families' oracles use. See ops-test-util.h for OpCase.
 */
#pragma once

#include "ops-test-util.h"

/* ---- one-node graphs (OpCase, ops-test-util.h) --------------------------------- */

/* Runs serially and over the pool, checks both agree bit for bit and
 * returns the serial results. */
static inline GPtrArray *
case_run (OpCase *c)
{
  GPtrArray *serial = op_case_run_all (c, KK_LEVEL_SCALAR);
  g_autoptr(GPtrArray) parallel = op_case_run_all (c, KK_LEVEL_PARALLEL);

  for (guint o = 0; o < serial->len; o++)
    {
      const KestrelValue *value = op_case_output (c, o);
      gsize bytes = 0;
      if (value == NULL)
        continue;
      kestrel_shape_get_size (value->dtype, value->n_dims, value->shape, NULL, &bytes, NULL);
      if (memcmp (g_ptr_array_index (serial, o), g_ptr_array_index (parallel, o), bytes) != 0)
        g_error ("%s: output %u differs between the serial and the parallel run",
                 op_case_node (c)->op_type, o);
    }
  return serial;
}

static inline void
assert_shape (const KestrelValue *value, guint n_dims, const gint64 *shape)
{
  g_autofree char *got = kestrel_shape_to_string (value->n_dims, value->shape);
  g_autofree char *want = kestrel_shape_to_string (n_dims, shape);

  g_assert_cmpstr (got, ==, want);
}

static inline void
assert_close (const char *what, const float *got, const double *want, gsize n, double rtol,
              double atol)
{
  for (gsize i = 0; i < n; i++)
    if (!(fabs ((double) got[i] - want[i]) <= atol + rtol * fabs (want[i])))
      g_error ("%s: element %" G_GSIZE_FORMAT " is %.9g, expected %.9g", what, i,
               (double) got[i], want[i]);
}

static inline float *
rand_floats (gsize n)
{
  float *data = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    data[i] = (float) g_test_rand_double_range (-1.0, 1.0);
  return data;
}

static inline gint64
rand_range (gint64 lo, gint64 hi)   /* inclusive */
{
  return g_test_rand_int_range ((gint32) lo, (gint32) hi + 1);
}

/* The main() of each program: `add_tests` registers its cases; the pool
 * has more threads than this machine's cores, so chunks interleave. */
static inline int
ops_nn_test_main (int argc, char **argv, void (*add_tests) (void))
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_pool = kestrel_thread_pool_new (3);
  add_tests ();
  status = g_test_run ();
  kestrel_thread_pool_unref (test_pool);
  return status;
}
