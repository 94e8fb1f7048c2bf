/* kestrel-blas.h — OpenBLAS, loaded at run time with the right kernels.
 *
 * OpenBLAS picks its kernels once, when the library initialises, and some
 * versions misdetect recent CPUs (0.3.21 runs its generic "Prescott" kernels
 * on an AVX-512 Xeon, about 5x slower). OPENBLAS_CORETYPE overrides the
 * choice, but only if it is set before the library's constructor runs, so
 * libkestrel does not link OpenBLAS: kestrel_blas_init() chooses the core
 * type from Kestrel's own CPU detection, sets the variable, and only then
 * loads the library. A user who sets OPENBLAS_CORETYPE keeps their choice.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KESTREL_BLAS_ROW_MAJOR = 101,
  KESTREL_BLAS_COL_MAJOR = 102,
} KestrelBlasOrder;

typedef enum {
  KESTREL_BLAS_NO_TRANS = 111,
  KESTREL_BLAS_TRANS = 112,
} KestrelBlasTranspose;

typedef void (*KestrelSgemmFunc) (int order, int trans_a, int trans_b, int m, int n, int k,
                                  float alpha, const float *a, int lda, const float *b, int ldb,
                                  float beta, float *c, int ldc);

/* Loads OpenBLAS once (thread-safe); later calls return the first result. */
gboolean kestrel_blas_init (GError **error);

/* Meaningful after a successful kestrel_blas_init(). */
const char *kestrel_blas_library_path (void);   /* the file that was loaded */
const char *kestrel_blas_core (void);           /* openblas_get_corename(), e.g. "SkylakeX" */
const char *kestrel_blas_core_requested (void); /* what Kestrel set, or NULL */
const char *kestrel_blas_core_reason (void);    /* why: "chosen for avx512", "set by the user", ... */
const char *kestrel_blas_config (void);         /* openblas_get_config() */
int kestrel_blas_get_threads (void);
void kestrel_blas_set_threads (int n_threads);

/* cblas_sgemm; NULL before kestrel_blas_init() succeeded. */
KestrelSgemmFunc kestrel_blas_sgemm_func (void);

/* The OPENBLAS_CORETYPE Kestrel would choose for the CPU it detects, or NULL
 * when OpenBLAS's own detection is trusted. Exposed for tests. */
const char *kestrel_blas_choose_core (void);

G_END_DECLS
