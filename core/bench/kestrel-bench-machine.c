/* kestrel-bench-machine.c — see kestrel-bench-machine.h.
 *
 * Sysfs files read here (each optional):
 *   /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor
 *   /sys/devices/system/cpu/cpuN/cpufreq/scaling_cur_freq
 *   /sys/devices/system/cpu/cpuN/thermal_throttle/{core,package}_throttle_count
 *   /sys/class/powercap/intel-rapl:0/energy_uj (also on AMD, whose RAPL the
 *   kernel exposes under the same name), max_energy_range_uj for wrap-round
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kestrel-bench-machine.h"
#include "kestrel-bench-version.h"
#include "kestrel-blas.h"
#include "kestrel-kernels.h"
#include "kestrel-sampler.h"
#include "kestrel-stats.h"

#define RAPL_DIR "/sys/class/powercap/intel-rapl:0"
#define CPU_DIR "/sys/devices/system/cpu"

static char *
read_line (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  return text;
}

static gboolean
read_u64 (const char *path, guint64 *out)
{
  g_autofree char *text = read_line (path);
  char *end = NULL;

  if (text == NULL || text[0] == '\0')
    return FALSE;
  *out = g_ascii_strtoull (text, &end, 10);
  return end != NULL && *end == '\0';
}

/* The model name from /proc/cpuinfo (also on arm64, where cpuid has no
 * brand string), else the brand cpuid gave. */
static char *
cpu_model (void)
{
  g_autofree char *info = NULL;
  const kk_cpu_features *f = kk_cpu_features_get ();

  if (g_file_get_contents ("/proc/cpuinfo", &info, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (info, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], "model name") && strchr (lines[i], ':') != NULL)
          return g_strstrip (g_strdup (strchr (lines[i], ':') + 1));
    }
  return g_strdup (f->brand[0] != '\0' ? f->brand : "unknown");
}

void
kestrel_bench_describe_machine (KestrelBenchResult *r)
{
  const char *names[64];
  size_t n = kk_cpu_feature_names (names, G_N_ELEMENTS (names));
  g_autoptr(GString) features = g_string_new (NULL);
  struct utsname u;
  long pages = sysconf (_SC_PHYS_PAGES), page_size = sysconf (_SC_PAGESIZE);

  r->cpu_model = cpu_model ();
  for (size_t i = 0; i < MIN (n, G_N_ELEMENTS (names)); i++)
    g_string_append_printf (features, "%s%s", i ? " " : "", names[i]);
  r->cpu_features = g_strdup (features->str);
  r->isa = g_strdup (kk_isa_name (kk_isa_best ()));
  r->cores = g_get_num_processors ();
  r->memory_bytes = pages > 0 && page_size > 0 ? (guint64) pages * (guint64) page_size : 0;
  if (uname (&u) == 0)
    r->kernel = g_strdup_printf ("%s %s %s", u.sysname, u.release, u.machine);
  else
    r->kernel = g_strdup ("unknown");
  r->governor = read_line (CPU_DIR "/cpu0/cpufreq/scaling_governor");

  r->kestrel_version = g_strdup (PACKAGE_VERSION);
  r->git_commit = g_strdup (KESTREL_GIT_COMMIT);
  if (kestrel_blas_init (NULL))
    r->openblas_core = g_strdup (kestrel_blas_core ());
}

char *
kestrel_bench_energy_note (void)
{
  guint64 value;

  if (!g_file_test ("/sys/class/powercap", G_FILE_TEST_IS_DIR))
    return g_strdup ("No energy: the kernel exposes no power capping (/sys/class/powercap is "
                     "missing: a virtual machine, or a kernel without intel_rapl).");
  if (!g_file_test (RAPL_DIR "/energy_uj", G_FILE_TEST_EXISTS))
    return g_strdup ("No energy: no RAPL package domain (" RAPL_DIR "); load the intel_rapl_msr "
                     "module (it serves AMD processors too) if the CPU has RAPL.");
  if (!read_u64 (RAPL_DIR "/energy_uj", &value))
    return g_strdup ("No energy: " RAPL_DIR "/energy_uj is readable only by root (since Linux "
                     "5.10). To allow it until the next boot: sudo chmod o+r "
                     "/sys/class/powercap/intel-rapl:*/energy_uj (or a udev rule to keep it).");
  return NULL;
}

/* The reference loop: REFERENCE_PASSES passes of eight independent
 * multiply-add chains over REFERENCE_FLOATS floats (8 KB, in L1), so it is
 * bound by the arithmetic units' throughput, which a busy sibling thread
 * or a lower clock slows, not by memory. */
#define REFERENCE_FLOATS 2048
#define REFERENCE_PASSES 100
#define REFERENCE_TRIES 5

static float reference_data[REFERENCE_FLOATS];
/* Written with the result so the compiler cannot drop the work. */
static volatile float reference_sink;

