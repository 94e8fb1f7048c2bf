/* blazeface-anchors.h — the SSD anchors BlazeFace's outputs are relative to.
 *
 * BlazeFace predicts, for every anchor, a score and an offset from the
 * anchor's centre. The anchors are the ones MediaPipe's SSD anchor generator
 * makes from these options:
 *
 *                      front (128x128)     back (256x256)
 *   layers             4                   4
 *   strides            8, 16, 16, 16       16, 32, 32, 32
 *   anchor offset      0.5, 0.5            0.5, 0.5
 *   aspect ratios      1.0, plus the interpolated scale (aspect 1.0)
 *   fixed anchor size  yes (every anchor is 1 x 1)
 *
 * Consecutive layers with the same stride share one feature map, so the
 * first layer gives a 16x16 grid with 2 anchors per cell (512) and the three
 * others an 8x8 grid with 3 x 2 = 6 anchors per cell (384): 896 in all, in
 * the order row, column, anchor. With a fixed anchor size the scales of the
 * layers (min 0.1484375 / 0.15625, max 0.75) do not change any anchor, so
 * they are not needed here.
 *
 * The two models' outputs come in two heads (512 and 384 anchors); the
 * grids are derived from those counts and the input size, which gives the
 * options above exactly (a test checks it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BF_MAX_LAYERS 8

typedef struct {
  float x, y;  /* centre, as a fraction of the input width / height */
} BfAnchor;

typedef struct {
  guint input_width, input_height;
  guint n_layers;
  guint strides[BF_MAX_LAYERS];
  guint anchors_per_layer;     /* per cell and layer */
  float offset_x, offset_y;    /* of the centre within its cell */
} BfAnchorOptions;

void bf_anchor_options_front (BfAnchorOptions *options);
void bf_anchor_options_back (BfAnchorOptions *options);

/* Options for an input of this size whose outputs come in heads of
 * head_counts[h] anchors, head h covering head_layers[h] layers of the same
 * stride (BlazeFace: { 512, 384 } anchors over { 1, 3 } layers). FALSE with
 * a message when no stride gives those counts. */
gboolean bf_anchor_options_derive (guint input_width, guint input_height, const guint *head_counts,
                                   const guint *head_layers, guint n_heads, BfAnchorOptions *options,
                                   GError **error);

guint bf_anchors_count (const BfAnchorOptions *options);
/* Writes min (count, max_anchors) anchors; returns the count. */
guint bf_anchors_generate (const BfAnchorOptions *options, BfAnchor *anchors, guint max_anchors);

G_END_DECLS
