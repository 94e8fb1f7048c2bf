/* blazeface-anchors.c — SSD anchors with a fixed size (see the header). */
#include "config.h"

#include "blazeface-anchors.h"
#include "kestrel-error.h"

static void
options_mediapipe (BfAnchorOptions *options, guint size, guint stride0, guint stride1)
{
  *options = (BfAnchorOptions) {
    .input_width = size,
    .input_height = size,
    .n_layers = 4,
    .strides = { stride0, stride1, stride1, stride1 },
    .anchors_per_layer = 2,
    .offset_x = 0.5f,
    .offset_y = 0.5f,
  };
}

void
bf_anchor_options_front (BfAnchorOptions *options)
{
  options_mediapipe (options, 128, 8, 16);
}

void
bf_anchor_options_back (BfAnchorOptions *options)
{
  options_mediapipe (options, 256, 16, 32);
}

static guint
cells (guint size, guint stride)
{
  return (size + stride - 1) / stride;   /* MediaPipe rounds the feature map up */
}

gboolean
bf_anchor_options_derive (guint input_width, guint input_height, const guint *head_counts,
                          const guint *head_layers, guint n_heads, BfAnchorOptions *options,
                          GError **error)
{
  const guint per_layer = 2;
  guint n_layers = 0;

  g_return_val_if_fail (options != NULL, FALSE);

  *options = (BfAnchorOptions) {
    .input_width = input_width,
    .input_height = input_height,
    .anchors_per_layer = per_layer,
    .offset_x = 0.5f,
    .offset_y = 0.5f,
  };
  if (input_width == 0 || input_height == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "input size %ux%u", input_width,
                   input_height);
      return FALSE;
    }

  for (guint h = 0; h < n_heads; h++)
    {
      guint per_cell = head_layers[h] * per_layer;
      guint stride = 0;

      if (n_layers + head_layers[h] > BF_MAX_LAYERS)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "more than %d anchor layers",
                       BF_MAX_LAYERS);
          return FALSE;
        }
      /* The smallest stride whose grid holds exactly this head's anchors;
       * strides only grow from one head to the next. */
      for (guint s = n_layers > 0 ? options->strides[n_layers - 1] + 1 : 1;
           s <= MAX (input_width, input_height) && stride == 0; s++)
        if ((guint64) cells (input_width, s) * cells (input_height, s) * per_cell == head_counts[h])
          stride = s;
      if (stride == 0)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                       "no anchor grid over a %ux%u input has %u anchors with %u per cell", input_width,
                       input_height, head_counts[h], per_cell);
          return FALSE;
        }
      for (guint l = 0; l < head_layers[h]; l++)
        options->strides[n_layers++] = stride;
    }
  options->n_layers = n_layers;
  return TRUE;
}

/* Counts the anchors and writes the first max_anchors of them, in
 * MediaPipe's order: layers of one stride share a grid; within it row,
 * column, then that grid's anchors. */
static guint
walk (const BfAnchorOptions *o, BfAnchor *anchors, guint max_anchors)
{
  guint n = 0;

  for (guint layer = 0; layer < o->n_layers;)
    {
      guint same = 1;
      while (layer + same < o->n_layers && o->strides[layer + same] == o->strides[layer])
        same++;

      guint stride = o->strides[layer];
      guint grid_w = cells (o->input_width, stride), grid_h = cells (o->input_height, stride);
      guint per_cell = same * o->anchors_per_layer;

      for (guint y = 0; y < grid_h; y++)
        for (guint x = 0; x < grid_w; x++)
          for (guint a = 0; a < per_cell; a++, n++)
            if (anchors != NULL && n < max_anchors)
              anchors[n] = (BfAnchor) {
                .x = ((float) x + o->offset_x) / (float) grid_w,
                .y = ((float) y + o->offset_y) / (float) grid_h,
              };
      layer += same;
    }
  return n;
}

guint
bf_anchors_count (const BfAnchorOptions *options)
{
  g_return_val_if_fail (options != NULL, 0);
  return walk (options, NULL, 0);
}

guint
bf_anchors_generate (const BfAnchorOptions *options, BfAnchor *anchors, guint max_anchors)
{
  g_return_val_if_fail (options != NULL, 0);
  return walk (options, anchors, max_anchors);
}
