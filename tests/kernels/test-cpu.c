/* test-cpu.c — CPU detection agrees with the kernel's view, levels map to
 * the right instruction sets, KESTREL_ISA lowers the choice, and every
 * kernel table this CPU can run is complete. */
#include <string.h>

#include <glib.h>

#include "kestrel-kernels.h"

/* /proc/cpuinfo's flags are the Linux kernel's independent reading of CPUID
 * and XCR0, so they make a fair oracle for the x86 detection. */
static void
test_cpu_matches_proc_cpuinfo (void)
{
#if defined(__x86_64__)
  g_autofree char *text = NULL;
  const kk_cpu_features *f = kk_cpu_features_get ();

  if (!g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    {
      g_test_skip ("/proc/cpuinfo is not readable");
      return;
    }
  const char *line = strstr (text, "\nflags");
  g_assert_nonnull (line);
  const char *colon = strchr (line, ':');
  const char *end = strchr (line + 1, '\n');
  g_autofree char *flags_text = g_strndup (colon + 1, end - colon - 1);
  g_auto(GStrv) flags = g_strsplit (g_strstrip (flags_text), " ", -1);
  const struct { const char *proc; bool ours; } pairs[] = {
    { "ssse3", f->ssse3 }, { "sse4_1", f->sse41 }, { "sse4_2", f->sse42 },
    { "popcnt", f->popcnt }, { "avx", f->avx }, { "avx2", f->avx2 }, { "fma", f->fma },
    { "f16c", f->f16c }, { "bmi2", f->bmi2 }, { "avx512f", f->avx512f },
    { "avx512bw", f->avx512bw }, { "avx512vl", f->avx512vl }, { "avx512dq", f->avx512dq },
    { "avx512_vnni", f->avx512_vnni }, { "avx512_bf16", f->avx512_bf16 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      gboolean in_proc = g_strv_contains ((const char *const *) flags, pairs[i].proc);
      g_test_message ("%s: /proc/cpuinfo %d, kestrel %d", pairs[i].proc, in_proc, pairs[i].ours);
      g_assert_cmpint (in_proc, ==, pairs[i].ours);
    }
#else
  g_test_skip ("the /proc/cpuinfo cross-check is written for x86-64");
#endif
}

static void
test_feature_names (void)
{
  const char *names[64];
  size_t n = kk_cpu_feature_names (names, G_N_ELEMENTS (names));
  const kk_cpu_features *f = kk_cpu_features_get ();
  gboolean has_avx2 = FALSE;

  g_assert_cmpuint (n, <=, G_N_ELEMENTS (names));
  for (size_t i = 0; i < n; i++)
    if (strcmp (names[i], "avx2") == 0)
      has_avx2 = TRUE;
  g_assert_cmpint (has_avx2, ==, f->avx2);
}

static void
test_levels (void)
{
  kk_isa best = kk_isa_best ();

  g_assert_cmpint (kk_level_isa (KK_LEVEL_SCALAR), ==, KK_ISA_SCALAR);
  g_assert_cmpint (kk_level_isa (KK_LEVEL_PARALLEL), ==, KK_ISA_SCALAR);
  g_assert_cmpint (kk_level_isa (KK_LEVEL_SIMD), ==, best);
  g_assert_cmpint (kk_level_isa (KK_LEVEL_FULL), ==, best);
  g_assert_false (kk_level_is_parallel (KK_LEVEL_SIMD));
  g_assert_true (kk_level_is_parallel (KK_LEVEL_FULL));
  g_assert_true (kk_isa_hw_supported (best));
  for (int i = 0; i < KK_LEVEL_COUNT; i++)
    {
      kk_level back;
      g_assert_true (kk_level_from_name (kk_level_name (i), &back));
      g_assert_cmpint (back, ==, i);
    }
  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      kk_isa back;
      g_assert_true (kk_isa_from_name (kk_isa_name (i), &back));
      g_assert_cmpint (back, ==, i);
      /* The best ISA is the top of the ladder this CPU supports. */
      if (kk_isa_hw_supported (i) && i != KK_ISA_NEON && best != KK_ISA_NEON
          && g_getenv ("KESTREL_ISA") == NULL)
        g_assert_cmpint (i, <=, best);
    }
  g_assert_false (kk_level_from_name ("fast", &(kk_level){ 0 }));
}

static void
test_override_lowers (void)
{
  if (g_test_subprocess ())
    {
      g_assert_cmpint (kk_isa_best (), ==, KK_ISA_SCALAR);
      g_assert_null (kk_isa_override_error ());
      g_assert_cmpint (kk_level_isa (KK_LEVEL_FULL), ==, KK_ISA_SCALAR);
      return;
    }
  g_setenv ("KESTREL_ISA", "scalar", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("KESTREL_ISA");
  g_test_trap_assert_passed ();
}

static void
test_override_rejects_bad_names (void)
{
  if (g_test_subprocess ())
    {
      const char *err = kk_isa_override_error ();
      g_assert_nonnull (err);
      g_assert_nonnull (strstr (err, "avx9000"));
      g_assert_true (kk_isa_hw_supported (kk_isa_best ()));
      return;
    }
  g_setenv ("KESTREL_ISA", "avx9000", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("KESTREL_ISA");
  g_test_trap_assert_passed ();
}

static void
test_tables_complete (void)
{
  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      const kk_kernels *t = kk_kernels_get (i);
      if (t == NULL)
        {
          g_test_message ("%s: not supported by this CPU", kk_isa_name (i));
          g_assert_false (kk_isa_hw_supported (i));
          continue;
        }
      g_assert_cmpint (t->isa, ==, i);
      g_assert_true (kk_kernels_is_complete (t));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu/matches-proc-cpuinfo", test_cpu_matches_proc_cpuinfo);
  g_test_add_func ("/cpu/feature-names", test_feature_names);
  g_test_add_func ("/cpu/levels", test_levels);
  g_test_add_func ("/cpu/override-lowers", test_override_lowers);
  g_test_add_func ("/cpu/override-rejects-bad-names", test_override_rejects_bad_names);
  g_test_add_func ("/kernels/tables-complete", test_tables_complete);
  return g_test_run ();
}
