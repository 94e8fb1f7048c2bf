/* kestrel-window.c — see kestrel-window.h.
 *
 * Polling. The window reads the engine on two main-loop timeouts that exist
 * only while it is mapped and not minimised: the sample tick (the
 * sample-interval-ms setting, 1 s by default) feeds the graphs and the
 * title, and the preview tick (10 Hz, and only while the pipeline runs)
 * fetches the engine's display copy of the last frame. While the window is
 * hidden the engine keeps no preview copy at all (interval 0), and the
 * graphs stop drawing by themselves.
 *
 * Latency per stage. A snapshot carries latency histograms counted since
 * the start, so the graphs' p50 and p95 come from the difference between
 * this tick's cumulative bucket counts and the previous tick's: the
 * quantiles of the frames in that interval alone. They go into rings of
 * the window's own (the largest history), and the latency graph draws
 * either the p50 or the p95 rings.
 *
 * Starting. kestrel_engine_start() loads the model and builds the first
 * plan on the calling thread; it runs in a GTask thread so the window is
 * drawn and answers at once. The engine is created on the main thread
 * first, so its ::event signals arrive here.
 *
 * Why one file of more than 800 lines: the window ties the engine to the
 * dashboard, the event log, export and the scripted run's report, and
 * several people change it this week; export and the report are the seams
 * to move into files of their own once that work has landed.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-application.h"
#include "kestrel-controls.h"
#include "kestrel-dashboard.h"
#include "kestrel-benchmark-view.h"
#include "kestrel-engine-settings.h"
#include "kestrel-event-log.h"
#include "kestrel-graph-export.h"
#include "kestrel-graph-view.h"
#include "kestrel-preferences.h"
#include "kestrel-preview.h"
#include "kestrel-sampler.h"
#include "kestrel-ui.h"
#include "kestrel-window.h"

#define PREVIEW_INTERVAL_MS 100
/* After a toast of one kind of event has gone, more events of that kind go
 * to the event log only, for this long: a source that keeps failing must
 * not bring back the toast the user just closed. */
#define TOAST_QUIET_US (60 * G_TIME_SPAN_SECOND)
#define N_EVENT_KINDS (KESTREL_ENGINE_EVENT_SAFE_MODE + 1)
#define LATENCY_RING_CAPACITY KESTREL_RING_MAX_CAPACITY

enum { Q50, Q95, N_QUANTILES };

struct _KestrelWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets */
  AdwToastOverlay     *toast_overlay;
  AdwWindowTitle      *window_title;        /* the whole subtitle */
  AdwWindowTitle      *window_title_short;  /* for narrow windows */
  GtkToggleButton     *pause_button;
  GtkWidget           *rollback_button;
  gboolean             narrow;
  guint                narrow_id;
  GtkRevealer         *safe_mode_revealer;
  AdwFlap             *flap;
  GtkScrolledWindow   *controls_scroller;
  AdwBin              *preview_bin;
  KestrelGraphView    *cpu_graph;
  KestrelGraphView    *memory_graph;
  KestrelGraphView    *growth_graph;
  GtkWidget           *agreement_label;
  GtkWidget           *plan_memory_label;
  KestrelGraphView    *agreement_graph;
  KestrelGraphView    *latency_graph;
  GtkToggleButton     *p95_button;
  GtkWindow           *events_window;
  GtkWidget           *events_empty;
  GtkWidget           *events_scroller;
  GtkListBox          *events_list;
  GtkStack            *view_stack;
  GtkToggleButton     *benchmark_button;
  GtkWidget           *controls_button;
  KestrelBenchmarkView *benchmark_view;
  GtkWidget           *switcher_squeezer;
  GtkActionBar        *switcher_bar;
  gboolean             paused_for_benchmark;

  GSettings           *settings;         /* engine and graphs */
  GSettings           *window_settings;  /* size, never delayed */

  GtkWidget           *preview;          /* owned: swapped with the failure page */
  GtkWidget           *failure_page;     /* owned; NULL until a start fails */
  GtkWidget           *controls;

  KestrelEngine       *engine;           /* NULL until started */
  KestrelEngine       *starting_engine;  /* while kestrel_engine_start() runs */
  char                *crash_marker;
  gboolean             start_paused;
  gboolean             start_failed;
  char                *start_error;      /* why, for the report */
  guint                retry_id;

  GdkSurface          *surface;
  gulong               surface_state_handler;
  gboolean             minimized;
  guint                sample_id;
  guint                preview_id;

  /* Graph series indexes. */
  guint                cpu_self, cpu_system;
  guint                memory_rss, memory_growth;
  guint                agreement;
  guint64              last_agreement_checks;
  KestrelRing         *stage_rings[N_QUANTILES][KESTREL_N_STAGES];
  guint64              stage_counts[KESTREL_N_STAGES][KESTREL_HISTOGRAM_N_BUCKETS];
  guint64              frame_counts[KESTREL_HISTOGRAM_N_BUCKETS];
  gint64               last_system_time;

  gboolean             safe_mode;
  guint64              cpu_start_ns;
  gint64               started_us;
  KestrelEventLog     *events;

  /* One toast per kind of event at a time, counting repeats. */
  AdwToast            *toasts[N_EVENT_KINDS];
  char                *toast_titles[N_EVENT_KINDS];
  guint                toast_counts[N_EVENT_KINDS];
  gint64               toast_gone_us[N_EVENT_KINDS];
};

G_DEFINE_FINAL_TYPE (KestrelWindow, kestrel_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  STARTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void update_polling (KestrelWindow *self);

/* ---- latency quantiles over one tick ------------------------------------ */

/* The @q quantile, in ms, of the values counted between two cumulative
 * bucket readings (KESTREL_HISTOGRAM_N_BUCKETS each), interpolated inside
 * its bucket as kestrel_histogram_get_quantile() does; NAN with no values. */
static double
quantile_between (const guint64 *before,
                  const guint64 *now,
                  double         q)
{
  guint last = KESTREL_HISTOGRAM_N_BUCKETS - 1;
  guint64 total = now[last] - before[last];
  double target, below = 0, lower = 0, upper;

  if (total == 0)
    return NAN;
  target = q * (double) total;
  for (guint i = 0; i < KESTREL_HISTOGRAM_N_BUCKETS; i++)
    {
      double here = (double) (now[i] - before[i]);

      upper = kestrel_histogram_get_bucket_bound (i);
      if (here >= target && here > below)
        {
          if (!isfinite (upper))
            return lower * 1e3;
          return (lower + (upper - lower) * (target - below) / (here - below)) * 1e3;
        }
      below = here;
      lower = upper;
    }
  return lower * 1e3;
}

/* Reads @histogram's cumulative counts into @counts and returns the p50
 * and p95 of what was recorded since the previous reading. A histogram
 * that went backwards (a metrics reset) starts over from zero. */
static void
read_interval (KestrelHistogram *histogram,
               guint64          *counts,
               double           *p50,
               double           *p95)
{
  guint64 now[KESTREL_HISTOGRAM_N_BUCKETS];
  guint last = KESTREL_HISTOGRAM_N_BUCKETS - 1;

  kestrel_histogram_get_cumulative_counts (histogram, now);
  if (now[last] < counts[last])
    memset (counts, 0, sizeof now);
  *p50 = quantile_between (counts, now, 0.50);
  *p95 = quantile_between (counts, now, 0.95);
  memcpy (counts, now, sizeof now);
}

/* ---- the engine's events ------------------------------------------------ */

static void
show_safe_mode (KestrelWindow *self,
                gboolean       shown)
{
  self->safe_mode = shown;
  gtk_revealer_set_reveal_child (self->safe_mode_revealer, shown);
  if (self->controls != NULL)
    kestrel_controls_set_safe_mode (KESTREL_CONTROLS (self->controls), shown);
}

/* A toast with no count and no quiet period: answers to the user's own
 * actions. */
static void
add_toast (KestrelWindow *self,
           const char    *title)
{
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
on_event_toast_dismissed (AdwToast      *toast,
                          KestrelWindow *self)
{
  guint kind = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (toast), "kestrel-event-kind"));

  if (kind < N_EVENT_KINDS && self->toasts[kind] == toast)
    {
      self->toasts[kind] = NULL;
      self->toast_gone_us[kind] = g_get_monotonic_time ();
    }
}

