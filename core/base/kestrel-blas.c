/* kestrel-blas.c — see kestrel-blas.h for why OpenBLAS is loaded by hand. */
#include "config.h"

#include "kestrel-blas.h"
#include "kestrel-error.h"

#include <gmodule.h>
#include <string.h>

#include "kestrel-kernels.h"

typedef char *(*CharFunc) (void);
typedef int (*IntFunc) (void);
typedef void (*SetThreadsFunc) (int);

static struct {
  gboolean ok;
  GError *error;
  GModule *module;
  char *path;
  const char *requested;
  const char *reason;
  KestrelSgemmFunc sgemm;
  CharFunc get_corename;
  CharFunc get_config;
  IntFunc get_num_threads;
  SetThreadsFunc set_num_threads;
} blas;

const char *
kestrel_blas_choose_core (void)
{
  const kk_cpu_features *f = kk_cpu_features_get ();
  gboolean amd = strcmp (f->vendor, "AuthenticAMD") == 0 || strcmp (f->vendor, "HygonGenuine") == 0;

  /* The names are OpenBLAS's DYNAMIC_ARCH core names (see its driver/others/
   * dynamic.c). Only x86 needs help: OpenBLAS reads HWCAP on aarch64. */
  if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq && f->avx512cd)
    return f->avx512_bf16 && !amd ? "COOPERLAKE" : "SKYLAKEX";
  if (f->avx2 && f->fma)
    return amd ? "ZEN" : "HASWELL";
  return NULL;
}

static gboolean
find_symbol (const char *name, gpointer *out, GError **error)
{
  if (g_module_symbol (blas.module, name, out) && *out != NULL)
    return TRUE;
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY,
               "OpenBLAS library %s has no symbol %s: %s", blas.path, name, g_module_error ());
  return FALSE;
}

static void
load (void)
{
  const char *user_core = g_getenv ("OPENBLAS_CORETYPE");
  const char *chosen = kestrel_blas_choose_core ();

  if (user_core != NULL && *user_core != '\0')
    blas.reason = "OPENBLAS_CORETYPE set by the user";
  else if (chosen != NULL)
    {
      /* Must happen before OpenBLAS's constructor runs, i.e. before the load. */
      g_setenv ("OPENBLAS_CORETYPE", chosen, TRUE);
      blas.requested = chosen;
      blas.reason = "chosen by Kestrel from the detected CPU features";
    }
  else
    blas.reason = "OpenBLAS's own detection";

  g_autofree char *in_libdir = g_build_filename (OPENBLAS_LIBDIR, "libopenblas.so.0", NULL);
  const char *candidates[] = { in_libdir, "libopenblas.so.0", "libopenblas.so" };
  g_autoptr(GString) tried = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (candidates) && blas.module == NULL; i++)
    {
      blas.module = g_module_open (candidates[i], G_MODULE_BIND_LAZY);
      if (blas.module == NULL)
        g_string_append_printf (tried, "\n  %s: %s", candidates[i], g_module_error ());
      else
        blas.path = g_strdup (candidates[i]);
    }
  if (blas.module == NULL)
    {
      g_set_error (&blas.error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY,
                   "Could not load OpenBLAS; tried:%s", tried->str);
      return;
    }

  if (!find_symbol ("cblas_sgemm", (gpointer *) &blas.sgemm, &blas.error)
      || !find_symbol ("openblas_get_corename", (gpointer *) &blas.get_corename, &blas.error)
      || !find_symbol ("openblas_get_config", (gpointer *) &blas.get_config, &blas.error)
      || !find_symbol ("openblas_get_num_threads", (gpointer *) &blas.get_num_threads, &blas.error)
      || !find_symbol ("openblas_set_num_threads", (gpointer *) &blas.set_num_threads, &blas.error))
    return;

  blas.ok = TRUE;
}

gboolean
kestrel_blas_init (GError **error)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      load ();
      g_once_init_leave (&once, 1);
    }
  if (!blas.ok)
    {
      if (error != NULL)
        *error = g_error_copy (blas.error);
      return FALSE;
    }
  return TRUE;
}

const char *
kestrel_blas_library_path (void)
{
  return blas.path;
}

const char *
kestrel_blas_core (void)
{
  return blas.ok ? blas.get_corename () : NULL;
}

const char *
kestrel_blas_core_requested (void)
{
  return blas.requested;
}

const char *
kestrel_blas_core_reason (void)
{
  return blas.reason;
}

const char *
kestrel_blas_config (void)
{
  return blas.ok ? blas.get_config () : NULL;
}

int
kestrel_blas_get_threads (void)
{
  return blas.ok ? blas.get_num_threads () : 0;
}

void
kestrel_blas_set_threads (int n_threads)
{
  if (blas.ok)
    blas.set_num_threads (n_threads);
}

KestrelSgemmFunc
kestrel_blas_sgemm_func (void)
{
  return blas.ok ? blas.sgemm : NULL;
}