static void
reference_work (void)
{
  float acc[8] = { 0 };

  for (guint pass = 0; pass < REFERENCE_PASSES; pass++)
    for (guint i = 0; i < REFERENCE_FLOATS; i += 8)
      for (guint j = 0; j < 8; j++)
        acc[j] = acc[j] * 0.999f + reference_data[i + j];
  reference_sink = acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
}

double
kestrel_bench_reference_loop_ms (void)
{
  static gsize initialised;
  double best = G_MAXDOUBLE;

  if (g_once_init_enter (&initialised))
    {
      for (guint i = 0; i < REFERENCE_FLOATS; i++)
        reference_data[i] = (float) (i % 17) / 17.0f;
      g_once_init_leave (&initialised, 1);
    }
  for (guint t = 0; t < REFERENCE_TRIES; t++)
    {
      guint64 t0 = kestrel_stats_now_ns ();
      reference_work ();
      best = MIN (best, (kestrel_stats_now_ns () - t0) / 1e6);
    }
  return best;
}

guint64
kestrel_bench_process_cpu_ns (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return 0;
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

static guint
n_cores (void)
{
  return MIN ((guint) g_get_num_processors (), KESTREL_BENCH_PROBE_MAX_CORES);
}

/* Thermal throttle events over all cores, 0 when there are no counters. */
static guint64
read_throttle (void)
{
  guint64 sum = 0;

  for (guint c = 0; c < n_cores (); c++)
    {
      static const char *const kinds[] = { "core", "package" };
      for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
        {
          g_autofree char *path = g_strdup_printf (CPU_DIR "/cpu%u/thermal_throttle/%s_throttle_count",
                                                   c, kinds[k]);
          guint64 v;
          if (read_u64 (path, &v))
            sum += v;
        }
    }
  return sum;
}

void
kestrel_bench_totals_init (KestrelBenchTotals *t)
{
  memset (t, 0, sizeof *t);
  t->sys_ok = TRUE;
  t->energy_ok = TRUE;
  t->max_freq_drift = NAN;
}

void
kestrel_bench_probe_start (KestrelBenchProbe *p)
{
  memset (p, 0, sizeof *p);
  for (guint c = 0; c < n_cores (); c++)
    {
      g_autofree char *path = g_strdup_printf (CPU_DIR "/cpu%u/cpufreq/scaling_cur_freq", c);
      guint64 v;
      if (!read_u64 (path, &v))
        break;
      p->freq_khz[p->n_freq++] = (double) v;
    }
  p->throttle = read_throttle ();
  p->energy_ok = read_u64 (RAPL_DIR "/energy_uj", &p->energy_uj);
  p->sys_ok = kestrel_system_cpu_read (&p->sys_busy, &p->sys_total);
  /* The clocks last, so the reads above are outside the interval. */
  p->cpu_ns = kestrel_bench_process_cpu_ns ();
  p->wall_ns = g_get_monotonic_time () * G_GUINT64_CONSTANT (1000);
}

void
kestrel_bench_probe_stop (const KestrelBenchProbe *p, KestrelBenchTotals *t)
{
  guint64 wall = g_get_monotonic_time () * G_GUINT64_CONSTANT (1000);
  guint64 cpu = kestrel_bench_process_cpu_ns ();
  guint64 busy, total, energy, throttle;

  t->visits++;
  t->wall_ns += wall - p->wall_ns;
  t->cpu_ns += cpu >= p->cpu_ns ? cpu - p->cpu_ns : 0;
  if (p->sys_ok && kestrel_system_cpu_read (&busy, &total) && total >= p->sys_total)
    {
      t->sys_busy += busy >= p->sys_busy ? busy - p->sys_busy : 0;
      t->sys_total += total - p->sys_total;
    }
  else
    t->sys_ok = FALSE;
  if (p->energy_ok && read_u64 (RAPL_DIR "/energy_uj", &energy))
    {
      guint64 range = 0;
      if (energy >= p->energy_uj)
        t->energy_uj += energy - p->energy_uj;
      else if (read_u64 (RAPL_DIR "/max_energy_range_uj", &range))
        t->energy_uj += range - p->energy_uj + energy;   /* the counter wrapped */
      else
        t->energy_ok = FALSE;
    }
  else
    t->energy_ok = FALSE;
  throttle = read_throttle ();
  t->throttle_events += throttle >= p->throttle ? throttle - p->throttle : 0;
  for (guint c = 0; c < p->n_freq; c++)
    {
      g_autofree char *path = g_strdup_printf (CPU_DIR "/cpu%u/cpufreq/scaling_cur_freq", c);
      guint64 v;
      if (read_u64 (path, &v) && p->freq_khz[c] > 0)
        {
          double drift = fabs ((double) v - p->freq_khz[c]) / p->freq_khz[c];
          if (isnan (t->max_freq_drift) || drift > t->max_freq_drift)
            t->max_freq_drift = drift;
        }
    }
}
