/* test-blas.c — OpenBLAS is loaded with the right kernels and computes. */
#include <math.h>
#include <string.h>

#include "kestrel-blas.h"
#include "kestrel-kernels.h"

static void
test_blas_loads (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kestrel_blas_init (&error));
  g_assert_no_error (error);
  g_assert_nonnull (kestrel_blas_core ());
  g_test_message ("OpenBLAS core: %s (%s)", kestrel_blas_core (), kestrel_blas_core_reason ());
}

/* OpenBLAS 0.3.21 runs "Prescott" kernels on AVX-512 Xeons (see
 * kestrel-blas.h). Kestrel must not let that happen on any CPU with AVX-512
 * or AVX2. */
static void
test_blas_core_not_generic (void)
{
  const kk_cpu_features *f = kk_cpu_features_get ();
  const char *core;

  g_assert_true (kestrel_blas_init (NULL));
  core = kestrel_blas_core ();
  if (g_getenv ("OPENBLAS_CORETYPE") != NULL && kestrel_blas_core_requested () == NULL)
    {
      g_test_skip ("OPENBLAS_CORETYPE was set by the user; their choice wins");
      return;
    }
  if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq)
    {
      g_assert_cmpstr (core, !=, "Prescott");
      g_assert_cmpstr (core, !=, "Core2");
      g_assert_cmpstr (core, !=, "Nehalem");
      g_assert_cmpstr (core, !=, "Sandybridge");
      g_assert_cmpstr (core, !=, "Haswell");
    }
  else if (f->avx2 && f->fma)
    {
      g_assert_cmpstr (core, !=, "Prescott");
      g_assert_cmpstr (core, !=, "Core2");
      g_assert_cmpstr (core, !=, "Nehalem");
    }
  else
    g_test_message ("no AVX2 on this CPU: any OpenBLAS core is acceptable");
}

static void
test_blas_sgemm (void)
{
  enum { M = 37, N = 53, K = 71 };
  static float a[M * K], b[K * N], c[M * N];
  KestrelSgemmFunc sgemm;

  g_assert_true (kestrel_blas_init (NULL));
  sgemm = kestrel_blas_sgemm_func ();
  g_assert_nonnull (sgemm);
  for (int i = 0; i < M * K; i++)
    a[i] = (float) ((i * 7) % 13) - 6.0f;
  for (int i = 0; i < K * N; i++)
    b[i] = (float) ((i * 5) % 11) - 5.0f;
  sgemm (KESTREL_BLAS_ROW_MAJOR, KESTREL_BLAS_NO_TRANS, KESTREL_BLAS_NO_TRANS, M, N, K,
         1.0f, a, K, b, N, 0.0f, c, N);
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++)
      {
        double ref = 0;
        for (int k = 0; k < K; k++)
          ref += (double) a[i * K + k] * (double) b[k * N + j];
        /* Small integers: the float result is exact. */
        g_assert_cmpfloat (c[i * N + j], ==, (float) ref);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blas/loads", test_blas_loads);
  g_test_add_func ("/blas/core-not-generic", test_blas_core_not_generic);
  g_test_add_func ("/blas/sgemm", test_blas_sgemm);
  return g_test_run ();
}