/* Events come in runs (a source failing frame after frame): while the
 * toast of a kind is up, more of that kind count in its title; after it
 * has gone they go to the event log only, for TOAST_QUIET_US. The details
 * are in the event log, which the toast's button opens. */
static void
toast_event (KestrelWindow          *self,
             KestrelEngineEventKind  kind,
             const char             *title)
{
  AdwToast *toast;

  if (self->toasts[kind] != NULL)
    {
      g_autofree char *counted = NULL;
      guint n = ++self->toast_counts[kind];

      /* Translators: a toast's title and how many times it happened. */
      counted = g_strdup_printf (ngettext ("%s (%u time)", "%s (%u times)", n),
                                 self->toast_titles[kind], n);
      adw_toast_set_title (self->toasts[kind], counted);
      return;
    }
  if (self->toasts[kind] == NULL && self->toast_gone_us[kind] != 0 &&
      g_get_monotonic_time () - self->toast_gone_us[kind] < TOAST_QUIET_US)
    return;

  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_Details"));
  adw_toast_set_action_name (toast, "win.show-events");
  adw_toast_set_timeout (toast, 8);
  g_object_set_data (G_OBJECT (toast), "kestrel-event-kind", GUINT_TO_POINTER (kind));
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (on_event_toast_dismissed), self, 0);
  self->toasts[kind] = toast;
  self->toast_counts[kind] = 1;
  g_free (self->toast_titles[kind]);
  self->toast_titles[kind] = g_strdup (title);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* A new source makes new errors news again: the old toast goes, and the
 * quiet period with it. */
static void
forget_source_errors (KestrelWindow *self)
{
  if (self->toasts[KESTREL_ENGINE_EVENT_SOURCE_ERROR] != NULL)
    adw_toast_dismiss (self->toasts[KESTREL_ENGINE_EVENT_SOURCE_ERROR]);
  self->toast_gone_us[KESTREL_ENGINE_EVENT_SOURCE_ERROR] = 0;
}

static void
on_engine_event (KestrelEngine *engine,
                 int            kind,
                 const char    *message,
                 KestrelWindow *self)
{
  const char *title = NULL;

  switch ((KestrelEngineEventKind) kind)
    {
    case KESTREL_ENGINE_EVENT_ROLLBACK:
      title = _("Results differed from the reference path: Kestrel went back to the last settings that passed");
      break;
    case KESTREL_ENGINE_EVENT_SOURCE_ERROR:
      title = _("A frame could not be read from the source");
      break;
    case KESTREL_ENGINE_EVENT_CONFIG_ERROR:
      title = _("The new settings could not be applied; the previous ones are still in use");
      break;
    case KESTREL_ENGINE_EVENT_SAFE_MODE:
      title = _("Kestrel did not stop cleanly last time, so it runs in safe mode");
      show_safe_mode (self, TRUE);
      break;
    case KESTREL_ENGINE_EVENT_INFO:
    default:
      /* Logged, not toasted: nothing the user needs to act on. */
      g_debug ("engine: %s", message);
      kestrel_event_log_add (self->events, KESTREL_ENGINE_EVENT_INFO, NULL, message);
      return;
    }
  kestrel_event_log_add (self->events, kind, title, message);
  toast_event (self, kind, title);
}

/* ---- polling -------------------------------------------------------------- */

/* Both titles of the header's squeezer: the whole subtitle, and the short
 * one a narrow window shows (NULL: the same). */
static void
set_subtitle (KestrelWindow *self,
              const char    *subtitle,
              const char    *short_subtitle)
{
  if (short_subtitle == NULL)
    short_subtitle = subtitle;
  if (g_strcmp0 (adw_window_title_get_subtitle (self->window_title), subtitle) != 0)
    adw_window_title_set_subtitle (self->window_title, subtitle);
  if (g_strcmp0 (adw_window_title_get_subtitle (self->window_title_short), short_subtitle) != 0)
    adw_window_title_set_subtitle (self->window_title_short, short_subtitle);
}

static void
update_title (KestrelWindow          *self,
              KestrelMetricsSnapshot *snap)
{
  g_autofree char *subtitle = NULL;
  g_autofree char *short_subtitle = NULL;
  g_autofree char *budget = NULL;
  g_autofree char *short_budget = NULL;
  const char *model = snap->config.model;
  const char *short_model;
  gboolean paused;

  if (self->engine == NULL)
    return;
  if (g_str_equal (model, "front"))
    {
      model = _("Front camera model");
      /* Translators: the front camera model in a narrow window's subtitle */
      short_model = C_("short model name", "Front");
    }
  else if (g_str_equal (model, "back"))
    {
      model = _("Back camera model");
      /* Translators: the back camera model in a narrow window's subtitle */
      short_model = C_("short model name", "Back");
    }
  else
    {
      if (*model != '\0')
        model = strrchr (model, '/') != NULL ? strrchr (model, '/') + 1 : model;
      short_model = model;
    }

  /* What it may cost is part of what runs: a user leaving Kestrel on sees
   * the budget without opening the controls. */
  if (snap->config.budget_percent > 0)
    {
      /* Translators: in the window subtitle; %.0f is percent of one processor core. */
      budget = g_strdup_printf (_("budget %.0f %%"), snap->config.budget_percent);
      /* Translators: the budget in a narrow window's subtitle; percent of one core. */
      short_budget = g_strdup_printf (C_("short subtitle", "%.0f %%"), snap->config.budget_percent);
    }
  else
    {
      /* Translators: in the window subtitle: throttling is off. */
      budget = g_strdup (_("no budget"));
      short_budget = g_strdup (budget);
    }

  paused = kestrel_engine_get_state (self->engine) == KESTREL_ENGINE_PAUSED;
  if (paused)
    {
      /* Translators: the window subtitle: model, optimisation level, precision, budget. */
      subtitle = g_strdup_printf (_("%s · %s · %s · %s · paused"), model, snap->config.level,
                                  snap->config.precision, budget);
      /* Translators: a narrow window's subtitle: model, budget. */
      short_subtitle = g_strdup_printf (C_("short subtitle", "%s · %s · paused"), short_model, short_budget);
    }
  else
    {
      subtitle = g_strdup_printf (_("%s · %s · %s · %s"), model, snap->config.level,
                                  snap->config.precision, budget);
      short_subtitle = g_strdup_printf (C_("short subtitle", "%s · %s"), short_model, short_budget);
    }
  if (self->safe_mode)
    {
      char *with_mode = g_strdup_printf (_("Safe mode · %s"), subtitle);
      g_free (subtitle);
      subtitle = with_mode;
      with_mode = g_strdup_printf (_("Safe mode · %s"), short_subtitle);
      g_free (short_subtitle);
      short_subtitle = with_mode;
    }
  set_subtitle (self, subtitle, short_subtitle);
}

