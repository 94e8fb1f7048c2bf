/* kestrel-bench-table.c — see kestrel-bench-table.h.
 *
 * A GtkGrid rebuilt whenever the result or the order changes: a few dozen
 * cells at most, so a list model and factories would buy nothing.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-table.h"

struct _KestrelBenchTable
{
  GtkWidget parent_instance;

  GtkWidget *grid;
  const KestrelBenchResult *result;
  GPtrArray *rows;              /* borrowed cells, in the order shown */
  KestrelBenchColumn sort_column;
  gboolean descending;
  gboolean can_use;
};

enum { SIGNAL_USE_CELL, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KestrelBenchTable, kestrel_bench_table, GTK_TYPE_WIDGET)

static const char *const headings[KESTREL_BENCH_N_COLUMNS] = {
  N_("Configuration"), N_("Median ms"), N_("p90 ms"), N_("Frames/s"), N_("CPU ms/frame"), N_("SQNR dB"),
  N_("Faces agreeing"),
};

char *
kestrel_bench_faces_text (const KestrelBenchCell *c)
{
  double agreeing = kestrel_bench_cell_get_faces_agreeing (c);

  if (isnan (agreeing))
    return g_strdup ("–");
  if (c->faces_extra > 0)
    /* TRANSLATORS: faces agreeing: percent, matched of FP32's faces, and
     * faces only this configuration found */
    return g_strdup_printf (_("%.0f %% (%u of %d, %u extra)"), 100 * agreeing, c->faces_matched, c->faces_fp32,
                            c->faces_extra);
  return g_strdup_printf (_("%.0f %% (%u of %d)"), 100 * agreeing, c->faces_matched, c->faces_fp32);
}

/* `decimals` after the point; "exact" for an infinite SQNR. */
static char *
number (double v, int decimals)
{
  if (isinf (v))
    return g_strdup (_("exact"));
  return isfinite (v) ? g_strdup_printf ("%.*f", decimals, v) : g_strdup ("–");
}

static double
sort_value (const KestrelBenchCell *c, KestrelBenchColumn column)
{
  switch (column)
    {
    case KESTREL_BENCH_COLUMN_MEDIAN: return c->median_ms;
    case KESTREL_BENCH_COLUMN_P90: return c->p90_ms;
    case KESTREL_BENCH_COLUMN_FRAMES: return c->frames_per_s;
    case KESTREL_BENCH_COLUMN_CPU: return c->cpu_ms_per_frame;
    case KESTREL_BENCH_COLUMN_SQNR: return c->sqnr_db;
    case KESTREL_BENCH_COLUMN_FACES: return kestrel_bench_cell_get_faces_agreeing (c);
    case KESTREL_BENCH_COLUMN_CONFIGURATION:
    case KESTREL_BENCH_N_COLUMNS:
      break;
    }
  return NAN;
}

static int
compare_rows (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  KestrelBenchTable *self = user_data;
  const KestrelBenchCell *a = *(KestrelBenchCell *const *) pa, *b = *(KestrelBenchCell *const *) pb;
  int order;

  if (self->sort_column == KESTREL_BENCH_COLUMN_CONFIGURATION)
    {
      g_autofree char *la = kestrel_bench_cell_dup_label (a);
      g_autofree char *lb = kestrel_bench_cell_dup_label (b);
      order = g_strcmp0 (la, lb);
    }
  else
    {
      double x = sort_value (a, self->sort_column), y = sort_value (b, self->sort_column);
      /* Unknown values go last whichever the direction. */
      if (isnan (x) || isnan (y))
        return isnan (x) - isnan (y);
      order = x < y ? -1 : x > y ? 1 : 0;
    }
  return self->descending ? -order : order;
}

static GtkWidget *
cell_label (const char *text, gboolean numeric)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1.0f : 0.0f);
  gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  return label;
}

/* A validity note: core's sentence shown whole, in the warning colour,
 * never only in a tooltip. */
