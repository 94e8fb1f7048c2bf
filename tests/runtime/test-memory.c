/* test-memory.c — memory freed with a configuration goes back to the
 * system (issue 16, item 3: found by the soak).
 *
 * Plans are built on short-lived builder threads, so their memory comes
 * from glibc's per-thread malloc arenas, which keep freed memory unless
 * trimmed: in the soak, 341 MB resident for 26 MB in use after 13 minutes
 * of reconfigurations. Here the engine goes through 80 configurations
 * (both models, batches 1 to 16, two levels), each waited for until it
 * runs, then back to the first one: what is resident but not in use may
 * grow by at most BOUND_MB. Measured on the shared 2-core EPYC (Zen 3):
 * -2, +9 and +24 MB with the memory given back; +65 and +118 MB without
 * (malloc_trim taken out). The first version of this test bounded the
 * resident size alone, which also moves with what is in use (up to 20 MB
 * from run to run): it failed once with the memory given back, in the
 * fresh-machine check of c331c7e. Nothing is timed; the bound is on bytes.
 */
#include "config.h"

#include <malloc.h>
#include <stdio.h>

#include "kestrel-engine.h"

#define WAIT_LIMIT_US (300 * G_USEC_PER_SEC)
/* Growth allowed, over N_CONFIGURATIONS, of what is resident but not in
 * use. */
#define N_CONFIGURATIONS 80
#define BOUND_MB 40
#include "engine-test-util.h"

/* Resident bytes (VmRSS). */
static gint64
resident (void)
{
  g_autofree char *status = NULL;
  const char *line;
  gint64 rss_kb = 0;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "VmRSS: %" G_GINT64_FORMAT, &rss_kb), ==, 1);
  return rss_kb * 1024;
}

/* Bytes malloc has handed out and not had back. */
static gint64
in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();
  return (gint64) (info.uordblks + info.hblkhd);
}

typedef struct {
  KestrelEngine *engine;
  const char *model;
  guint batch;
  kk_level level;
} Running;

static gboolean
config_running (gpointer data)
{
  Running *r = data;
  KestrelEngineConfig config;
  gboolean done;

  kestrel_engine_get_config (r->engine, &config);
  done = g_strcmp0 (config.model, r->model) == 0 && config.batch == r->batch && config.level == r->level;
  kestrel_engine_config_clear (&config);
  return done;
}

static void
run_config (KestrelEngine *engine, const char *model, guint batch, kk_level level)
{
  KestrelEngineConfig config;
  Running r = { engine, model, batch, level };

  kestrel_engine_get_config (engine, &config);
  g_free (config.model);
  config.model = g_strdup (model);
  config.batch = batch;
  config.level = level;
  kestrel_engine_reconfigure (engine, &config);
  kestrel_engine_config_clear (&config);
  g_assert_true (wait_until (config_running, &r));
}

static void
test_memory_given_back (void)
{
  static const char *const models[] = { "front", "back" };
  static const guint batches[] = { 1, 2, 4, 8, 16 };
  static const kk_level levels[] = { KK_LEVEL_SIMD, KK_LEVEL_FULL };
  KestrelEngineConfig config;
  g_autoptr(GError) error = NULL;
  Events *events = events_new ();
  gint64 first, last, first_in_use, last_in_use;

  kestrel_engine_config_init (&config);
  g_free (config.source);
  config.source = g_strdup ("synthetic:?width=320&height=240");
  config.level = KK_LEVEL_FULL;
  g_autoptr(KestrelEngine) engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  g_signal_connect (engine, "event", G_CALLBACK (on_event), events);
  g_assert_true (kestrel_engine_start (engine, NULL, &error));
  g_assert_no_error (error);

  /* Every configuration once, so that every size has been seen... */
  run_config (engine, "back", 16, KK_LEVEL_FULL);
  run_config (engine, "front", 1, KK_LEVEL_FULL);
  first = resident ();
  first_in_use = in_use ();
  /* ... then N_CONFIGURATIONS more, and the same configuration as at `first` again: its
   * memory in use is the same, and so must be, nearly, what is resident. */
  for (guint i = 0; i < N_CONFIGURATIONS; i++)
    run_config (engine, models[i % 2], batches[(i / 2) % G_N_ELEMENTS (batches)],
                levels[(i / 10) % G_N_ELEMENTS (levels)]);
  run_config (engine, "front", 1, KK_LEVEL_FULL);
  last = resident ();
  last_in_use = in_use ();
  g_test_message ("resident %.1f MB (%.1f MB in use) after the first configurations, "
                  "%.1f MB (%.1f MB in use) after %u more",
                  first / 1e6, first_in_use / 1e6, last / 1e6, last_in_use / 1e6, N_CONFIGURATIONS);
  /* What is resident but not in use: memory freed and kept. What is in
   * use at the two points differs by up to 20 MB from run to run (plans
   * and caches freed a little sooner or later), which is not the defect. */
  g_assert_cmpint ((last - last_in_use) - (first - first_in_use), <, BOUND_MB * 1000 * 1000);

  kestrel_engine_stop (engine);
  g_assert_null (events_find (events, KESTREL_ENGINE_EVENT_CONFIG_ERROR));
  events_free (events);
}

int
main (int argc, char **argv)
{
  main_thread = g_thread_self ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/memory-given-back", test_memory_given_back);
  return g_test_run ();
}
