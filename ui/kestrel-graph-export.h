/* kestrel-graph-export.h — the graphs, out of the window: their history as
 * CSV, and what they show now as a PNG or SVG picture.
 *
 * CSV has one row per sample (RFC 4180, '.' decimals whatever the locale):
 *   time,seconds,graph,series,value
 * time is ISO 8601 UTC; seconds is the sample's age at the export, <= 0;
 * graph is the caller's id for the graph ("cpu", "memory", ...); series is
 * the legend's label; value is the series' own value (not the stacked top).
 * Each series gives the samples its graph shows (its history length).
 *
 * The pictures are the graphs' own drawing (their GtkSnapshot render nodes,
 * drawn with cairo), stacked one above the other under a title each, on the
 * window's background colour: the same picture in both formats; the SVG
 * holds it as an image at twice the resolution (see the .c file for why
 * not as vector paths).
 */
#pragma once

#include "kestrel-graph-view.h"

G_BEGIN_DECLS

typedef struct {
  KestrelGraphView *graph;
  const char       *id;     /* for CSV */
  const char       *title;  /* for pictures, translated */
} KestrelGraphExportItem;

typedef enum {
  KESTREL_GRAPH_EXPORT_CSV,
  KESTREL_GRAPH_EXPORT_PNG,
  KESTREL_GRAPH_EXPORT_SVG,
} KestrelGraphExportFormat;

/* The format a file name asks for by its extension (case-insensitive);
 * FALSE, with an error naming the extensions, for anything else. */
gboolean kestrel_graph_export_format_for_path (const char                *path,
                                               KestrelGraphExportFormat  *format,
                                               GError                   **error);

gboolean kestrel_graph_export_csv   (const KestrelGraphExportItem *items,
                                     guint                         n_items,
                                     const char                   *path,
                                     GError                      **error);

/* @format: PNG or SVG. The graphs must be shown (realized, with a size). */
gboolean kestrel_graph_export_image (const KestrelGraphExportItem *items,
                                     guint                         n_items,
                                     KestrelGraphExportFormat      format,
                                     const char                   *path,
                                     GError                      **error);

G_END_DECLS