static GtkWidget *
note_label (const char *sentence)
{
  g_autofree char *text = g_strdup_printf ("⚠ %s", sentence);
  GtkWidget *note = cell_label (text, FALSE);

  gtk_label_set_wrap (GTK_LABEL (note), TRUE);
  gtk_widget_add_css_class (note, "warning");
  gtk_widget_add_css_class (note, "caption");
  gtk_widget_set_margin_start (note, 8);
  return note;
}

static void
heading_clicked (GtkButton *button, KestrelBenchTable *self)
{
  KestrelBenchColumn column = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "column"));

  /* Numbers first sort best-first where "best" is clear (fast, accurate);
   * a second click turns the order round. */
  if (column == self->sort_column)
    kestrel_bench_table_sort (self, column, !self->descending);
  else
    kestrel_bench_table_sort (self, column, column == KESTREL_BENCH_COLUMN_FRAMES
                                                || column == KESTREL_BENCH_COLUMN_SQNR
                                                || column == KESTREL_BENCH_COLUMN_FACES);
}

static void
use_clicked (GtkButton *button, KestrelBenchTable *self)
{
  g_signal_emit (self, signals[SIGNAL_USE_CELL], 0, g_object_get_data (G_OBJECT (button), "cell"));
}

static GtkWidget *
heading_button (KestrelBenchTable *self, KestrelBenchColumn column)
{
  g_autofree char *text = column == self->sort_column
                          ? g_strdup_printf ("%s %s", _(headings[column]), self->descending ? "↓" : "↑")
                          : g_strdup (_(headings[column]));
  GtkWidget *button = gtk_button_new ();
  GtkWidget *label = cell_label (text, column != KESTREL_BENCH_COLUMN_CONFIGURATION);

  gtk_widget_add_css_class (label, "heading");
  gtk_button_set_child (GTK_BUTTON (button), label);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_add_css_class (button, "sort-heading");
  gtk_widget_set_tooltip_text (button, _("Sort by this column"));
  g_object_set_data (G_OBJECT (button), "column", GUINT_TO_POINTER (column));
  g_signal_connect (button, "clicked", G_CALLBACK (heading_clicked), self);
  return button;
}

static void
rebuild (KestrelBenchTable *self)
{
  GtkGrid *grid = GTK_GRID (self->grid);
  GtkWidget *child;
  int row = 0;

  while ((child = gtk_widget_get_first_child (self->grid)) != NULL)
    gtk_grid_remove (grid, child);
  g_ptr_array_set_size (self->rows, 0);
  if (self->result == NULL)
    return;
  for (guint i = 0; i < self->result->cells->len; i++)
    g_ptr_array_add (self->rows, self->result->cells->pdata[i]);
  if (self->sort_column < KESTREL_BENCH_N_COLUMNS)
    g_ptr_array_sort_with_data (self->rows, compare_rows, self);

  /* Column 0 holds the Use buttons: first, so a narrow window that
   * scrolls the table sideways still shows them. */
  for (guint h = 0; h < KESTREL_BENCH_N_COLUMNS; h++)
    gtk_grid_attach (grid, heading_button (self, h), h + 1, row, 1, 1);
  row++;
  for (guint i = 0; i < self->rows->len; i++)
    {
      const KestrelBenchCell *c = self->rows->pdata[i];
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      g_autofree char *median = number (c->median_ms, 3);
      g_autofree char *p90 = number (c->p90_ms, 3);
      g_autofree char *fps = number (c->frames_per_s, 1);
      g_autofree char *cpu = number (c->cpu_ms_per_frame, 3);
      g_autofree char *sqnr = number (c->sqnr_db, 1);
      g_autofree char *faces = kestrel_bench_faces_text (c);
      const char *texts[KESTREL_BENCH_N_COLUMNS] = { label, median, p90, fps, cpu, sqnr, faces };

      if (self->can_use && g_strcmp0 (c->engine, "kestrel") == 0)
        {
          GtkWidget *use = gtk_button_new_with_label (_("Use"));
          gtk_widget_set_tooltip_text (use, _("Use This Configuration: its precision, level, threads and batch "
                                              "become the live view’s"));
          gtk_widget_add_css_class (use, "use-configuration");
          gtk_widget_set_valign (use, GTK_ALIGN_CENTER);
          g_object_set_data (G_OBJECT (use), "cell", (gpointer) c);
          g_signal_connect (use, "clicked", G_CALLBACK (use_clicked), self);
          gtk_grid_attach (grid, use, 0, row, 1, 1);
        }
      for (guint k = 0; k < KESTREL_BENCH_N_COLUMNS; k++)
        {
          GtkWidget *cell = cell_label (texts[k], k > 0);
          /* Pad like the heading buttons, so numbers sit under their names. */
          gtk_widget_set_margin_start (cell, 8);
          gtk_widget_set_margin_end (cell, 8);
          gtk_grid_attach (grid, cell, k + 1, row, 1, 1);
        }
      row++;
      /* The validity notes under the cell's numbers. */
      for (guint n = 0; n < c->notes->len; n++)
        gtk_grid_attach (grid, note_label (c->notes->pdata[n]), 1, row++, KESTREL_BENCH_N_COLUMNS, 1);
    }
  /* The run's own notes (no cpufreq, the machine's speed changed, no
   * photos) after the cells, the same way. */
  for (guint n = 0; n < self->result->notes->len; n++)
    {
      GtkWidget *note = note_label (self->result->notes->pdata[n]);
      gtk_widget_set_margin_top (note, 6);
      gtk_grid_attach (grid, note, 1, row++, KESTREL_BENCH_N_COLUMNS, 1);
    }
}