static void
update_pause_state (KestrelWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "pause");
  gboolean paused = self->engine != NULL &&
                    kestrel_engine_get_state (self->engine) == KESTREL_ENGINE_PAUSED;

  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_boolean (paused));
  gtk_button_set_icon_name (GTK_BUTTON (self->pause_button),
                            paused ? "media-playback-start-symbolic"
                                   : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->pause_button),
                               paused ? _("Resume") : _("Pause"));
}


/* Under the Memory heading: the running plan's weights and arenas, as the
 * engine publishes them (nothing while no plan runs). */
static void
show_plan_memory (KestrelWindow *self, const KestrelMetricsSnapshot *snap)
{
  g_autofree char *text = NULL;

  if (snap->config.weight_bytes > 0)
    {
      g_autofree char *weights = g_format_size (snap->config.weight_bytes);
      g_autofree char *arena = g_format_size (snap->config.arena_bytes);
      g_autofree char *precision = g_ascii_strup (snap->config.precision, -1);
      /* TRANSLATORS: under the Memory graph: the running plan's memory at
       * its precision ("FP16"); the sizes (such as "210.4 kB") are its
       * weights and its intermediate tensors. */
      text = g_strdup_printf (_("%s plan: weights %s, working memory %s"), precision, weights, arena);
    }
  if (g_strcmp0 (gtk_label_get_label (GTK_LABEL (self->plan_memory_label)), text != NULL ? text : "") != 0)
    gtk_label_set_label (GTK_LABEL (self->plan_memory_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->plan_memory_label, text != NULL);
}

static gboolean
sample_tick (gpointer data)
{
  KestrelWindow *self = data;
  g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (self->engine);
  gint64 now = g_get_monotonic_time ();
  double frame_p50, frame_p95;
  gboolean running = kestrel_engine_get_state (self->engine) == KESTREL_ENGINE_RUNNING;

  /* The engine samples the system once a second; a faster tick must not
   * add the same sample twice, a slower one takes the latest. */
  if (snap->have_system && snap->system.time_us != self->last_system_time)
    {
      const KestrelSystemSample *s = &snap->system;

      self->last_system_time = s->time_us;
      kestrel_graph_view_push (self->cpu_graph, self->cpu_self, s->time_us, s->process_cpu_percent);
      /* Of one core, like Kestrel's own line and the budget. */
      kestrel_graph_view_push (self->cpu_graph, self->cpu_system, s->time_us,
                               s->system_cpu_percent * MAX (s->n_cores, 1));
      kestrel_graph_view_push (self->memory_graph, self->memory_rss, s->time_us, s->rss_bytes / 1e6);
      if (isfinite (s->memory_growth_mb_per_hour))
        kestrel_graph_view_push (self->growth_graph, self->memory_growth, s->time_us,
                                 s->memory_growth_mb_per_hour);
    }

  /* Below FP32 the engine compares a frame now and then with FP32: one
   * point per check, and the graph only while there are checks. */
  if (snap->have_agreement && snap->agreement_checks != self->last_agreement_checks)
    {
      self->last_agreement_checks = snap->agreement_checks;
      kestrel_graph_view_push (self->agreement_graph, self->agreement, snap->time_us,
                               kestrel_agreement_get_percent (&snap->agreement));
    }
  gtk_widget_set_visible (self->agreement_label, snap->have_agreement);
  show_plan_memory (self, snap);
  if (self->controls != NULL)
    kestrel_controls_show_snapshot (KESTREL_CONTROLS (self->controls), snap);
  gtk_widget_set_visible (GTK_WIDGET (self->agreement_graph), snap->have_agreement);

  for (guint stage = 0; stage < KESTREL_N_STAGES; stage++)
    {
      double p50, p95;

      read_interval (snap->stage_latency[stage], self->stage_counts[stage], &p50, &p95);
      /* No frame in this interval (paused, or a slow source): no point,
       * rather than a made-up zero. */
      if (isfinite (p50))
        {
          kestrel_ring_push (self->stage_rings[Q50][stage], now, p50);
          kestrel_ring_push (self->stage_rings[Q95][stage], now, p95);
        }
    }
  read_interval (snap->frame_latency, self->frame_counts, &frame_p50, &frame_p95);

  /* One now for every graph, so their time axes agree to the pixel. */
  kestrel_graph_view_set_time (self->cpu_graph, now);
  kestrel_graph_view_set_time (self->memory_graph, now);
  kestrel_graph_view_set_time (self->growth_graph, now);
  kestrel_graph_view_set_time (self->agreement_graph, now);
  kestrel_graph_view_set_time (self->latency_graph, now);

  kestrel_graph_view_set_show_reference (self->cpu_graph, snap->config.budget_percent > 0);
  if (snap->config.budget_percent > 0)
    {
      /* Translators: the CPU graph's budget line; %.0f is percent of one core. */
      g_autofree char *label = g_strdup_printf (_("Budget %.0f %%"), snap->config.budget_percent);

      kestrel_graph_view_set_reference_value (self->cpu_graph, snap->config.budget_percent);
      kestrel_graph_view_set_reference_label (self->cpu_graph, label);
    }

  kestrel_preview_set_rate (KESTREL_PREVIEW (self->preview),
                            running ? snap->fps : (double) NAN, running ? frame_p50 : (double) NAN);

  /* Safe mode ends when something else than the reference path runs, from
   * the bar's button or from the controls. */
  if (self->safe_mode && g_strcmp0 (snap->config.level, "scalar") != 0)
    show_safe_mode (self, FALSE);

  update_title (self, snap);
  update_pause_state (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
preview_tick (gpointer data)
{
  KestrelWindow *self = data;
  g_autoptr(KestrelPreviewFrame) frame = kestrel_engine_get_preview (self->engine);

  /* set_frame() ignores the frame already shown. */
  if (frame != NULL)
    kestrel_preview_set_frame (KESTREL_PREVIEW (self->preview), frame);
  return G_SOURCE_CONTINUE;
}

static void
update_polling (KestrelWindow *self)
{
  gboolean visible = gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->minimized;
  gboolean sampling = visible && self->engine != NULL;
  gboolean previewing = sampling &&
                        kestrel_engine_get_state (self->engine) == KESTREL_ENGINE_RUNNING;

  if (sampling && self->sample_id == 0)
    {
      guint interval = (guint) g_settings_get_int (self->settings, "sample-interval-ms");

      self->sample_id = kestrel_ui_timeout_add (interval, sample_tick, self,
                                                "[kestrel] window sample tick");
    }
  else if (!sampling)
    g_clear_handle_id (&self->sample_id, g_source_remove);

  if (previewing && self->preview_id == 0)
    {
      self->preview_id = g_timeout_add (PREVIEW_INTERVAL_MS, preview_tick, self);
      g_source_set_name_by_id (self->preview_id, "[kestrel] window preview tick");
    }
  else if (!previewing)
    g_clear_handle_id (&self->preview_id, g_source_remove);

  if (self->engine != NULL)
    kestrel_engine_set_preview_interval (self->engine, previewing ? PREVIEW_INTERVAL_MS : 0);
}

static void
on_surface_state (GdkSurface    *surface,
                  GParamSpec    *pspec,
                  KestrelWindow *self)
{
  gboolean minimized = kestrel_ui_toplevel_is_hidden (surface);

  if (minimized != self->minimized)
    {
      self->minimized = minimized;
      update_polling (self);
    }
}

static void
kestrel_window_realize (GtkWidget *widget)
{
  KestrelWindow *self = KESTREL_WINDOW (widget);

  GTK_WIDGET_CLASS (kestrel_window_parent_class)->realize (widget);

  self->surface = g_object_ref (gtk_native_get_surface (GTK_NATIVE (self)));
  self->surface_state_handler =
    g_signal_connect (self->surface, "notify::state", G_CALLBACK (on_surface_state), self);
}

static void
kestrel_window_unrealize (GtkWidget *widget)
{
  KestrelWindow *self = KESTREL_WINDOW (widget);

  /* By id: GtkNative's own handlers on this surface have the window as
   * their data too. */
  if (self->surface != NULL)
    g_clear_signal_handler (&self->surface_state_handler, self->surface);
  g_clear_object (&self->surface);
  GTK_WIDGET_CLASS (kestrel_window_parent_class)->unrealize (widget);
}

static void
kestrel_window_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kestrel_window_parent_class)->map (widget);
  update_polling (KESTREL_WINDOW (widget));
}

static void
kestrel_window_unmap (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kestrel_window_parent_class)->unmap (widget);
  update_polling (KESTREL_WINDOW (widget));
}

