/* cli-run-storm.c — random live reconfigurations for `kestrel-cli run`
 * (see cli-run-storm.h for why it lives here). */
#include "config.h"

#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli-run-storm.h"
#include "kestrel-cli.h"
#include "kestrel-sampler.h"

/* How long a checkpoint holds the starting configuration, once the engine
 * runs it, before it reads the resident size: the frames in flight under
 * the previous settings (a batch of up to 8, the pool's buffers) and the
 * previous plans are gone by then. */
#define CHECKPOINT_HOLD_US (5 * G_USEC_PER_SEC)
/* A checkpoint the engine has not reached after this long (an INT8
 * calibration still running, a rollback to another level) is given up. */
#define CHECKPOINT_GIVE_UP_US (60 * G_USEC_PER_SEC)

typedef enum {
  SET_PRECISION,
  SET_LEVEL,
  SET_THREADS,
  SET_BATCH,
  SET_BUDGET,
  SET_MODEL,
  SET_SOURCE,
  N_SETTINGS
} Setting;

static const char *const setting_names[N_SETTINGS] = {
  "precision", "level", "threads", "batch", "budget", "model", "source",
};

struct _KestrelCliStorm {
  KestrelEngine *engine;
  /* The last configuration asked for, not the one in effect: like the
   * window's settings, a request builds on the previous request even while
   * that one's plans are still being built (an INT8 calibration takes
   * seconds), so a storm never undoes its own changes by accident. */
  KestrelEngineConfig wanted;
  KestrelEngineConfig start;
  char **sources;
  GRand *rand;
  gboolean json;
  guint n_requested;
  guint timeout_id;
  gint64 created_us;
  /* Checkpoints: every so often the storm goes back to `start` and, once
   * the engine has run it for CHECKPOINT_HOLD_US, prints the resident
   * size. Random draws wait meanwhile. */
  guint checkpoint_id;
  guint hold_id;
  guint n_checkpoints;
  gint64 checkpoint_asked_us;
  gint64 at_start_since_us;     /* 0: the engine is not running `start` yet */
};

static const double batches[] = { 1, 2, 4, 8 };
static const double budgets[] = { 50, 100, 150 };
static const char *const models[] = { "front", "back" };

/* One of `n` values at random, other than the one at `current` (any of
 * them when `current` is not below n). */
static guint
other_index (GRand *rand, guint current, guint n)
{
  return (MIN (current, n - 1) + 1 + g_rand_int_range (rand, 0, n - 1)) % n;
}

/* Where `value` is in `values` (n_values when it is not there). */
static guint
index_of (const double *values, guint n_values, double value)
{
  guint i = 0;

  while (i < n_values && values[i] != value)
    i++;
  return i;
}

/* Picks a value of `setting` other than the current one (every setting has
 * at least two values) and writes its name into `to`. */
static void
draw (KestrelCliStorm *self, Setting setting, GString *to)
{
  KestrelEngineConfig *c = &self->wanted;
  guint n_cores = MAX (g_get_num_processors (), 1);

  switch (setting)
    {
    case SET_PRECISION:
      c->precision = c->precision == KESTREL_PRECISION_FP32 ? KESTREL_PRECISION_INT8 : KESTREL_PRECISION_FP32;
      g_string_assign (to, kestrel_precision_name (c->precision));
      break;
    case SET_LEVEL:
      c->level = other_index (self->rand, c->level, KK_LEVEL_COUNT);
      g_string_assign (to, kk_level_name (c->level));
      break;
    case SET_THREADS:
      /* 0 (all cores) is one of the values; on one core 0 and 1 differ only
       * in name, which still goes through the engine. */
      c->threads = other_index (self->rand, c->threads, n_cores + 1);
      g_string_printf (to, "%u", c->threads);
      break;
    case SET_BATCH:
      c->batch = (guint) batches[other_index (self->rand, index_of (batches, G_N_ELEMENTS (batches), c->batch),
                                              G_N_ELEMENTS (batches))];
      g_string_printf (to, "%u", c->batch);
      break;
    case SET_BUDGET:
      c->throttle = KESTREL_THROTTLE_MODE_BUDGET;
      c->budget = MIN (budgets[other_index (self->rand, index_of (budgets, G_N_ELEMENTS (budgets), c->budget),
                                            G_N_ELEMENTS (budgets))],
                       100.0 * n_cores);
      g_string_printf (to, "%g", c->budget);
      break;
    case SET_MODEL:
      {
        const char *next = g_strcmp0 (c->model, models[0]) == 0 ? models[1] : models[0];
        g_free (c->model);
        c->model = g_strdup (next);
        g_string_assign (to, c->model);
      }
      break;
    case SET_SOURCE:
    default:
      {
        guint n = g_strv_length (self->sources), i = 0;
        while (i < n && g_strcmp0 (self->sources[i], c->source) != 0)
          i++;
        g_free (c->source);
        c->source = g_strdup (self->sources[other_index (self->rand, i, n)]);
        g_string_assign (to, c->source);
      }
      break;
    }
}