void
kestrel_bench_table_set_result (KestrelBenchTable *self, const KestrelBenchResult *result)
{
  g_return_if_fail (KESTREL_IS_BENCH_TABLE (self));
  self->result = result;
  rebuild (self);
}

void
kestrel_bench_table_sort (KestrelBenchTable *self, KestrelBenchColumn column, gboolean descending)
{
  g_return_if_fail (KESTREL_IS_BENCH_TABLE (self) && column < KESTREL_BENCH_N_COLUMNS);
  self->sort_column = column;
  self->descending = descending;
  rebuild (self);
}

const KestrelBenchCell *
kestrel_bench_table_get_row_cell (KestrelBenchTable *self, guint row)
{
  g_return_val_if_fail (KESTREL_IS_BENCH_TABLE (self), NULL);
  return row < self->rows->len ? self->rows->pdata[row] : NULL;
}

void
kestrel_bench_table_set_can_use (KestrelBenchTable *self, gboolean can_use)
{
  g_return_if_fail (KESTREL_IS_BENCH_TABLE (self));
  if (self->can_use == can_use)
    return;
  self->can_use = can_use;
  rebuild (self);
}

static void
kestrel_bench_table_init (KestrelBenchTable *self)
{
  self->rows = g_ptr_array_new ();
  /* The run's own order (the matrix's) until a heading is clicked. */
  self->sort_column = KESTREL_BENCH_N_COLUMNS;
  self->grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 0);
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 2);
  gtk_widget_set_parent (self->grid, GTK_WIDGET (self));
}

static void
kestrel_bench_table_dispose (GObject *object)
{
  KestrelBenchTable *self = KESTREL_BENCH_TABLE (object);

  g_clear_pointer (&self->grid, gtk_widget_unparent);
  G_OBJECT_CLASS (kestrel_bench_table_parent_class)->dispose (object);
}

static void
kestrel_bench_table_finalize (GObject *object)
{
  g_ptr_array_unref (KESTREL_BENCH_TABLE (object)->rows);
  G_OBJECT_CLASS (kestrel_bench_table_parent_class)->finalize (object);
}

static void
kestrel_bench_table_class_init (KestrelBenchTableClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kestrel_bench_table_dispose;
  object_class->finalize = kestrel_bench_table_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "benchtable");
  /* ::use-cell (const KestrelBenchCell *cell): a row's Use button. */
  signals[SIGNAL_USE_CELL] = g_signal_new ("use-cell", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

GtkWidget *
kestrel_bench_table_new (void)
{
  return g_object_new (KESTREL_TYPE_BENCH_TABLE, NULL);
}