/* Narrow (a phone's 360 px), the header has room for the name and a short
 * subtitle only when the roll-back button leaves it; rolling back stays one
 * click away in the controls' Reference Path row. Decided on the window's
 * width, not on what the title needs, so that showing the button again
 * cannot make the title squeeze it out again. Applied from an idle: a
 * widget shown or hidden while the window is being allocated would only be
 * laid out at the next frame anyway, with a warning. */
#define NARROW_WIDTH 500

static gboolean
apply_narrow (gpointer data)
{
  KestrelWindow *self = data;

  self->narrow_id = 0;
  gtk_widget_set_visible (self->rollback_button, !self->narrow);
  /* The view switcher moves to a bar at the bottom. */
  gtk_widget_set_visible (self->switcher_squeezer, !self->narrow);
  gtk_widget_set_visible (GTK_WIDGET (self->switcher_bar), self->narrow);
  return G_SOURCE_REMOVE;
}

static void
kestrel_window_size_allocate (GtkWidget *widget,
                              int        width,
                              int        height,
                              int        baseline)
{
  KestrelWindow *self = KESTREL_WINDOW (widget);
  gboolean narrow = width < NARROW_WIDTH;

  GTK_WIDGET_CLASS (kestrel_window_parent_class)->size_allocate (widget, width, height, baseline);
  if (narrow != self->narrow)
    {
      self->narrow = narrow;
      if (self->narrow_id == 0)
        self->narrow_id = g_idle_add (apply_narrow, self);
    }
}

/* ---- starting and stopping ---------------------------------------------- */

typedef struct {
  KestrelEngine *engine;
  char *crash_marker;
  gint64 begin_us;
} StartData;

static void
start_data_free (StartData *data)
{
  g_clear_object (&data->engine);
  g_free (data->crash_marker);
  g_free (data);
}

static void
start_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  StartData *data = task_data;
  GError *error = NULL;

  if (kestrel_engine_start (data->engine, data->crash_marker, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* After a failed start, the settings are the way out (another source,
 * another model): on_settings_changed() tries again once they have
 * settled. */
static gboolean
retry_start (gpointer data)
{
  KestrelWindow *self = data;

  self->retry_id = 0;
  kestrel_window_start (self, self->crash_marker, self->start_paused);
  return G_SOURCE_REMOVE;
}

/* Nothing to roll back to when the reference path is what is asked for. */
static void
update_rollback_enabled (KestrelWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "rollback");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               g_settings_get_enum (self->settings, "level") != KK_LEVEL_SCALAR);
}

static void
on_settings_changed (GSettings     *settings,
                     const char    *key,
                     KestrelWindow *self)
{
  if (g_str_equal (key, "level"))
    update_rollback_enabled (self);
  if (g_str_equal (key, "source-kind") || g_str_equal (key, "source-path"))
    forget_source_errors (self);
  if (g_str_equal (key, "history-points"))
    {
      guint n = (guint) g_settings_get_int (settings, key);

      kestrel_graph_view_set_history_length (self->cpu_graph, n);
      kestrel_graph_view_set_history_length (self->memory_graph, n);
      kestrel_graph_view_set_history_length (self->growth_graph, n);
      kestrel_graph_view_set_history_length (self->agreement_graph, n);
      kestrel_graph_view_set_history_length (self->latency_graph, n);
      return;
    }
  if (g_str_equal (key, "sample-interval-ms"))
    {
      guint interval = (guint) g_settings_get_int (settings, key);

      /* The engine's sampler makes the CPU and memory points. */
      if (self->engine != NULL)
        kestrel_engine_set_sample_interval (self->engine, interval);
      g_clear_handle_id (&self->sample_id, g_source_remove);
      {
        KestrelGraphView *graphs[] = {
          self->cpu_graph, self->memory_graph, self->growth_graph, self->agreement_graph,
          self->latency_graph,
        };

        for (guint i = 0; i < G_N_ELEMENTS (graphs); i++)
          {
            kestrel_graph_view_set_refresh_interval (graphs[i], interval);
            kestrel_graph_view_set_sample_interval (graphs[i], interval);
          }
      }
      update_polling (self);
      return;
    }
  if (self->start_failed && self->starting_engine == NULL &&
      kestrel_engine_settings_is_engine_key (key) &&
      !gtk_widget_in_destruction (GTK_WIDGET (self)))
    {
      g_clear_handle_id (&self->retry_id, g_source_remove);
      self->retry_id = g_timeout_add (300, retry_start, self);
    }
}

/* ---- a start that failed ------------------------------------------------ */

/* In place of the preview, where the first frame would have been: what
 * failed, in the engine's words (they name the file or the device), and
 * the two ways out. Built once, kept while the preview is not shown. */
static GtkWidget *
build_failure_page (void)
{
  GtkWidget *page = adw_status_page_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *defaults = gtk_button_new_with_mnemonic (_("Use the _Defaults"));
  GtkWidget *controls = gtk_button_new_with_mnemonic (_("Show _Controls"));

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (page), "dialog-error-symbolic");
  gtk_widget_add_css_class (page, "compact");
  gtk_widget_set_hexpand (page, TRUE);

  gtk_widget_set_tooltip_text (defaults, _("Run the front-camera model on the sample photos, at the "
                                           "precision this version runs best"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (defaults), "win.use-defaults");
  gtk_widget_add_css_class (defaults, "suggested-action");
  gtk_widget_add_css_class (defaults, "pill");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (controls), "win.open-controls");
  gtk_widget_add_css_class (controls, "pill");
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (buttons), defaults);
  gtk_box_append (GTK_BOX (buttons), controls);
  adw_status_page_set_child (ADW_STATUS_PAGE (page), buttons);
  return g_object_ref_sink (page);
}

static void
show_failure (KestrelWindow *self,
              const char    *message)
{
  g_autofree char *escaped = g_markup_escape_text (message, -1);
  g_autofree char *description = NULL;

  if (self->failure_page == NULL)
    self->failure_page = build_failure_page ();
  /* Translators: below the reason a start failed. */
  description = g_strdup_printf (_("%s\n\nChoose another model or source in the controls, "
                                   "or go back to the defaults."), escaped);
  adw_status_page_set_title (ADW_STATUS_PAGE (self->failure_page), _("Kestrel Could Not Start"));
  adw_status_page_set_description (ADW_STATUS_PAGE (self->failure_page), description);
  if (adw_bin_get_child (self->preview_bin) != self->failure_page)
    adw_bin_set_child (self->preview_bin, self->failure_page);
}