/* Asks the engine for self->wanted and prints the request. */
static void
request (KestrelCliStorm *self, const char *set, const char *to)
{
  self->n_requested++;
  kestrel_engine_reconfigure (self->engine, &self->wanted);

  if (self->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "reconfigure");
      json_builder_add_int_value (b, self->n_requested);
      json_builder_set_member_name (b, "set");
      json_builder_add_string_value (b, set);
      json_builder_set_member_name (b, "to");
      json_builder_add_string_value (b, to);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      kestrel_cli_print_json (root, FALSE);
    }
  else
    {
      printf ("reconfiguration %u: %s %s\n", self->n_requested, set, to);
      fflush (stdout);
    }
}

static gboolean
on_tick (gpointer data)
{
  KestrelCliStorm *self = data;
  guint n_settings = g_strv_length (self->sources) > 1 ? N_SETTINGS : SET_SOURCE;
  Setting setting;
  g_autoptr(GString) to = g_string_new (NULL);

  if (self->hold_id != 0)
    return G_SOURCE_CONTINUE;
  setting = g_rand_int_range (self->rand, 0, n_settings);
  draw (self, setting, to);
  request (self, setting_names[setting], to->str);
  return G_SOURCE_CONTINUE;
}

/* Whether the engine runs the settings the storm draws from `start` (the
 * canary interval, thresholds and batching waits never change). */
static gboolean
runs_start (KestrelCliStorm *self)
{
  KestrelEngineConfig now;
  const KestrelEngineConfig *s = &self->start;
  gboolean same;

  kestrel_engine_get_config (self->engine, &now);
  same = g_strcmp0 (now.source, s->source) == 0 && g_strcmp0 (now.model, s->model) == 0
         && now.level == s->level && now.threads == s->threads && now.precision == s->precision
         && now.throttle == s->throttle && now.budget == s->budget && now.batch == s->batch;
  kestrel_engine_config_clear (&now);
  return same;
}

static void
print_checkpoint (KestrelCliStorm *self, gboolean reached, double rss_mb)
{
  double time_s = (g_get_monotonic_time () - self->created_us) / (double) G_USEC_PER_SEC;

  if (self->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "checkpoint");
      json_builder_add_int_value (b, self->n_checkpoints);
      kestrel_cli_json_add_double (b, "time_s", time_s);
      json_builder_set_member_name (b, "reached");
      json_builder_add_boolean_value (b, reached);
      if (reached)
        {
          kestrel_cli_json_add_double (b, "rss_mb", rss_mb);
#ifdef __GLIBC__
          /* What malloc has handed out and not had back, and what its heaps
           * hold free: when the resident size grows, whether the run keeps
           * more or malloc's heaps fragment. */
          struct mallinfo2 info = mallinfo2 ();
          kestrel_cli_json_add_double (b, "malloc_in_use_mb", (info.uordblks + info.hblkhd) / 1e6);
          kestrel_cli_json_add_double (b, "malloc_free_mb", info.fordblks / 1e6);
#endif
        }
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      kestrel_cli_print_json (root, FALSE);
    }
  else
    {
      if (reached)
        printf ("checkpoint %u at %.0f s: %.1f MB resident at the starting configuration\n",
                self->n_checkpoints, time_s, rss_mb);
      else
        printf ("checkpoint %u at %.0f s: the engine did not reach the starting configuration\n",
                self->n_checkpoints, time_s);
      fflush (stdout);
    }
}

