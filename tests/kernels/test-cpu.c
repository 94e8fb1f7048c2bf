/* test-cpu.c — CPU detection agrees with the kernel's view, levels map to
 * the right instruction sets, KESTREL_ISA lowers the choice, and every
 * kernel table this CPU can run is complete.
 *
 * Under an emulator (scripts/check-aarch64.sh runs this under qemu-aarch64
 * at several CPU models) the script also says what the emulated CPU must
 * and must not have, and which int8 gemm it must get:
 *   KESTREL_TEST_CPU_HAS="neon asimddp bf16"   feature names that must be detected
 *   KESTREL_TEST_CPU_LACKS="asimddp bf16"      feature names that must not
 *   KESTREL_TEST_QGEMM_VERSION=neondot          the best table's qgemm version
 */
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

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CPUID
#define HWCAP_CPUID (1 << 11)
#endif

/* The ID register field [shift, shift + 4), read from user space: Linux
 * (and qemu-user) trap the MRS and return a sanitised value when
 * HWCAP_CPUID says so. */
#define ID_FIELD(reg, shift)                                        \
  ({                                                                \
    guint64 v_;                                                     \
    __asm__ volatile ("mrs %0, " #reg : "=r"(v_));                  \
    (unsigned) ((v_ >> (shift)) & 0xf);                             \
  })
#endif

/* The ID registers are the architecture's own description of the CPU, an
 * oracle independent of the HWCAP bits kernels/cpu.c reads. */
static void
test_cpu_matches_id_registers (void)
{
#if defined(__aarch64__)
  const kk_cpu_features *f = kk_cpu_features_get ();

  if ((getauxval (AT_HWCAP) & HWCAP_CPUID) == 0)
    {
      g_test_skip ("this kernel does not let user space read the ID registers (no HWCAP_CPUID)");
      return;
    }
  unsigned advsimd = ID_FIELD (ID_AA64PFR0_EL1, 20);
  unsigned sve = ID_FIELD (ID_AA64PFR0_EL1, 32);
  unsigned dp = ID_FIELD (ID_AA64ISAR0_EL1, 44);
  unsigned bf16 = ID_FIELD (ID_AA64ISAR1_EL1, 44);
  unsigned i8mm = ID_FIELD (ID_AA64ISAR1_EL1, 52);
  const struct { const char *name; gboolean id; bool ours; } pairs[] = {
    { "neon", advsimd != 0xf, f->neon },
    { "asimdhp", advsimd == 1, f->asimd_fp16 },
    { "asimddp", dp >= 1, f->asimd_dotprod },
    { "sve", sve >= 1, f->sve },
    { "bf16", bf16 >= 1, f->bf16 },
    { "i8mm", i8mm >= 1, f->i8mm },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_test_message ("%s: ID registers %d, kestrel %d", pairs[i].name, pairs[i].id, pairs[i].ours);
      g_assert_cmpint (pairs[i].id, ==, pairs[i].ours);
    }
#else
  g_test_skip ("the ID register cross-check is for aarch64");
#endif
}

static gboolean
has_feature_name (const char *wanted)
{
  const char *names[64];
  size_t n = kk_cpu_feature_names (names, G_N_ELEMENTS (names));

  for (size_t i = 0; i < n && i < G_N_ELEMENTS (names); i++)
    if (strcmp (names[i], wanted) == 0)
      return TRUE;
  return FALSE;
}

/* What the script that chose the (emulated) CPU says it has, and which
 * int8 gemm the best table must hold on it: the proof that two CPU models
 * take different paths. */
static void
test_expected_cpu (void)
{
  const char *has = g_getenv ("KESTREL_TEST_CPU_HAS");
  const char *lacks = g_getenv ("KESTREL_TEST_CPU_LACKS");
  const char *qgemm = g_getenv ("KESTREL_TEST_QGEMM_VERSION");
  const kk_kernels *best = kk_kernels_get (kk_isa_best ());

  g_assert_nonnull (best);
  g_test_message ("best instruction set %s, int8 gemm version %s",
                  kk_isa_name (kk_isa_best ()), best->qgemm_version);
  if (has == NULL && lacks == NULL && qgemm == NULL)
    {
      g_test_skip ("no expectation given (KESTREL_TEST_CPU_HAS, _LACKS, KESTREL_TEST_QGEMM_VERSION)");
      return;
    }
  g_auto(GStrv) want = g_strsplit (has != NULL ? has : "", " ", -1);
  g_auto(GStrv) refuse = g_strsplit (lacks != NULL ? lacks : "", " ", -1);
  for (char **p = want; *p != NULL; p++)
    if (**p != '\0' && !has_feature_name (*p))
      g_error ("the CPU should have %s, but kernels/cpu.c did not detect it", *p);
  for (char **p = refuse; *p != NULL; p++)
    if (**p != '\0' && has_feature_name (*p))
      g_error ("the CPU should not have %s, but kernels/cpu.c detected it", *p);
  if (qgemm != NULL)
    g_assert_cmpstr (best->qgemm_version, ==, qgemm);
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

/* Runs this test again in a child with KESTREL_ISA=value and asserts it
 * passed. A cross-built test runs under an emulator (meson says which in
 * MESON_EXE_WRAPPER), which the child needs too: g_test_trap_subprocess
 * would exec the foreign binary directly, which the host kernel refuses. */
static const char *self_path;  /* argv[0] */

static void
run_with_isa_override (const char *value)
{
  const char *wrapper = g_getenv ("MESON_EXE_WRAPPER");

  g_setenv ("KESTREL_ISA", value, TRUE);
  if (wrapper == NULL || *wrapper == '\0')
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_unsetenv ("KESTREL_ISA");
      g_test_trap_assert_passed ();
      return;
    }

  g_auto(GStrv) wrap = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true (g_shell_parse_argv (wrapper, NULL, &wrap, &error));
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  for (char **p = wrap; *p != NULL; p++)
    g_ptr_array_add (argv, *p);
  g_ptr_array_add (argv, (char *) self_path);
  g_ptr_array_add (argv, (char *) "-q");
  g_ptr_array_add (argv, (char *) "-p");
  g_ptr_array_add (argv, (char *) g_test_get_path ());
  g_ptr_array_add (argv, (char *) "--GTestSubprocess");
  g_ptr_array_add (argv, NULL);
  int status = 0;
  g_autofree char *out = NULL, *err = NULL;
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  g_unsetenv ("KESTREL_ISA");
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("the child with KESTREL_ISA=%s failed: %s%s", value, out, err);
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
  run_with_isa_override ("scalar");
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
  run_with_isa_override ("avx9000");
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
  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu/matches-proc-cpuinfo", test_cpu_matches_proc_cpuinfo);
  g_test_add_func ("/cpu/matches-id-registers", test_cpu_matches_id_registers);
  g_test_add_func ("/cpu/expected", test_expected_cpu);
  g_test_add_func ("/cpu/feature-names", test_feature_names);
  g_test_add_func ("/cpu/levels", test_levels);
  g_test_add_func ("/cpu/override-lowers", test_override_lowers);
  g_test_add_func ("/cpu/override-rejects-bad-names", test_override_rejects_bad_names);
  g_test_add_func ("/kernels/tables-complete", test_tables_complete);
  return g_test_run ();
}