static void
hide_failure (KestrelWindow *self)
{
  if (adw_bin_get_child (self->preview_bin) != self->preview)
    adw_bin_set_child (self->preview_bin, self->preview);
}

static void
on_started (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KestrelWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelEngine) engine = g_steal_pointer (&self->starting_engine);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      self->start_failed = TRUE;
      g_free (self->start_error);
      self->start_error = g_strdup (error->message);
      g_signal_handlers_disconnect_by_data (engine, self);
      set_subtitle (self, _("Not running"), NULL);
      /* On screen at once, and for as long as it is true: not a toast. */
      show_failure (self, error->message);
      kestrel_event_log_add (self->events, KESTREL_ENGINE_EVENT_CONFIG_ERROR,
                             _("Kestrel could not start"), error->message);
      g_signal_emit (self, signals[STARTED], 0, error->message);
      return;
    }

  self->start_failed = FALSE;
  g_clear_pointer (&self->start_error, g_free);
  hide_failure (self);
  g_debug ("pipeline started in %.0f ms (model loaded, first plan built, off the main thread)",
           (g_get_monotonic_time () - ((StartData *) g_task_get_task_data (G_TASK (result)))->begin_us) / 1e3);
  self->engine = g_steal_pointer (&engine);
  if (self->start_paused)
    kestrel_engine_pause (self->engine);
  kestrel_process_usage_read (&self->cpu_start_ns, NULL, NULL);
  self->started_us = g_get_monotonic_time ();
  kestrel_controls_set_engine (KESTREL_CONTROLS (self->controls), self->engine);
  update_pause_state (self);
  update_polling (self);
  g_signal_emit (self, signals[STARTED], 0, NULL);
}

void
kestrel_window_start (KestrelWindow *self,
                      const char    *crash_marker,
                      gboolean       paused)
{
  g_autoptr(GTask) task = NULL;
  StartData *data;
  KestrelEngineConfig config;

  g_return_if_fail (KESTREL_IS_WINDOW (self));
  g_return_if_fail (self->engine == NULL && self->starting_engine == NULL);

  if (crash_marker != self->crash_marker)
    {
      g_free (self->crash_marker);
      self->crash_marker = g_strdup (crash_marker);
    }
  self->start_paused = paused;

  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (self->settings, &config);
  self->starting_engine = kestrel_engine_new (&config);
  kestrel_engine_config_clear (&config);
  kestrel_engine_set_sample_interval (self->starting_engine,
                                      (guint) g_settings_get_int (self->settings, "sample-interval-ms"));
  g_signal_connect_object (self->starting_engine, "event", G_CALLBACK (on_engine_event), self, 0);

  set_subtitle (self, _("Starting…"), NULL);

  data = g_new0 (StartData, 1);
  data->engine = g_object_ref (self->starting_engine);
  data->crash_marker = g_strdup (crash_marker);
  data->begin_us = g_get_monotonic_time ();
  task = g_task_new (NULL, NULL, on_started, g_object_ref (self));
  g_task_set_source_tag (task, kestrel_window_start);
  g_task_set_task_data (task, data, (GDestroyNotify) start_data_free);
  g_task_run_in_thread (task, start_in_thread);
}

const char *
kestrel_window_get_start_error (KestrelWindow *self)
{
  g_return_val_if_fail (KESTREL_IS_WINDOW (self), NULL);

  return self->start_failed ? self->start_error : NULL;
}

KestrelEngine *
kestrel_window_get_engine (KestrelWindow *self)
{
  g_return_val_if_fail (KESTREL_IS_WINDOW (self), NULL);

  return self->engine;
}

void
kestrel_window_stop (KestrelWindow *self)
{
  g_return_if_fail (KESTREL_IS_WINDOW (self));

  g_clear_handle_id (&self->retry_id, g_source_remove);
  /* A start in flight finishes first: stopping an engine that has not
   * started yet would leave its threads running and its marker behind. */
  while (self->starting_engine != NULL)
    g_main_context_iteration (NULL, TRUE);

  g_clear_handle_id (&self->sample_id, g_source_remove);
  g_clear_handle_id (&self->preview_id, g_source_remove);
  if (self->engine == NULL)
    return;
  if (self->controls != NULL)
    kestrel_controls_set_engine (KESTREL_CONTROLS (self->controls), NULL);
  g_signal_handlers_disconnect_by_data (self->engine, self);
  kestrel_engine_stop (self->engine);
  g_clear_object (&self->engine);
}

/* ---- actions -------------------------------------------------------------- */

static void
pause_change_state (GSimpleAction *action,
                    GVariant      *state,
                    gpointer       user_data)
{
  KestrelWindow *self = user_data;

  if (self->engine == NULL)
    return;
  if (g_variant_get_boolean (state))
    kestrel_engine_pause (self->engine);
  else
    kestrel_engine_resume (self->engine);
  update_pause_state (self);
  update_polling (self);
}

static void
rollback_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  KestrelWindow *self = user_data;

  /* Through the settings, so the controls show it and apply it. */
  g_settings_set_string (self->settings, "level", "scalar");
  add_toast (self, _("Rolled back to the scalar reference path"));
}

static void
leave_safe_mode_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  KestrelWindow *self = user_data;
  KestrelEngineConfig config;

  show_safe_mode (self, FALSE);
  if (g_settings_get_enum (self->settings, "level") == KK_LEVEL_SCALAR)
    {
      /* The controls apply it. */
      g_settings_set_string (self->settings, "level", "full");
      return;
    }
  if (self->engine == NULL)
    return;
  kestrel_engine_config_init (&config);
  kestrel_engine_config_from_settings (self->settings, &config);
  kestrel_engine_reconfigure (self->engine, &config);
  kestrel_engine_config_clear (&config);
}

static void
show_events_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  KestrelWindow *self = user_data;

  gtk_window_set_transient_for (self->events_window, GTK_WINDOW (self));
  gtk_window_present (self->events_window);
}

/* The way back from a model or source that cannot be opened: what a new
 * user starts with. Other settings (threads, budget) cannot stop a start
 * and stay as they are. A failed start tries again once the settings have
 * settled (on_settings_changed()). */
static void
use_defaults_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  KestrelWindow *self = user_data;
  static const char *const keys[] = { "model", "model-file", "source-kind", "source-path", "precision" };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_settings_reset (self->settings, keys[i]);
}

static void
open_controls_activated (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  KestrelWindow *self = user_data;

  adw_flap_set_reveal_flap (self->flap, TRUE);
}

/* ---- export ---------------------------------------------------------------- */

gboolean
kestrel_window_export_graphs (KestrelWindow  *self,
                              const char     *path,
                              GError        **error)
{
  KestrelGraphExportFormat format;
  const KestrelGraphExportItem items[] = {
    { self->cpu_graph, "cpu", _("Processor") },
    { self->memory_graph, "memory", _("Memory") },
    { self->growth_graph, "growth", _("Memory Growth") },
    { self->latency_graph, "latency", _("Latency by Stage") },
  };

  g_return_val_if_fail (KESTREL_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!kestrel_graph_export_format_for_path (path, &format, error))
    return FALSE;
  if (format == KESTREL_GRAPH_EXPORT_CSV)
    return kestrel_graph_export_csv (items, G_N_ELEMENTS (items), path, error);
  return kestrel_graph_export_image (items, G_N_ELEMENTS (items), format, path, error);
}