static gboolean
on_hold_tick (gpointer data)
{
  KestrelCliStorm *self = data;
  gint64 now = g_get_monotonic_time ();

  if (!runs_start (self))
    self->at_start_since_us = 0;
  else if (self->at_start_since_us == 0)
    self->at_start_since_us = now;

  if (self->at_start_since_us != 0 && now - self->at_start_since_us >= CHECKPOINT_HOLD_US)
    {
      guint64 rss = 0;

      kestrel_process_usage_read (NULL, &rss, NULL);
      print_checkpoint (self, TRUE, rss / 1e6);
    }
  else if (now - self->checkpoint_asked_us >= CHECKPOINT_GIVE_UP_US)
    print_checkpoint (self, FALSE, 0);
  else
    return G_SOURCE_CONTINUE;
  self->hold_id = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
on_checkpoint (gpointer data)
{
  KestrelCliStorm *self = data;

  if (self->hold_id != 0)
    return G_SOURCE_CONTINUE;
  self->n_checkpoints++;
  kestrel_engine_config_copy (&self->wanted, &self->start);
  request (self, "checkpoint", "start");
  self->checkpoint_asked_us = g_get_monotonic_time ();
  self->at_start_since_us = 0;
  self->hold_id = g_timeout_add (250, on_hold_tick, self);
  return G_SOURCE_CONTINUE;
}

KestrelCliStorm *
kestrel_cli_storm_new (KestrelEngine *engine, const KestrelEngineConfig *start, const char *const *sources,
                       guint32 seed, double every_s, double checkpoint_every_s, gboolean json)
{
  KestrelCliStorm *self = g_new0 (KestrelCliStorm, 1);
  g_autoptr(GPtrArray) all = g_ptr_array_new ();

  self->engine = g_object_ref (engine);
  kestrel_engine_config_copy (&self->wanted, start);
  kestrel_engine_config_copy (&self->start, start);
  /* The starting source is always one of the sources drawn from. */
  g_ptr_array_add (all, g_strdup (start->source));
  for (guint i = 0; sources != NULL && sources[i] != NULL; i++)
    if (g_strcmp0 (sources[i], start->source) != 0)
      g_ptr_array_add (all, g_strdup (sources[i]));
  g_ptr_array_add (all, NULL);
  self->sources = (char **) g_ptr_array_free (g_steal_pointer (&all), FALSE);
  self->rand = g_rand_new_with_seed (seed);
  self->json = json;
  self->created_us = g_get_monotonic_time ();
  self->timeout_id = g_timeout_add ((guint) (every_s * 1000), on_tick, self);
  if (checkpoint_every_s > 0)
    self->checkpoint_id = g_timeout_add ((guint) (checkpoint_every_s * 1000), on_checkpoint, self);
  return self;
}

void
kestrel_cli_storm_free (KestrelCliStorm *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_handle_id (&self->checkpoint_id, g_source_remove);
  g_clear_handle_id (&self->hold_id, g_source_remove);
  kestrel_engine_config_clear (&self->wanted);
  kestrel_engine_config_clear (&self->start);
  g_strfreev (self->sources);
  g_rand_free (self->rand);
  g_object_unref (self->engine);
  g_free (self);
}

guint
kestrel_cli_storm_get_n_requested (KestrelCliStorm *self)
{
  return self->n_requested;
}
