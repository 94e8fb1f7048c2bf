/* kestrel-samples.c — see kestrel-samples.h.
 *
 * Both fallback folders are compile-time paths set in
 * core/runtime/meson.build (kestrel-samples-config.h):
 * KESTREL_SAMPLES_INSTALLED_DIR (prefix/datadir/kestrel/samples) and
 * KESTREL_SAMPLES_SOURCE_DIR (the source tree's data/samples). The
 * installed one wins when it exists, so an installed Kestrel never reads
 * from a source tree that may have moved or changed since.
 */
#include "config.h"

#include "kestrel-samples.h"

#include "kestrel-samples-config.h"

const char *
kestrel_samples_get_dir (void)
{
  static const char *fallback;
  const char *env = g_getenv ("KESTREL_SAMPLES_DIR");

  /* Read on every call, so a test or a wrapper script that sets it late
   * still wins. */
  if (env != NULL && env[0] != '\0')
    return env;

  if (g_once_init_enter (&fallback))
    {
      const char *dir = KESTREL_SAMPLES_SOURCE_DIR;

      if (g_file_test (KESTREL_SAMPLES_INSTALLED_DIR, G_FILE_TEST_IS_DIR))
        dir = KESTREL_SAMPLES_INSTALLED_DIR;
      g_once_init_leave (&fallback, dir);
    }
  return fallback;
}

/* Long enough to see the faces found in a photo, short enough that all
 * five come round within a few graph points. */
#define SAMPLE_HOLD_SECONDS 2

char *
kestrel_samples_dup_source_spec (gboolean repeat)
{
  return g_strdup_printf ("images:%s?hold=%d%s", kestrel_samples_get_dir (), SAMPLE_HOLD_SECONDS,
                          repeat ? "" : "&repeat=0");
}