static void
on_export_response (GtkNativeDialog *chooser,
                    int              response,
                    KestrelWindow   *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  GtkFileFilter *filter;

  if (response != GTK_RESPONSE_ACCEPT)
    goto out;
  file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  path = g_file_get_path (file);
  if (path == NULL)
    goto out;
  /* A name typed without its extension gets the chosen type's. */
  filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (chooser));
  if (filter != NULL && g_object_get_data (G_OBJECT (filter), "extension") != NULL)
    {
      KestrelGraphExportFormat format;

      if (!kestrel_graph_export_format_for_path (path, &format, NULL))
        {
          char *with = g_strconcat (path, g_object_get_data (G_OBJECT (filter), "extension"), NULL);
          g_free (path);
          path = with;
        }
    }
  if (kestrel_window_export_graphs (self, path, &error))
    {
      g_autofree char *name = g_path_get_basename (path);
      g_autofree char *title = g_strdup_printf (_("Exported to %s"), name);

      add_toast (self, title);
    }
  else
    {
      /* The message names the file and what went wrong. */
      g_autofree char *title = g_strdup_printf (_("The graphs could not be exported. %s"), error->message);

      add_toast (self, title);
    }
out:
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
add_filter (GtkFileChooser *chooser,
            const char     *name,
            const char     *mime_type,
            const char     *extension)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  gtk_file_filter_add_mime_type (filter, mime_type);
  g_object_set_data_full (G_OBJECT (filter), "extension", g_strdup (extension), g_free);
  gtk_file_chooser_add_filter (chooser, filter);
}

/* GtkFileDialog is GTK 4.10; Debian 12 has 4.8, so the native chooser
 * (the portal's where there is one). */
static void
export_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  KestrelWindow *self = user_data;
  gboolean image = g_str_equal (g_action_get_name (G_ACTION (action)), "export-image");
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (image ? _("Export Graphs as Image") : _("Export History as CSV"),
                                         GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (image)
    {
      add_filter (GTK_FILE_CHOOSER (chooser), _("PNG image"), "image/png", ".png");
      add_filter (GTK_FILE_CHOOSER (chooser), _("SVG drawing"), "image/svg+xml", ".svg");
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "kestrel-graphs.png");
    }
  else
    {
      add_filter (GTK_FILE_CHOOSER (chooser), _("CSV table"), "text/csv", ".csv");
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "kestrel-history.csv");
    }
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  KestrelWindow *self = user_data;

  gtk_window_present (GTK_WINDOW (kestrel_preferences_new (GTK_WINDOW (self), self->settings)));
}

static void
show_p95_toggled (GtkToggleButton *button,
                  KestrelWindow   *self)
{
  guint q = gtk_toggle_button_get_active (button) ? Q95 : Q50;

  for (guint stage = 0; stage < KESTREL_N_STAGES; stage++)
    kestrel_graph_view_set_series_ring (self->latency_graph, stage, self->stage_rings[q][stage]);
}

/* Space pauses and resumes wherever the focus is. The shortcut runs in the
 * capture phase, before the focused widget sees the key: otherwise a
 * focused button (the controls toggle has the focus in a fresh window) or
 * a dropdown row would take the Space for itself. Two places keep it: text
 * fields, where Space is typed, and open popovers (a dropdown's list),
 * where it picks the item under the focus. Returning FALSE lets the key go
 * on to them. */
static gboolean
space_pressed (GtkWidget *widget,
               GVariant  *args,
               gpointer   user_data)
{
  KestrelWindow *self = KESTREL_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  if (focus != NULL &&
      (GTK_IS_EDITABLE (focus) || gtk_widget_get_ancestor (focus, GTK_TYPE_POPOVER) != NULL))
    return FALSE;
  if (!g_action_group_get_action_enabled (G_ACTION_GROUP (self), "pause"))
    return FALSE;
  g_action_group_activate_action (G_ACTION_GROUP (self), "pause", NULL);
  return TRUE;
}

static void
add_space_shortcut (KestrelWindow *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();

  gtk_event_controller_set_name (controller, "kestrel-space-pauses");
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_space, 0),
                                                          gtk_callback_action_new (space_pressed,
                                                                                   NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

static void
add_help_overlay (KestrelWindow *self)
{
  g_autoptr(GtkBuilder) builder =
    gtk_builder_new_from_resource (KESTREL_UI_RESOURCE_PATH "/kestrel-shortcuts.ui");

  /* Sets up win.show-help-overlay too. */
  gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self),
                                           GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder,
                                                                                         "help_overlay")));
}

/* ---- the Benchmark view ---------------------------------------------------- */

/* The header's view switcher. The live view's buttons (controls, pause,
 * roll back) mean nothing in the Benchmark view, and hiding them leaves
 * room for the switcher in a narrow header. */
static void
view_toggled (GtkToggleButton *button,
              KestrelWindow   *self)
{
  gboolean benchmark = gtk_toggle_button_get_active (self->benchmark_button);

  gtk_stack_set_visible_child_name (self->view_stack, benchmark ? "benchmark" : "live");
  /* The suite runs the model the live view is set to. */
  if (benchmark && self->settings != NULL)
    {
      KestrelEngineConfig config;

      kestrel_engine_config_init (&config);
      kestrel_engine_config_from_settings (self->settings, &config);
      kestrel_benchmark_view_set_model (self->benchmark_view, config.model);
      kestrel_engine_config_clear (&config);
    }
  gtk_widget_set_visible (self->controls_button, !benchmark);
  gtk_widget_set_visible (GTK_WIDGET (self->pause_button), !benchmark);
  gtk_widget_set_visible (self->rollback_button, !benchmark && !self->narrow);
}

/* A suite needs the cores to itself: the live pipeline pauses while it
 * runs and resumes after, unless the user had paused it already. */
static void
benchmark_running_changed (GObject       *view,
                           GParamSpec    *pspec,
                           KestrelWindow *self)
{
  gboolean running = kestrel_benchmark_view_get_running (self->benchmark_view);

  if (self->engine == NULL)
    return;
  if (running && kestrel_engine_get_state (self->engine) == KESTREL_ENGINE_RUNNING)
    {
      kestrel_engine_pause (self->engine);
      self->paused_for_benchmark = TRUE;
    }
  else if (!running && self->paused_for_benchmark)
    {
      kestrel_engine_resume (self->engine);
      self->paused_for_benchmark = FALSE;
    }
  update_pause_state (self);
}

static const GActionEntry win_entries[] = {
  { .name = "pause", .state = "false", .change_state = pause_change_state },
  { .name = "rollback", .activate = rollback_activated },
  { .name = "leave-safe-mode", .activate = leave_safe_mode_activated },
  { .name = "show-events", .activate = show_events_activated },
  { .name = "use-defaults", .activate = use_defaults_activated },
  { .name = "open-controls", .activate = open_controls_activated },
  { .name = "preferences", .activate = preferences_activated },
  { .name = "export-history", .activate = export_activated },
  { .name = "export-image", .activate = export_activated },
};

/* ---- the report of a scripted run --------------------------------------- */

static void
add_graph (JsonBuilder      *builder,
           const char       *name,
           KestrelGraphView *graph,
           const char * const *series_ids)
{
  g_autofree KestrelRingSample *points = g_new (KestrelRingSample, KESTREL_RING_MAX_CAPACITY);

  json_builder_set_member_name (builder, name);
  json_builder_begin_object (builder);
  for (guint i = 0; series_ids[i] != NULL; i++)
    {
      json_builder_set_member_name (builder, series_ids[i]);
      json_builder_add_int_value (builder,
                                  kestrel_graph_view_get_points (graph, i, points,
                                                                 KESTREL_RING_MAX_CAPACITY));
    }
  json_builder_end_object (builder);
}

