/* cli-run-storm.c — random live reconfigurations for `kestrel-cli run`
 * (see cli-run-storm.h for why it lives here). */
#include "config.h"

#include <stdio.h>

#include "cli-run-storm.h"
#include "kestrel-cli.h"

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
  char **sources;
  GRand *rand;
  gboolean json;
  guint n_requested;
  guint timeout_id;
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

static gboolean
on_tick (gpointer data)
{
  KestrelCliStorm *self = data;
  guint n_settings = g_strv_length (self->sources) > 1 ? N_SETTINGS : SET_SOURCE;
  Setting setting = g_rand_int_range (self->rand, 0, n_settings);
  g_autoptr(GString) to = g_string_new (NULL);

  draw (self, setting, to);
  self->n_requested++;
  kestrel_engine_reconfigure (self->engine, &self->wanted);

  if (self->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "reconfigure");
      json_builder_add_int_value (b, self->n_requested);
      json_builder_set_member_name (b, "set");
      json_builder_add_string_value (b, setting_names[setting]);
      json_builder_set_member_name (b, "to");
      json_builder_add_string_value (b, to->str);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      kestrel_cli_print_json (root, FALSE);
    }
  else
    {
      printf ("reconfiguration %u: %s %s\n", self->n_requested, setting_names[setting], to->str);
      fflush (stdout);
    }
  return G_SOURCE_CONTINUE;
}

KestrelCliStorm *
kestrel_cli_storm_new (KestrelEngine *engine, const KestrelEngineConfig *start, const char *const *sources,
                       guint32 seed, double every_s, gboolean json)
{
  KestrelCliStorm *self = g_new0 (KestrelCliStorm, 1);
  g_autoptr(GPtrArray) all = g_ptr_array_new ();

  self->engine = g_object_ref (engine);
  kestrel_engine_config_copy (&self->wanted, start);
  /* The starting source is always one of the sources drawn from. */
  g_ptr_array_add (all, g_strdup (start->source));
  for (guint i = 0; sources != NULL && sources[i] != NULL; i++)
    if (g_strcmp0 (sources[i], start->source) != 0)
      g_ptr_array_add (all, g_strdup (sources[i]));
  g_ptr_array_add (all, NULL);
  self->sources = (char **) g_ptr_array_free (g_steal_pointer (&all), FALSE);
  self->rand = g_rand_new_with_seed (seed);
  self->json = json;
  self->timeout_id = g_timeout_add ((guint) (every_s * 1000), on_tick, self);
  return self;
}

void
kestrel_cli_storm_free (KestrelCliStorm *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  kestrel_engine_config_clear (&self->wanted);
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
