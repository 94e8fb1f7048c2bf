/* kestrel-output-summary.h — what a model's outputs say, for a model no
 * task decoder understands: the window's preview and `kestrel-cli run`
 * show it instead of detections.
 *
 * What the outputs mean is not known, so the summary goes by their shapes:
 *  - classes: one output with one axis of two or more values ([1,N],
 *    [1,N,1,1]): the top five, with their share after a softmax (or the
 *    values themselves when they already are probabilities);
 *  - heat map: an output that is one map of at least 4x4 ([1,1,H,W],
 *    [1,H,W,1]; [1,H,W] only when at least 8x8 and no longer than 4 times
 *    its width, as [1,N,C] is more often N candidates of C values): the
 *    map, averaged down to at most KESTREL_SUMMARY_MAP_SIDE cells along
 *    its longer side, aspect kept, and scaled to 0..1;
 *  - statistics otherwise: each output's shape, minimum, maximum, mean and
 *    standard deviation.
 * Everything is kept inline, so a summary filled again for every frame
 * allocates nothing.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KESTREL_SUMMARY_TOP_K 5
#define KESTREL_SUMMARY_MAP_SIDE 64
#define KESTREL_SUMMARY_MAX_OUTPUTS 8
#define KESTREL_SUMMARY_NAME_SIZE 64

typedef enum {
  KESTREL_SUMMARY_NONE,
  KESTREL_SUMMARY_CLASSES,
  KESTREL_SUMMARY_HEAT_MAP,
  KESTREL_SUMMARY_STATISTICS,
} KestrelSummaryKind;

typedef struct {
  char name[KESTREL_SUMMARY_NAME_SIZE];
  char shape[KESTREL_SUMMARY_NAME_SIZE];     /* "1x3549x85" */
  double min, max, mean, stddev;
  guint64 n_not_finite;                      /* NaN and infinities, left out of the others */
} KestrelOutputStatistics;

typedef struct {
  KestrelSummaryKind kind;
  char output[KESTREL_SUMMARY_NAME_SIZE];    /* the output summarised (classes, heat map) */

  /* Classes: best first. */
  guint n_classes;
  guint n_top;
  guint top_class[KESTREL_SUMMARY_TOP_K];
  float top_value[KESTREL_SUMMARY_TOP_K];        /* as the model gave it */
  float top_probability[KESTREL_SUMMARY_TOP_K];  /* after a softmax, unless already probabilities */

  /* Heat map: map_width x map_height cells, row-major, 0..1 between the
   * map's lowest and highest values; map_full_* is the model's size. */
  guint map_width, map_height;
  guint map_full_width, map_full_height;
  float map_min, map_max;
  float map[KESTREL_SUMMARY_MAP_SIDE * KESTREL_SUMMARY_MAP_SIDE];

  /* Statistics: every output (the first KESTREL_SUMMARY_MAX_OUTPUTS). */
  guint n_outputs;
  KestrelOutputStatistics outputs[KESTREL_SUMMARY_MAX_OUTPUTS];
} KestrelOutputSummary;

/* One float32 output as the summary reads it. */
typedef struct {
  const char *name;
  guint n_dims;
  const gint64 *shape;
  const float *data;
  gsize n_elements;
} KestrelSummaryInput;

void  kestrel_output_summary_compute   (KestrelOutputSummary      *summary,
                                        const KestrelSummaryInput *outputs,
                                        guint                      n_outputs);

/* One line for a terminal: "classes: 281 (62.1 %), 282 (20.3 %), ...",
 * "heat map 'segments' 14x14: 0.02 to 0.98", or the statistics. */
char *kestrel_output_summary_to_string (const KestrelOutputSummary *summary);

const char *kestrel_summary_kind_name  (KestrelSummaryKind kind);

G_END_DECLS