static void
add_number (JsonBuilder *builder,
            const char  *name,
            double       value)
{
  json_builder_set_member_name (builder, name);
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

JsonNode *
kestrel_window_build_report (KestrelWindow *self)
{
  static const char * const cpu_ids[] = { "kestrel", "system", NULL };
  static const char * const memory_ids[] = { "rss", NULL };
  static const char * const growth_ids[] = { "growth", NULL };
  static const char * const latency_ids[] = { "capture", "preprocess", "inference", "decode", NULL };
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_return_val_if_fail (KESTREL_IS_WINDOW (self), NULL);

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "running");
  json_builder_add_boolean_value (builder, self->engine != NULL);
  if (self->start_error != NULL)
    {
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, self->start_error);
    }
  if (self->engine != NULL)
    {
      g_autoptr(KestrelMetricsSnapshot) snap = kestrel_engine_get_snapshot (self->engine);
      g_autoptr(KestrelDetections) detections = kestrel_engine_get_last_detections (self->engine);
      KestrelEngineConfig config;
      guint64 cpu_ns = 0;
      double seconds = (g_get_monotonic_time () - self->started_us) / 1e6;

      kestrel_process_usage_read (&cpu_ns, NULL, NULL);
      add_number (builder, "duration_s", seconds);
      json_builder_set_member_name (builder, "plan_memory");
      json_builder_add_string_value (builder, gtk_label_get_label (GTK_LABEL (self->plan_memory_label)));
      json_builder_set_member_name (builder, "frames_processed");
      json_builder_add_int_value (builder, snap->frames_processed);
      json_builder_set_member_name (builder, "frames_dropped");
      json_builder_add_int_value (builder, snap->frames_dropped);
      json_builder_set_member_name (builder, "faces_last_frame");
      json_builder_add_int_value (builder, detections != NULL ? kestrel_detections_get_n (detections) : 0);
      json_builder_set_member_name (builder, "faces_seen");
      json_builder_add_int_value (builder, snap->faces_seen);
      add_number (builder, "fps", snap->fps);
      /* Over the run, from the process's own CPU time: what top would
       * have averaged, drawing included. */
      add_number (builder, "process_cpu_percent",
                  seconds > 0 ? (cpu_ns - self->cpu_start_ns) / 1e9 / seconds * 100.0 : (double) NAN);
      add_number (builder, "last_sample_process_cpu_percent",
                  snap->have_system ? snap->system.process_cpu_percent : (double) NAN);
      add_number (builder, "rss_mb", snap->have_system ? snap->system.rss_bytes / 1e6 : (double) NAN);
      json_builder_set_member_name (builder, "paused");
      json_builder_add_boolean_value (builder,
                                      kestrel_engine_get_state (self->engine) == KESTREL_ENGINE_PAUSED);

      kestrel_engine_get_config (self->engine, &config);
      json_builder_set_member_name (builder, "engine");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "source");
      json_builder_add_string_value (builder, config.source);
      json_builder_set_member_name (builder, "model");
      json_builder_add_string_value (builder, config.model);
      json_builder_set_member_name (builder, "level");
      json_builder_add_string_value (builder, kk_level_name (config.level));
      json_builder_set_member_name (builder, "precision");
      json_builder_add_string_value (builder, kestrel_precision_name (config.precision));
      json_builder_set_member_name (builder, "threads");
      json_builder_add_int_value (builder, config.threads);
      json_builder_set_member_name (builder, "batch");
      json_builder_add_int_value (builder, config.batch);
      add_number (builder, "budget_percent",
                  config.throttle == KESTREL_THROTTLE_MODE_BUDGET ? config.budget : (double) NAN);
      json_builder_end_object (builder);
      kestrel_engine_config_clear (&config);
    }
  json_builder_set_member_name (builder, "safe_mode");
  json_builder_add_boolean_value (builder, self->safe_mode);

  json_builder_set_member_name (builder, "graphs");
  json_builder_begin_object (builder);
  add_graph (builder, "cpu", self->cpu_graph, cpu_ids);
  add_graph (builder, "memory", self->memory_graph, memory_ids);
  add_graph (builder, "growth", self->growth_graph, growth_ids);
  add_graph (builder, "latency", self->latency_graph, latency_ids);
  json_builder_end_object (builder);

  /* Kestrel's own CPU, sample by sample: what a budget measurement wants
   * once the controller has settled. */
  {
    g_autofree KestrelRingSample *points = g_new (KestrelRingSample, KESTREL_RING_MAX_CAPACITY);
    guint n = kestrel_graph_view_get_points (self->cpu_graph, self->cpu_self, points,
                                             KESTREL_RING_MAX_CAPACITY);

    json_builder_set_member_name (builder, "process_cpu_history");
    json_builder_begin_array (builder);
    for (guint i = 0; i < n; i++)
      json_builder_add_double_value (builder, points[i].value);
    json_builder_end_array (builder);
  }

  json_builder_set_member_name (builder, "settings");
  json_builder_begin_object (builder);
  g_object_get (self->settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_settings_get_value (self->settings, keys[i]);

      json_builder_set_member_name (builder, keys[i]);
      json_builder_add_value (builder, json_gvariant_serialize (value));
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "events");
  json_builder_add_value (builder, kestrel_event_log_to_json (self->events));

  /* What a user sees: the toasts up now, the subtitle, and the failure
   * page when it is up. */
  json_builder_set_member_name (builder, "toasts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < N_EVENT_KINDS; i++)
    if (self->toasts[i] != NULL)
      json_builder_add_string_value (builder, adw_toast_get_title (self->toasts[i]));
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "subtitle");
  json_builder_add_string_value (builder, adw_window_title_get_subtitle (self->window_title));
  if (self->failure_page != NULL && adw_bin_get_child (self->preview_bin) == self->failure_page)
    {
      json_builder_set_member_name (builder, "failure_page");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, adw_status_page_get_title (ADW_STATUS_PAGE (self->failure_page)));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder,
                                     adw_status_page_get_description (ADW_STATUS_PAGE (self->failure_page)));
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

gboolean
kestrel_window_save_png (KestrelWindow  *self,
                         const char     *path,
                         GError        **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  g_return_val_if_fail (KESTREL_IS_WINDOW (self), FALSE);

  if (!gtk_widget_get_realized (GTK_WIDGET (self)) || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cannot save %s: the window is not shown", path);
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (GTK_WIDGET (self));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cannot save %s: the window drew nothing", path);
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (self)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

/* ---- life cycle ----------------------------------------------------------- */

static gboolean
kestrel_window_close_request (GtkWindow *window)
{
  KestrelWindow *self = KESTREL_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->window_settings, "window-width", width);
  g_settings_set_int (self->window_settings, "window-height", height);
  g_settings_set_boolean (self->window_settings, "window-maximized",
                          gtk_window_is_maximized (window));
  kestrel_window_stop (self);

  return GTK_WINDOW_CLASS (kestrel_window_parent_class)->close_request (window);
}

static void
setup_graphs (KestrelWindow *self)
{
  guint history = (guint) g_settings_get_int (self->settings, "history-points");
  guint interval = (guint) g_settings_get_int (self->settings, "sample-interval-ms");
  KestrelGraphView *graphs[] = {
    self->cpu_graph, self->memory_graph, self->growth_graph, self->agreement_graph, self->latency_graph,
  };
  static const char *stage_classes[KESTREL_N_STAGES] = { "neutral", "purple", "accent", "success" };
  const char *stage_labels[KESTREL_N_STAGES] = {
    C_("latency stage", "Capture"),
    C_("latency stage", "Preprocess"),
    C_("latency stage", "Inference"),
    C_("latency stage", "Decode"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (graphs); i++)
    {
      kestrel_graph_view_set_history_length (graphs[i], history);
      kestrel_graph_view_set_refresh_interval (graphs[i], interval);
      /* The time axis: history-points sample intervals, the same for all. */
      kestrel_graph_view_set_sample_interval (graphs[i], interval);
    }

  self->cpu_self = kestrel_graph_view_add_series (self->cpu_graph, _("Kestrel"), "accent");
  self->cpu_system = kestrel_graph_view_add_series (self->cpu_graph, _("System"), "neutral");
  kestrel_graph_view_set_reference_label (self->cpu_graph, _("Budget"));

  self->memory_rss = kestrel_graph_view_add_series (self->memory_graph, _("Resident (MB)"), "accent");
  self->memory_growth = kestrel_graph_view_add_series (self->growth_graph, _("Growth (MB/h)"), "warning");
  self->agreement = kestrel_graph_view_add_series (self->agreement_graph, _("Agreement (%)"), "success");

  for (guint q = 0; q < N_QUANTILES; q++)
    for (guint stage = 0; stage < KESTREL_N_STAGES; stage++)
      self->stage_rings[q][stage] = kestrel_ring_new (LATENCY_RING_CAPACITY);
  for (guint stage = 0; stage < KESTREL_N_STAGES; stage++)
    {
      guint series = kestrel_graph_view_add_series (self->latency_graph, stage_labels[stage],
                                                    stage_classes[stage]);
      kestrel_graph_view_set_series_ring (self->latency_graph, series, self->stage_rings[Q50][stage]);
    }
}

static void
kestrel_window_constructed (GObject *object)
{
  KestrelWindow *self = KESTREL_WINDOW (object);

  G_OBJECT_CLASS (kestrel_window_parent_class)->constructed (object);

  g_return_if_fail (G_IS_SETTINGS (self->settings));

  self->window_settings = g_settings_new (KESTREL_APPLICATION_ID);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->window_settings, "window-width"),
                               g_settings_get_int (self->window_settings, "window-height"));
  if (g_settings_get_boolean (self->window_settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  self->preview = g_object_ref_sink (kestrel_preview_new ());
  adw_bin_set_child (self->preview_bin, self->preview);
  self->controls = kestrel_controls_new (self->settings);
  gtk_scrolled_window_set_child (self->controls_scroller, self->controls);

  /* Its "Use This Configuration" goes through the settings like the
   * controls' rows, and its "Best Under Budget" reads the budget there. */
  kestrel_benchmark_view_set_settings (self->benchmark_view, self->settings);

  setup_graphs (self);
  g_signal_connect_object (self->settings, "changed", G_CALLBACK (on_settings_changed), self, 0);
  update_pause_state (self);
  update_rollback_enabled (self);
}

static void
kestrel_window_dispose (GObject *object)
{
  KestrelWindow *self = KESTREL_WINDOW (object);

  kestrel_window_stop (self);
  g_clear_handle_id (&self->narrow_id, g_source_remove);
  /* A window of its own: it goes with this one. */
  if (self->events_window != NULL)
    gtk_window_destroy (self->events_window);
  gtk_widget_dispose_template (GTK_WIDGET (self), KESTREL_TYPE_WINDOW);

  G_OBJECT_CLASS (kestrel_window_parent_class)->dispose (object);
}

static void
kestrel_window_finalize (GObject *object)
{
  KestrelWindow *self = KESTREL_WINDOW (object);

  for (guint q = 0; q < N_QUANTILES; q++)
    for (guint stage = 0; stage < KESTREL_N_STAGES; stage++)
      g_clear_pointer (&self->stage_rings[q][stage], kestrel_ring_unref);
  g_clear_pointer (&self->events, kestrel_event_log_free);
  for (guint i = 0; i < N_EVENT_KINDS; i++)
    g_clear_pointer (&self->toast_titles[i], g_free);
  g_clear_object (&self->preview);
  g_clear_object (&self->failure_page);
  g_clear_pointer (&self->crash_marker, g_free);
  g_clear_pointer (&self->start_error, g_free);
  g_clear_object (&self->settings);
  g_clear_object (&self->window_settings);

  G_OBJECT_CLASS (kestrel_window_parent_class)->finalize (object);
}

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kestrel_window_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KestrelWindow *self = KESTREL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_window_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  KestrelWindow *self = KESTREL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_window_class_init (KestrelWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = kestrel_window_constructed;
  object_class->dispose = kestrel_window_dispose;
  object_class->finalize = kestrel_window_finalize;
  object_class->get_property = kestrel_window_get_property;
  object_class->set_property = kestrel_window_set_property;
  widget_class->realize = kestrel_window_realize;
  widget_class->unrealize = kestrel_window_unrealize;
  widget_class->map = kestrel_window_map;
  widget_class->unmap = kestrel_window_unmap;
  widget_class->size_allocate = kestrel_window_size_allocate;
  window_class->close_request = kestrel_window_close_request;

  /**
   * KestrelWindow:settings:
   *
   * The org.kestrel.Kestrel settings the engine, the controls and the
   * graphs follow.
   */
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KestrelWindow::started:
   * @error_message: (nullable): why the pipeline could not start, or %NULL
   *
   * The pipeline started by kestrel_window_start() runs, or failed.
   */
  signals[STARTED] = g_signal_new ("started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  kestrel_ui_init ();
  g_type_ensure (KESTREL_TYPE_GRAPH_VIEW);
  g_type_ensure (KESTREL_TYPE_DASHBOARD);
  g_type_ensure (KESTREL_TYPE_BENCHMARK_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               KESTREL_UI_RESOURCE_PATH "/kestrel-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, window_title_short);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, rollback_button);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, pause_button);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, safe_mode_revealer);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, controls_scroller);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, preview_bin);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, cpu_graph);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, memory_graph);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, growth_graph);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, agreement_label);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, plan_memory_label);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, agreement_graph);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, latency_graph);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, p95_button);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, events_window);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, events_empty);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, events_scroller);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, events_list);
  gtk_widget_class_bind_template_callback (widget_class, show_p95_toggled);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, benchmark_button);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, controls_button);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, benchmark_view);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, switcher_squeezer);
  gtk_widget_class_bind_template_child (widget_class, KestrelWindow, switcher_bar);
  gtk_widget_class_bind_template_callback (widget_class, view_toggled);
  gtk_widget_class_bind_template_callback (widget_class, benchmark_running_changed);
}

static void
kestrel_window_init (KestrelWindow *self)
{
  g_autoptr(GPropertyAction) show_controls = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->events = kestrel_event_log_new (self->events_list, self->events_empty, self->events_scroller);
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries), self);
  show_controls = g_property_action_new ("show-controls", self->flap, "reveal-flap");
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (show_controls));
  add_space_shortcut (self);
  add_help_overlay (self);
}

KestrelWindow *
kestrel_window_new (GtkApplication *application,
                    GSettings      *settings)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (KESTREL_TYPE_WINDOW,
                       "application", application,
                       "settings", settings,
                       NULL);
}
